import { EmptyTranscriptError, GenerationDisabledError } from '../campaigns/errors.ts';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Campaign } from '../campaigns/campaign.ts';
import type { CampaignRepository } from '../campaigns/repository.ts';
import type { Config } from '../platform/config.ts';
import type { ImageStore } from '../images/store.ts';
import type { Logger } from '../platform/log.ts';
import type { GenerationMode, ImageRow } from '../platform/schema.ts';
import { currentContext, formatEntries, turnContext, type SceneContext } from './context.ts';
import type { CallUsage, GeminiGateway } from '../platform/gemini.ts';
import { writeScenePrompt } from './prompt.ts';
import type { UsageLedger } from '../usage/ledger.ts';
import type { SessionStore } from '../edits/sessions.ts';
import { choosePortraits, loadPortraits, MAX_INPUT_IMAGES, presentCharacters, type ReferenceImage } from '../images/references.ts';
import type { Character } from '../campaigns/campaign.ts';
import { paintImage } from '../images/paint.ts';
import { shorten, type SceneScanner, type ScanProgress } from './best/scanner.ts';
import type { SceneLeases } from '../jobs/scene-leases.ts';
import { originOf, type JobRunner, type Requester } from '../jobs/runner.ts';
import { MAX_NOTE_CHARS, type Quality, type Shape } from './canvas.ts';
import { NoteTooLongError } from './errors.ts';
import type { GuildSettings, SceneLook } from '../settings/settings.ts';

/** What to illustrate, and for whom. */
export type SceneRequest = {
  readonly campaignId: string;
  readonly requester: Requester;
  /** Paint a new picture even when the same scene was painted within `budgets.dedupe_window_s`. */
  readonly fresh?: boolean;
  /** The picture's shape; default the guild's setting, else `generation.aspect_ratio`. */
  readonly shape?: Shape;
  /** Default the guild's setting, else fast. */
  readonly quality?: Quality;
  /** A director's note the prompt writer follows ("focus on the dragon"), at most {@link MAX_NOTE_CHARS} characters. */
  readonly note?: string;
} & (
  | {
      readonly kind: 'current';
      /** Entries of context, 1-50; default `generation.current_entries`. */
      readonly contextEntries?: number;
    }
  | { readonly kind: 'turn'; /** 1-based. */ readonly turn: number }
  /** The scanner's pick of the whole transcript, illustrated like `turn`. */
  | { readonly kind: 'best' }
);

/**
 * What a scene request is doing, reported in this order (`queued` while it waits for a free slot,
 * again whenever its place changes; `scanning` only for `best`, after each passage).
 */
export type SceneProgress =
  | { readonly stage: 'queued'; /** 1 = next. */ readonly place: number }
  | { readonly stage: 'reading' }
  | { readonly stage: 'scanning'; readonly scan: ScanProgress }
  | { readonly stage: 'writing-prompt' }
  | { readonly stage: 'painting' }
  | { readonly stage: 'saving' };

/** What the scanner chose, for the door to show beside the picture. */
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

/** A finished scene: the stored row (file written and recorded) plus what a door shows about it. */
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
  /** Names of the characters whose portraits went with the image call, in the order sent (present in the context window). */
  readonly referenced: readonly string[];
  /** For `best` requests: the chosen turn, a quote and the reason. */
  readonly best?: BestScene;
  /** The request's director's note, as followed. */
  readonly note?: string;
  /**
   * Set when the identical scene (see {@link sceneKey}) was painted within `budgets.dedupe_window_s`,
   * or was being painted for another request, and that picture is returned instead of paying again;
   * `ageMs` is its age. No prompt or image call was made for this request.
   */
  readonly reused?: { readonly ageMs: number };
}

/** Collaborators of {@link IllustrateScene}. */
export interface IllustrateDeps {
  readonly config: Config;
  readonly campaigns: CampaignRepository;
  readonly images: ImageStore;
  readonly gateway: GeminiGateway;
  readonly usage: UsageLedger;
  /** Every picture made becomes its requester's edit session in the campaign. */
  readonly sessions: SessionStore;
  /** Chooses the turn of `best` requests. */
  readonly scanner: SceneScanner;
  /** Budgets, the fair queue and job rows. */
  readonly runner: JobRunner;
  /** The requester's guild's art style, shape and quality. */
  readonly settings: GuildSettings;
  /** One painting per identical scene across processes. */
  readonly leases: SceneLeases;
  readonly log: Logger;
}

