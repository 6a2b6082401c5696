import { readFile } from 'node:fs/promises';
import type { Campaign } from '../campaigns/campaign.ts';
import type { CampaignRepository } from '../campaigns/repository.ts';
import type { Config } from '../config.ts';
import { CampaignFileError, EmptyTranscriptError, GenerationDisabledError } from '../errors.ts';
import { referencePng } from '../images/normalise.ts';
import type { ImageStore } from '../images/store.ts';
import type { Logger } from '../log.ts';
import type { GenerationMode, ImageRow } from '../store/schema.ts';
import { currentContext, turnContext, type SceneContext } from './context.ts';
import type { CallUsage, GeminiGateway } from './gemini.ts';
import { writeScenePrompt } from './prompt.ts';
import type { UsageLedger } from '../store/usage.ts';
import { referenceHash, type SessionStore } from '../store/sessions.ts';
import { renderImage, type ReferenceImage } from './render.ts';
import { shorten, type SceneScanner, type ScanProgress } from './scanner.ts';

/** Fields every request has. `requestedBy` is a Discord user id or `cli`. */
interface RequestBase {
  readonly campaignId: string;
  readonly requestedBy: string;
  /** Where the request came from, for the usage ledger (Discord snowflakes). */
  readonly origin?: { readonly guildId?: string | null; readonly channelId?: string | null; readonly jobId?: string | null };
}

/** What to illustrate. */
export type SceneRequest =
  | (RequestBase & {
      readonly kind: 'current';
      /** Entries of context; default `generation.current_entries`. */
      readonly contextEntries?: number;
    })
  | (RequestBase & { readonly kind: 'turn'; /** 1-based. */ readonly turn: number })
  /** The scanner's pick of the whole transcript (`/scene best`), illustrated like `turn`. */
  | (RequestBase & { readonly kind: 'best' });

/** Stages reported while a scene is made, in order; `scanning` only for `best` requests that read the transcript. */
export type SceneStage = 'reading' | 'scanning' | 'prompting' | 'painting' | 'saving';

/** What `/scene best` chose, for the door to show beside the picture. */
export interface BestScene {
  /** 1-based. */
  readonly turn: number;
  readonly speaker: string;
  /** The turn's own text, shortened to at most {@link BEST_QUOTE_CHARS} characters. */
  readonly quote: string;
  /** The scanner's one-sentence reason. */
  readonly rationale: string;
  /** True when the transcript was unchanged since the last scan, so no scanner call was made. */
  readonly cached: boolean;
  /** Passages the transcript was read in. */
  readonly passages: number;
}

/** Longest quote of the chosen turn in a {@link BestScene}, characters. */
export const BEST_QUOTE_CHARS = 200;

/** A finished scene: the stored row plus what a door shows about it. */
export interface SceneResult {
  readonly image: ImageRow;
  /** Absolute path of the PNG. */
  readonly file: string;
  readonly campaign: { readonly id: string; readonly name: string };
  /** The text model's description before the art style was appended. */
  readonly scene: string;
  readonly promptTruncated: boolean;
  /** Every model call made for this scene: scanner calls (for `best`), then text, then image. */
  readonly calls: readonly CallUsage[];
  /** For `best` requests: the chosen turn, a quote and the reason. */
  readonly best?: BestScene;
  /**
   * Set when the same scene was painted within `budgets.dedupe_window_s` and that picture is
   * returned instead of paying again; `ageMs` is how old it is. No prompt or image call was made.
   */
  readonly reused?: { readonly ageMs: number };
}

/** Collaborators of {@link GenerationService}. */
export interface GenerationDeps {
  readonly config: Config;
  readonly campaigns: CampaignRepository;
  readonly images: ImageStore;
  readonly gateway: GeminiGateway;
  readonly usage: UsageLedger;
  /** Every picture generated becomes its requester's edit session in the campaign. */
  readonly sessions: SessionStore;
  /** Chooses the turn of `best` requests. */
  readonly scanner: SceneScanner;
  readonly log: Logger;
}

/**
 * The shared core of every door: reads a campaign, picks the context, has the text model write
 * the prompt, has the image model draw it, and stores the picture. Knows nothing of Discord.
 */
export class GenerationService {
  constructor(private readonly deps: GenerationDeps) {}

  /**
   * The checks that need no model call: campaign id and files, the enabled switches, a story to
   * read and the turn range. Doors run it before acknowledging publicly, so that a refusal can stay private.
   * @throws InvalidCampaignIdError, CampaignNotFoundError, CampaignFileError, GenerationDisabledError,
   *   EmptyTranscriptError, TurnOutOfRangeError.
   */
  async validate(request: SceneRequest): Promise<Campaign> {
    const campaign = await this.deps.campaigns.load(request.campaignId);
    if (!this.deps.config.generation.enabled || !campaign.enabled) throw new GenerationDisabledError();
    if (campaign.transcript.entries.length === 0) throw new EmptyTranscriptError();
    if (request.kind === 'turn') turnContext(campaign.transcript, request.turn, 0);
    return campaign;
  }

