import type { Campaign } from '../campaigns/campaign.ts';
import type { CampaignRepository } from '../campaigns/repository.ts';
import type { Config } from '../platform/config.ts';
import { EmptyTranscriptError, GenerationDisabledError } from '../errors.ts';
import type { ImageStore } from '../images/store.ts';
import type { Logger } from '../platform/log.ts';
import type { GenerationMode, ImageRow } from '../platform/schema.ts';
import { currentContext, turnContext, type SceneContext } from './context.ts';
import type { CallUsage, GeminiGateway } from '../platform/gemini.ts';
import { writeScenePrompt } from './prompt.ts';
import type { CallOrigin, UsageLedger } from '../usage/ledger.ts';
import type { SessionStore } from '../edits/sessions.ts';
import { choosePortraits, loadPortraits, MAX_INPUT_IMAGES } from '../images/references.ts';
import { renderImage } from '../images/paint.ts';
import { shorten, type SceneScanner, type ScanProgress } from './best/scanner.ts';
import { SingleFlight } from '../jobs/single-flight.ts';

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
  /** The PNG's bytes when this request painted it (saves reading `file` back); absent when `reused`. */
  readonly png?: Buffer;
  readonly campaign: { readonly id: string; readonly name: string };
  /** The text model's description before the art style was appended. */
  readonly scene: string;
  readonly promptTruncated: boolean;
  /** Every model call made for this scene: scanner calls (for `best`), then text, then image. */
  readonly calls: readonly CallUsage[];
  /** For `best` requests: the chosen turn, a quote and the reason. */
  readonly best?: BestScene;
  /**
   * Set when the same scene was painted within `budgets.dedupe_window_s`, or was being painted for
   * another request, and that picture is returned instead of paying again; `ageMs` is how old it
   * is. No prompt or image call was made for this request.
   */
  readonly reused?: { readonly ageMs: number };
}

/**
 * Told that a picture is painted, before it is stored: its row ({@link SceneResult.image}) is not yet
 * in SQLite and its file may not be written. A door may show the picture meanwhile, since writing it
 * durably (fsync) takes a few ms that the upload can hide; it must not record anything that refers
 * to the row until the request's promise resolves, and must take the picture back if it rejects.
 * Readers of pictures and sessions wait for the store with {@link ImageStore.settled}.
 */