/**
 * The use case "illustrate a scene" (current, turn or best), for every door: budget and cooldown
 * check, the fair queue and a job row ({@link JobRunner}), then the campaign is read, the turn chosen
 * (by the scanner for `best`), the prompt written, the picture painted, saved durably and recorded
 * with the requester's edit session and its usage. Progress comes back as {@link SceneProgress}
 * events, the picture as a {@link SceneResult}.
 */
export class IllustrateScene {
  constructor(private readonly deps: IllustrateDeps) {}

  /**
   * The checks that need no model call and touch no file when the campaign was read before: campaign
   * id, the enabled switches, a story to read, the turn range, the note's length, the quality,
   * budgets and the cooldown. A door runs
   * it before acknowledging, so that a refusal can stay private; {@link run} repeats them on fresh files.
   * @throws InvalidCampaignIdError, CampaignNotFoundError, CampaignFileError, GenerationDisabledError,
   *   EmptyTranscriptError, TurnOutOfRangeError, TurnMissingError, NoteTooLongError, QualityNotAllowedError,
   *   BudgetExceededError, QueueClosedError.
   */
  async check(request: SceneRequest): Promise<void> {
    noteOf(request);
    this.deps.settings.look(request.requester.guildId, request.campaignId, '', request);
    const recent = this.deps.campaigns.lastLoaded(request.campaignId);
    let checked = false;
    if (recent) {
      try {
        this.checkCampaign(recent, request);
        checked = true;
      } catch {
        // Maybe out of date: the fresh read below decides.
      }
    }
    if (!checked) this.checkCampaign(await this.deps.campaigns.load(request.campaignId), request);
    this.deps.runner.check(jobOf(request));
  }

  /**
   * Makes one scene picture as a job. With `budgets.dedupe_window_s` on and no `fresh`, an identical
   * scene painted within the window, or being painted now, is returned (`reused`) and becomes the
   * requester's session picture.
   * @param options.onProgress - Told each {@link SceneProgress} as it happens.
   * @throws the errors of {@link check}, JobInterruptedError, ScanTurnError, ScanReplyError, and every
   *   model error of {@link GeminiGateway.generate}, NoImageError included.
   */
  run(request: SceneRequest, options: { onProgress?: (progress: SceneProgress) => void } = {}): Promise<SceneResult> {
    const report = options.onProgress ?? (() => undefined);
    return this.deps.runner.run(jobOf(request), (job) => this.illustrate(request, job.jobId, job.signal, report), {
      onPosition: (place) => report({ stage: 'queued', place }),
      imageOf: (result) => result.image.id,
    });
  }