  /**
   * Makes one scene picture.
   * @param options.onProgress - Called as each {@link SceneStage} starts; during `scanning`, again
   *   with the scan's progress after each passage and before the comparison.
   * @param options.signal - Abandons the model calls.
   * @throws InvalidCampaignIdError, CampaignNotFoundError, CampaignFileError, GenerationDisabledError,
   *   EmptyTranscriptError, TurnOutOfRangeError, ScanTurnError, ScanReplyError, and every model error of
   *   {@link GeminiGateway.generate}, NoImageError included.
   */
  async illustrate(
    request: SceneRequest,
    options: {
      onProgress?: (stage: SceneStage, scan?: ScanProgress) => void;
      signal?: AbortSignal;
      /** Paint anew even when the same scene was painted within the dedupe window. */
      fresh?: boolean;
    } = {},
  ): Promise<SceneResult> {
    const { config, images, gateway, usage } = this.deps;
    const started = performance.now();
    const log = this.deps.log.child({ campaign: request.campaignId, kind: request.kind, requestedBy: request.requestedBy });
    options.onProgress?.('reading');
    const campaign = await this.validate(request);
    const origin = { userId: request.requestedBy, campaignId: campaign.id, ...request.origin };
    const pick =
      request.kind === 'best'
        ? await this.deps.scanner.findBest(campaign.transcript, origin, {
            onProgress: (scan) => options.onProgress?.('scanning', scan),
            ...(options.signal ? { signal: options.signal } : {}),
          })
        : undefined;
    const { context, mode } = this.contextFor(campaign, request, pick?.turn);
    const windowS = config.budgets.dedupe_window_s;
    const recent =
      windowS > 0 && !options.fresh
        ? images.findRecent({
            campaignId: campaign.id,
            turn: context.turn,
            mode,
            model: config.generation.image_model,
            since: new Date(Date.now() - windowS * 1000).toISOString(),
          })
        : undefined;
    if (recent) {
      this.deps.sessions.moveTo({ userId: request.requestedBy, campaignId: campaign.id, imageId: recent.id, prompt: recent.prompt, referenceHash: '' });
      log.info({ imageId: recent.id }, 'same scene painted recently: reusing it');
      return {
        image: recent,
        file: images.absolutePath(recent.imagePath),
        campaign: { id: campaign.id, name: campaign.name },
        scene: recent.prompt,
        promptTruncated: false,
        calls: pick?.calls ?? [],
        reused: { ageMs: Date.now() - Date.parse(recent.createdAt) },
        ...(pick ? { best: bestScene(pick) } : {}),
      };
    }

    options.onProgress?.('prompting');
    const references = await loadReferences(campaign, config.generation.max_input_pixels);
    const prompt = await writeScenePrompt(
      gateway,
      {
        model: config.generation.text_model,
        context,
        focus: request.kind === 'current' ? 'latest' : 'turn',
        characters: campaign.characters,
        artStyle: campaign.artStyle,
        maxChars: config.generation.max_prompt_chars,
      },
      log,
      options.signal,
    );
    usage.record(origin, 'prompt', prompt.usage);

    options.onProgress?.('painting');
    const rendered = await renderImage(gateway, config, prompt.prompt, references, options.signal);

    options.onProgress?.('saving');
    // The picture's cost includes the scan that chose it (nothing when the scan was cached).
    const calls = [...(pick?.calls ?? []), prompt.usage, rendered.usage];
    const image = await images.save(rendered, {
      campaignId: campaign.id,
      turn: context.turn,
      mode,
      prompt: prompt.prompt,
      provider: 'gemini',
      model: rendered.model,
      textModel: prompt.usage.model,
      inputTokens: sum(calls, (c) => c.inputTokens),
      outputTokens: sum(calls, (c) => c.outputTokens),
      costUsd: sum(calls, (c) => c.costUsd),
      requestedBy: request.requestedBy,
    });
    usage.record(origin, 'image', rendered.usage, image.id);
    this.deps.sessions.moveTo({ userId: request.requestedBy, campaignId: campaign.id, imageId: image.id, prompt: image.prompt, referenceHash: referenceHash(references) });
    log.info(
      { imageId: image.id, turn: image.turn, costUsd: image.costUsd, ms: Math.round(performance.now() - started) },
      'scene illustrated',
    );
    return {
      image,
      file: images.absolutePath(image.imagePath),
      campaign: { id: campaign.id, name: campaign.name },
      scene: prompt.scene,
      promptTruncated: prompt.truncated,
      calls,
      ...(pick ? { best: bestScene(pick) } : {}),
    };
  }

  /** @param bestTurn - The scanner's pick, for `best` requests. */
  private contextFor(campaign: Campaign, request: SceneRequest, bestTurn?: number): { context: SceneContext; mode: GenerationMode } {
    const { generation } = this.deps.config;
    if (request.kind === 'current') {
      return { context: currentContext(campaign.transcript, request.contextEntries ?? generation.current_entries), mode: 'current' };
    }
    if (request.kind === 'best') return { context: turnContext(campaign.transcript, bestTurn!, generation.turn_radius), mode: 'best' };
    return { context: turnContext(campaign.transcript, request.turn, generation.turn_radius), mode: 'specific' };
  }
}

/** What a door shows about a scanner's pick. */
function bestScene(pick: Awaited<ReturnType<SceneScanner['findBest']>>): BestScene {
  return {
    turn: pick.turn,
    speaker: pick.entry.speaker,
    quote: shorten(pick.entry.text, BEST_QUOTE_CHARS),
    rationale: pick.rationale,
    cached: pick.cached,
    passages: pick.passages,
  };
}

/** Characters' portraits as PNG `inlineData` for the image model. @throws CampaignFileError, InvalidImageError */
export async function loadReferences(campaign: Campaign, maxPixels: number): Promise<ReferenceImage[]> {
  const out: ReferenceImage[] = [];
  for (const character of campaign.characters) {
    if (!character.referenceImage) continue;
    let bytes: Buffer;
    try {
      bytes = await readFile(character.referenceImage);
    } catch (err) {
      throw new CampaignFileError(character.referenceImage, [`reference image of ${character.name} cannot be read`], {
        cause: err,
      });
    }
    out.push({ mimeType: 'image/png', data: await referencePng(bytes, maxPixels) });
  }
  return out;
}

function sum<T>(items: readonly T[], of: (item: T) => number): number {
  return items.reduce((total, item) => total + of(item), 0);
}
