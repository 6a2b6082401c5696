import type { CampaignRepository } from '../campaigns/repository.ts';
import { parseCampaignId } from '../campaigns/id.ts';
import type { ImageStore } from '../images/store.ts';
import {
  NoImagesToExportError,
  planExport,
  writeExport,
  writeStorybook,
  zipPartBuffer,
  type ExportPart,
  type ExportPlan,
  type ExportProgress,
} from './export.ts';
import { readStory } from './storybook.ts';

/** Collaborators of {@link ExportCampaign}. */
export interface ExportDeps {
  readonly campaigns: CampaignRepository;
  readonly images: ImageStore;
}

/**
 * The use case "export a campaign", for every door: plans the campaign's pictures into zip parts of
 * at most `maxPartBytes` (names, manifest, oversize pictures as JPEG), then packs them one part at a
 * time, to memory (the bot uploads each part) or to a folder (the CLI), each zip with its storybook.html.
 */
export class ExportCampaign {
  constructor(private readonly deps: ExportDeps) {}

  /**
   * @param request.maxPartBytes - Largest zip, bytes; one zip when absent.
   * @throws InvalidCampaignIdError, NoImagesToExportError, ExportLimitTooSmallError, ImageFileMissingError.
   */
  async plan(request: { readonly campaignId: string; readonly maxPartBytes?: number }): Promise<ExportPlan> {
    const campaignId = parseCampaignId(request.campaignId);
    const images = await this.deps.images.list(campaignId);
    if (images.length === 0) throw new NoImagesToExportError();
    const name = (await this.deps.campaigns.list()).find((c) => c.id === campaignId)?.name ?? '';
    const { attribution, quotes } = await readStory(
      this.deps.campaigns,
      campaignId,
      images.map((r) => r.turn),
    );
    return planExport({
      campaign: { id: campaignId, name: name === '(invalid campaign.yaml)' ? campaignId : name, ...(attribution ? { attribution } : {}) },
      images,
      quotes,
      storage: this.deps.images.storage,
      ...(request.maxPartBytes === undefined ? {} : { maxPartBytes: request.maxPartBytes }),
    });
  }

  /** One part's zip in memory. @param onImage - Told after each picture is added. */
  zip(part: ExportPart, onImage?: () => void): Promise<Buffer> {
    return zipPartBuffer(part, onImage);
  }

  /**
   * Writes every part into `dir` (created when missing); returns the files' absolute paths.
   * @throws the file system's errors; a part is written whole or not at all.
   */
  write(plan: ExportPlan, dir: string, options: { onProgress?: (progress: ExportProgress) => void } = {}): Promise<string[]> {
    return writeExport(plan, dir, options);
  }

  /**
   * Writes the storybook page (`storybook.html`, the same page as in each zip) with the pictures
   * beside it into `dir`; returns the page's absolute path.
   */
  writeStorybook(plan: ExportPlan, dir: string): Promise<string> {
    return writeStorybook(plan, dir);
  }
}