export type PaintedListener = (painted: SceneResult) => void;

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
  /**
   * Scenes being painted, by campaign, turn, mode and image model: with the dedupe window on, the
   * same scene asked for again while it is painted waits for that picture instead of paying twice.
   */
  private readonly paintings = new SingleFlight<SceneResult>();

  constructor(private readonly deps: GenerationDeps) {}

  /**
   * The checks that need no model call: campaign id and files, the enabled switches, a story to
   * read and the turn range. Doors run it before acknowledging publicly, so that a refusal can stay private.
   * @throws InvalidCampaignIdError, CampaignNotFoundError, CampaignFileError, GenerationDisabledError,
   *   EmptyTranscriptError, TurnOutOfRangeError, TurnMissingError.
   */
  async validate(request: SceneRequest): Promise<Campaign> {
    return this.check(await this.deps.campaigns.load(request.campaignId), request);
  }

  /**
   * {@link validate} for a door about to acknowledge: checks the campaign as last read when it was
   * read before (no file is touched, so the acknowledgement never waits on the disk or on the
   * thread pool busy with other pictures), and reads it afresh only when that check refuses, in
   * case the files changed since. {@link illustrate} repeats the checks on fresh files.
   * @throws the errors of {@link validate}.
   */
  async precheck(request: SceneRequest): Promise<void> {
    const recent = this.deps.campaigns.lastLoaded(request.campaignId);
    if (recent) {
      try {
        this.check(recent, request);
        return;
      } catch {
        // Maybe out of date: the fresh read below decides.
      }
    }
    await this.validate(request);
  }

  private check(campaign: Campaign, request: SceneRequest): Campaign {
    if (!this.deps.config.generation.enabled || !campaign.enabled) throw new GenerationDisabledError();
    if (campaign.transcript.entries.length === 0) throw new EmptyTranscriptError();
    if (request.kind === 'turn') turnContext(campaign.transcript, request.turn, 0);
    return campaign;
  }

  /**
   * Makes one scene picture. With `budgets.dedupe_window_s` on, the same scene (campaign, turn,
   * mode, image model) painted within the window, or being painted right now, is returned instead
   * (`reused`) and becomes the requester's session picture.
   * @param options.onProgress - Called as each {@link SceneStage} starts; during `scanning`, again
   *   with the scan's progress after each passage and before the comparison.
   * @param options.onPainted - Called once the picture is painted, with the result as it will be
   *   returned, while the picture is being stored (a few ms: see {@link PaintedListener}). Not called
   *   for a `reused` picture.
   * @param options.signal - Abandons the model calls.
   * @throws InvalidCampaignIdError, CampaignNotFoundError, CampaignFileError, GenerationDisabledError,
   *   EmptyTranscriptError, TurnOutOfRangeError, TurnMissingError, ScanTurnError, ScanReplyError, and
   *   every model error of {@link GeminiGateway.generate}, NoImageError included.
   */
  async illustrate(
    request: SceneRequest,
    options: {
      onProgress?: (stage: SceneStage, scan?: ScanProgress) => void;
      onPainted?: PaintedListener;
      signal?: AbortSignal;
    } = {},
  ): Promise<SceneResult> {
    const { config, images } = this.deps;
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
    const best = pick ? { best: bestScene(pick) } : {};
    const { context, mode } = this.contextFor(campaign, request, pick?.turn);
    const onPainted = options.onPainted;
    const paint = () =>
      this.paint(
        { campaign, context, mode, request, origin, scanCalls: pick?.calls ?? [], log },
        { ...options, ...(onPainted ? { onPainted: (painted: SceneResult) => onPainted({ ...painted, ...best }) } : {}) },
      );
    const windowS = config.budgets.dedupe_window_s;
    if (windowS <= 0) return { ...(await paint()), ...best };

    const scene = { campaignId: campaign.id, turn: context.turn, mode, model: config.generation.image_model };
    const reuse = (image: ImageRow): SceneResult => {
      this.deps.sessions.moveTo({ userId: request.requestedBy, campaignId: campaign.id, imageId: image.id });
      log.info({ imageId: image.id }, 'same scene painted recently: reusing it');
      return {
        image,
        file: images.absolutePath(image.imagePath),
        campaign: { id: campaign.id, name: campaign.name },
        scene: image.prompt,
        promptTruncated: false,
        calls: pick?.calls ?? [],
        reused: { ageMs: Date.now() - Date.parse(image.createdAt) },
        ...best,
      };
    };
    const recent = images.findRecent({ ...scene, since: new Date(Date.now() - windowS * 1000).toISOString() });
    if (recent) return reuse(recent);
    // No await since findRecent: a request arriving now either finds the picture or joins this painting.
    const { value, leader } = await this.paintings.run(JSON.stringify(scene), paint, options.signal);
    return leader ? { ...value, ...best } : reuse(value.image);
  }

  /** Writes the prompt, paints it and stores the picture, which becomes the requester's session picture. */
  private async paint(
    input: {
      readonly campaign: Campaign;
      readonly context: SceneContext;
      readonly mode: GenerationMode;
      readonly request: SceneRequest;
      readonly origin: CallOrigin;
      /** The scanner calls that chose the turn, whose cost the picture carries. */
      readonly scanCalls: readonly CallUsage[];
      readonly log: Logger;
    },
    options: { onProgress?: (stage: SceneStage) => void; onPainted?: PaintedListener; signal?: AbortSignal },
  ): Promise<SceneResult> {
    const { config, images, gateway, usage } = this.deps;
    const { campaign, context, mode, request, origin, log } = input;
    const started = performance.now();
    options.onProgress?.('prompting');
    const portraits = choosePortraits(campaign.characters, context.entries, MAX_INPUT_IMAGES);
    const references = await loadPortraits(portraits, config.generation.max_input_pixels);
    const prompt = await writeScenePrompt(
      gateway,
      {
        model: config.generation.text_model,
        context,
        focus: request.kind === 'current' ? 'latest' : 'turn',
        characters: campaign.characters,
        artStyle: campaign.artStyle,
        maxChars: config.generation.max_prompt_chars,
        maxInputTokens: config.generation.prompt_token_limit,
      },
      log,
      { record: { origin, purpose: 'prompt' }, signal: options.signal },
    );

    options.onProgress?.('painting');
    const rendered = await renderImage(gateway, config, prompt.prompt, references, {
      record: { origin, purpose: 'image' },
      signal: options.signal,
    });

    options.onProgress?.('saving');
    // The picture's cost includes the scan that chose it (nothing when the scan was cached).
    const calls = [...input.scanCalls, prompt.usage, rendered.usage];
    const image = images.prepare(rendered, {
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
    const result: SceneResult = {
      image,
      file: images.absolutePath(image.imagePath),
      png: rendered.png,
      campaign: { id: campaign.id, name: campaign.name },
      scene: prompt.scene,
      promptTruncated: prompt.truncated,
      calls,
    };
    options.onPainted?.(result);
    await images.commit(rendered, image, () => {
      usage.linkImage(rendered.usageId, image.id);
      this.deps.sessions.moveTo({ userId: request.requestedBy, campaignId: campaign.id, imageId: image.id });
    });
    log.info(
      { imageId: image.id, turn: image.turn, costUsd: image.costUsd, ms: Math.round(performance.now() - started) },
      'scene illustrated',
    );
    return result;
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

function sum<T>(items: readonly T[], of: (item: T) => number): number {
  return items.reduce((total, item) => total + of(item), 0);
}