  private async illustrate(
    request: SceneRequest,
    jobId: string,
    signal: AbortSignal,
    report: (progress: SceneProgress) => void,
  ): Promise<SceneResult> {
    const { config, images } = this.deps;
    const log = this.deps.log.child({ campaign: request.campaignId, kind: request.kind, user: request.requester.userId, jobId });
    report({ stage: 'reading' });
    const campaign = this.checkCampaign(await this.deps.campaigns.load(request.campaignId), request);
    const note = noteOf(request);
    const look = this.deps.settings.look(request.requester.guildId, campaign.id, campaign.artStyle, request);
    const origin = { ...originOf(request.requester), campaignId: campaign.id, jobId };
    const pick =
      request.kind === 'best'
        ? await this.deps.scanner.findBest(campaign.transcript, origin, {
            onProgress: (scan) => report({ stage: 'scanning', scan }),
            signal,
          })
        : undefined;
    const best = { ...(pick ? { best: bestScene(pick) } : {}), ...(note ? { note } : {}) };
    const { context, mode } = this.contextFor(campaign, request, pick?.turn);
    const portraits = choosePortraits(campaign.characters, context.entries, MAX_INPUT_IMAGES);
    const references = await loadPortraits(portraits, config.generation.max_input_pixels);
    const key = sceneKey({ campaign, context, mode, references, config, look, ...(note ? { note } : {}) });
    const referenced = portraits.map((c) => c.name);
    const scene: SceneToPaint = {
      campaign,
      context,
      mode,
      references,
      referenced,
      look,
      key,
      origin,
      scanCalls: pick?.calls ?? [],
      log,
      ...(note ? { note } : {}),
    };
    const paint = () => this.paint(scene, request, signal, report);
    const windowS = config.budgets.dedupe_window_s;
    if (windowS <= 0 || request.fresh) return { ...(await paint()), ...best };

    const reuse = (image: ImageRow): SceneResult => {
      this.deps.sessions.moveTo({ userId: request.requester.userId, campaignId: campaign.id, imageId: image.id });
      log.info({ imageId: image.id }, 'identical scene painted recently: reusing it');
      return {
        image,
        file: images.absolutePath(image.imagePath),
        campaign: { id: campaign.id, name: campaign.name },
        scene: image.prompt,
        promptTruncated: false,
        calls: pick?.calls ?? [],
        referenced,
        reused: { ageMs: Date.now() - Date.parse(image.createdAt) },
        ...best,
      };
    };
    const find = () =>
      images.findRecent({ campaignId: campaign.id, sceneKey: key, since: new Date(Date.now() - windowS * 1000).toISOString() });
    // One painting per scene key across every process: the lease's holder paints, the others wait for its picture.
    for (;;) {
      const outcome = this.deps.leases.take(key, jobId, find);
      if (outcome.kind === 'picture') return reuse(outcome.picture);
      if (outcome.kind === 'leader') {
        try {
          return { ...(await paint()), ...best };
        } finally {
          this.deps.leases.release(key, jobId);
        }
      }
      await sleep(config.queue.poll_ms, undefined, { signal });
    }
  }

  /** Writes the prompt, paints it and saves the picture, which becomes the requester's session picture. */
  private async paint(
    input: SceneToPaint,
    request: SceneRequest,
    signal: AbortSignal,
    report: (progress: SceneProgress) => void,
  ): Promise<SceneResult> {
    const { config, images, gateway, usage } = this.deps;
    const { campaign, context, mode, origin, log } = input;
    const started = performance.now();
    report({ stage: 'writing-prompt' });
    const prompt = await writeScenePrompt(
      gateway,
      {
        model: config.generation.text_model,
        context,
        focus: request.kind === 'current' ? 'latest' : 'turn',
        characters: presentFirst(campaign.characters, context),
        artStyle: input.look.artStyle,
        ...(input.note ? { note: input.note } : {}),
        maxChars: config.generation.max_prompt_chars,
        maxInputTokens: config.generation.prompt_token_limit,
      },
      log,
      { record: { origin, purpose: 'prompt' }, signal },
    );

    report({ stage: 'painting' });
    const painted = await paintImage(
      gateway,
      config,
      prompt.prompt,
      input.references,
      { record: { origin, purpose: 'image' }, signal },
      { model: input.look.imageModel, aspectRatio: input.look.aspectRatio },
    );

    report({ stage: 'saving' });
    // The picture's cost includes the scan that chose it (nothing when the scan was cached).
    const calls = [...input.scanCalls, prompt.usage, painted.usage];
    const image = await images.save(
      painted,
      {
        campaignId: campaign.id,
        turn: context.turn,
        mode,
        prompt: prompt.prompt,
        provider: 'gemini',
        model: painted.model,
        textModel: prompt.usage.model,
        inputTokens: sum(calls, (c) => c.inputTokens),
        outputTokens: sum(calls, (c) => c.outputTokens),
        costUsd: sum(calls, (c) => c.costUsd),
        requestedBy: request.requester.userId,
        sceneKey: input.key,
      },
      (row) => {
        usage.linkImage(painted.usageId, row.id);
        this.deps.sessions.moveTo({ userId: request.requester.userId, campaignId: campaign.id, imageId: row.id });
      },
    );
    log.info(
      { imageId: image.id, turn: image.turn, costUsd: image.costUsd, ms: Math.round(performance.now() - started) },
      'scene illustrated',
    );
    return {
      image,
      file: images.absolutePath(image.imagePath),
      png: painted.png,
      campaign: { id: campaign.id, name: campaign.name },
      scene: prompt.scene,
      promptTruncated: prompt.truncated,
      calls,
      referenced: input.referenced,
    };
  }

