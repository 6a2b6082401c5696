import type { CampaignRepository } from '../campaigns/repository.ts';
import { parseCampaignId } from '../campaigns/id.ts';
import type { ImageStore } from '../images/store.ts';
import { NoImagesToExportError, planExport, writeExport, zipPartBuffer, type ExportPart, type ExportPlan, type ExportProgress } from './export.ts';

/** Collaborators of {@link ExportCampaign}. */
export interface ExportDeps {
  readonly campaigns: CampaignRepository;
  readonly images: ImageStore;
}

/**
 * The use case "export a campaign", for every door: plans the campaign's pictures into zip parts of
 * at most `maxPartBytes` (names, manifest, oversize pictures as JPEG), then packs them one part at a
 * time, to memory (the bot uploads each part) or to a folder (the CLI).
 */
export class ExportCampaign {
  constructor(private readonly deps: ExportDeps) {}

  /**
   * @param request.maxPartBytes - Largest zip, bytes; one zip when absent.
   * @throws InvalidCampaignIdError, NoImagesToExportError, ExportLimitTooSmallError, ImageFileMissingError.
   */
  async plan(request: { readonly campaignId: string; readonly maxPartBytes?: number }): Promise<ExportPlan> {
    const campaignId = parseCampaignId(request.campaignId);
    const images = this.deps.images.list(campaignId);
    if (images.length === 0) throw new NoImagesToExportError();
    const name = (await this.deps.campaigns.list()).find((c) => c.id === campaignId)?.name ?? '';
    return planExport({
      campaign: { id: campaignId, name: name === '(invalid campaign.yaml)' ? campaignId : name },
      images,
      pathOf: (r) => this.deps.images.absolutePath(r.imagePath),
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
}