  private checkCampaign(campaign: Campaign, request: SceneRequest): Campaign {
    if (!this.deps.config.generation.enabled || !campaign.enabled) throw new GenerationDisabledError();
    if (campaign.transcript.entries.length === 0) throw new EmptyTranscriptError();
    if (request.kind === 'turn') turnContext(campaign.transcript, request.turn, 0);
    return campaign;
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

/** Everything one painting needs, decided before it may be shared with identical requests. */
interface SceneToPaint {
  readonly campaign: Campaign;
  readonly context: SceneContext;
  readonly mode: GenerationMode;
  readonly references: readonly ReferenceImage[];
  /** Art style, shape and model from the request and the guild's settings. */
  readonly look: SceneLook;
  readonly note?: string;
  /** Names of the characters whose portraits are `references`. */
  readonly referenced: readonly string[];
  readonly key: string;
  readonly origin: ReturnType<typeof originOf> & { readonly campaignId: string; readonly jobId: string };
  /** The scanner calls that chose the turn, whose cost the picture carries. */
  readonly scanCalls: readonly CallUsage[];
  readonly log: Logger;
}

/**
 * A hash (SHA-256, hex) of everything that shapes a scene's picture: campaign, mode, the context
 * window's text, the art style, the characters' descriptions and the bytes of the portraits sent,
 * aspect ratio, image size, both models and the director's note. Two requests with the same key would get the same
 * picture, so the later one may reuse the earlier's.
 * @param input.look - The art style, aspect ratio and image model in force (settings and request applied).
 */
export function sceneKey(input: {
  readonly campaign: Campaign;
  readonly context: SceneContext;
  readonly mode: GenerationMode;
  readonly references: readonly ReferenceImage[];
  readonly config: Config;
  readonly look: SceneLook;
  readonly note?: string;
}): string {
  const { campaign, context, mode, references, config, look } = input;
  const hash = createHash('sha256');
  const part = (value: string | Buffer) => {
    hash.update(String(Buffer.byteLength(value)));
    hash.update(':');
    hash.update(value);
  };
  part(campaign.id);
  part(mode);
  part(String(context.turn));
  part(formatEntries(context.entries));
  part(look.artStyle);
  for (const c of campaign.characters) part(`${c.name}\n${c.description}`);
  for (const r of references) part(r.data);
  part(look.aspectRatio);
  part(config.generation.image_size);
  part(config.generation.text_model);
  part(look.imageModel);
  part(input.note ?? '');
  return hash.digest('hex');
}

/**
 * The request's director's note with its whitespace collapsed, or undefined when it has none.
 * @throws NoteTooLongError
 */
function noteOf(request: SceneRequest): string | undefined {
  const note = request.note?.trim().replace(/\s+/g, ' ');
  if (!note) return undefined;
  if (note.length > MAX_NOTE_CHARS) throw new NoteTooLongError(note.length, MAX_NOTE_CHARS);
  return note;
}

/** The job row of a scene request. */
function jobOf(request: SceneRequest) {
  return { kind: `scene ${request.kind}`, campaignId: request.campaignId, ...request.requester };
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

/**
 * The characters with those present in the context window first ({@link presentCharacters}): the
 * prompt writer's room for looks is bounded, and the people of the scene matter most.
 */
function presentFirst(characters: readonly Character[], context: SceneContext): Character[] {
  const present = presentCharacters(characters, context.entries);
  return [...present, ...characters.filter((c) => !present.includes(c))];
}

function sum<T>(items: readonly T[], of: (item: T) => number): number {
  return items.reduce((total, item) => total + of(item), 0);
}
