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
import { callTotals, type CallUsage, type GeminiGateway } from '../platform/gemini.ts';
import { writeScenePrompt, type ScenePrompt } from './prompt.ts';
import type { SessionStore } from '../edits/sessions.ts';
import { choosePortraits, loadPortraits, MAX_INPUT_IMAGES, presentCharacters, type ReferenceImage } from '../images/references.ts';
import type { Character } from '../campaigns/campaign.ts';
import { paintImage, type PaintedImage } from '../images/paint.ts';
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
  /** Variations report `done` of `total` pictures finished, from 0 on. */
  | { readonly stage: 'painting'; readonly done?: number; readonly total?: number }
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
  /** Where the PNG is stored, for people: an absolute path, or an `s3://bucket/key` URL (`ImageStore.location`). */
  readonly file: string;
  /** The PNG's bytes when this request painted it (saves reading it back from storage); absent when `reused`. */
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

/** Most variations one request may paint. */
export const MAX_VARIATIONS = 4;

/** Several variations of one scene: one prompt, `count` pictures (see {@link IllustrateScene.variations}). */
export type VariationsRequest = SceneRequest & {
  /** 1-{@link MAX_VARIATIONS}. */
  readonly count: number;
};

/** One stored variation. */
export interface Variation {
  readonly image: ImageRow;
  /** Where the PNG is stored, for people: an absolute path, or an `s3://bucket/key` URL (`ImageStore.location`). */
  readonly file: string;
  readonly png: Buffer;
}

/** Finished variations: every picture painted and stored, in the order they were asked for. */
export interface VariationsResult {
  /** The pictures that were painted; fewer than asked for when some failed (see `failed`). */
  readonly variations: readonly Variation[];
  /** Variations whose painting failed (their error is logged); the others are kept. */
  readonly failed: number;
  readonly campaign: { readonly id: string; readonly name: string };
  /** The text model's description before the art style was appended. */
  readonly scene: string;
  readonly promptTruncated: boolean;
  /** Every model call made: scanner calls (for `best`), the text call, then each image call. */
  readonly calls: readonly CallUsage[];
  /** As in {@link SceneResult}. */
  readonly referenced: readonly string[];
  readonly best?: BestScene;
  /** The request's director's note, as followed. */
  readonly note?: string;
}

/** Collaborators of {@link IllustrateScene}. */
export interface IllustrateDeps {
  readonly config: Config;
  readonly campaigns: CampaignRepository;
  readonly images: ImageStore;
  readonly gateway: GeminiGateway;
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
   * A {@link VariationsRequest}'s pictures must all fit the budgets.
   * @throws InvalidCampaignIdError, CampaignNotFoundError, CampaignFileError, GenerationDisabledError,
   *   EmptyTranscriptError, TurnOutOfRangeError, TurnMissingError, NoteTooLongError, QualityNotAllowedError,
   *   BudgetExceededError, QueueClosedError.
   */
  async check(request: SceneRequest | VariationsRequest): Promise<void> {
    noteOf(request);
    await this.deps.settings.look(request.requester.guildId, request.campaignId, '', request);
    await this.deps.campaigns.checkRecent(request.campaignId, (campaign) => this.checkCampaign(campaign, request));
    await this.deps.runner.check(jobOf(request));
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

  /**
   * Paints `request.count` variations of one scene as one job: the scene is chosen and its prompt
   * written once, then every picture is painted at once from that prompt, with the request's shape,
   * quality and note, and stored as it arrives (the first carries the cost of the shared calls). All
   * `count` pictures are counted against the budgets (the job's `pictures`) before anything starts.
   * No edit session moves until one is picked. Never reuses an earlier picture.
   * @param options.onProgress - Told each {@link SceneProgress}; `painting` comes with `done`/`total`.
   * @throws RangeError for a count outside 1-{@link MAX_VARIATIONS}; the errors of {@link run},
   *   the first painting's error when every painting failed.
   */
  variations(request: VariationsRequest, options: { onProgress?: (progress: SceneProgress) => void } = {}): Promise<VariationsResult> {
    if (!Number.isInteger(request.count) || request.count < 1 || request.count > MAX_VARIATIONS) {
      return Promise.reject(new RangeError(`${request.count} variations; ask for 1-${MAX_VARIATIONS}`));
    }
    const report = options.onProgress ?? (() => undefined);
    return this.deps.runner.run(jobOf(request), (job) => this.paintVariations(request, job.jobId, job.signal, report), {
      onPosition: (place) => report({ stage: 'queued', place }),
      imageOf: (result) => result.variations[0]?.image.id,
    });
  }

  private async paintVariations(
    request: VariationsRequest,
    jobId: string,
    signal: AbortSignal,
    report: (progress: SceneProgress) => void,
  ): Promise<VariationsResult> {
    const { scene, best } = await this.prepare(request, jobId, signal, report);
    const { campaign, log } = scene;
    const prompt = await this.writePrompt(scene, request, signal, report);
    const total = request.count;
    let done = 0;
    report({ stage: 'painting', done, total });
    const settled = await Promise.allSettled(
      Array.from({ length: total }, async (_, i) => {
        const painted = await this.paintPicture(scene, prompt, signal);
        const shared = i === 0 ? [...scene.scanCalls, prompt.usage] : [];
        const image = await this.save(scene, request, prompt, painted, [...shared, painted.usage], { moveSession: false });
        report({ stage: 'painting', done: ++done, total });
        return { image, file: this.deps.images.location(image.imagePath), png: painted.png, usage: painted.usage };
      }),
    );
    const painted = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const failures = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    if (painted.length === 0) throw failures[0];
    for (const err of failures) log.warn({ err }, 'one variation failed; the others are kept');
    log.info({ images: painted.map((p) => p.image.id), failed: failures.length }, 'scene variations painted');
    return {
      variations: painted.map(({ image, file, png }) => ({ image, file, png })),
      failed: failures.length,
      campaign: { id: campaign.id, name: campaign.name },
      scene: prompt.scene,
      promptTruncated: prompt.truncated,
      calls: [...scene.scanCalls, prompt.usage, ...painted.map((p) => p.usage)],
      referenced: scene.referenced,
      ...(best ? { best } : {}),
      ...(scene.note ? { note: scene.note } : {}),
    };
  }

  /** Reads the campaign, applies the settings and note, chooses the turn (scanning for `best`), its context and portraits. */
  private async prepare(
    request: SceneRequest,
    jobId: string,
    signal: AbortSignal,
    report: (progress: SceneProgress) => void,
  ): Promise<{ scene: SceneToPaint; best?: BestScene }> {
    const { config } = this.deps;
    const log = this.deps.log.child({ campaign: request.campaignId, kind: request.kind, user: request.requester.userId, jobId });
    report({ stage: 'reading' });
    const campaign = this.checkCampaign(await this.deps.campaigns.load(request.campaignId), request);
    const note = noteOf(request);
    const look = await this.deps.settings.look(request.requester.guildId, campaign.id, campaign.artStyle, request);
    const origin = { ...originOf(request.requester), campaignId: campaign.id, jobId };
    const pick =
      request.kind === 'best'
        ? await this.deps.scanner.findBest(campaign.transcript, origin, {
            onProgress: (scan) => report({ stage: 'scanning', scan }),
            signal,
          })
        : undefined;
    const { context, mode } = this.contextFor(campaign, request, pick?.turn);
    const portraits = choosePortraits(campaign.characters, context.entries, MAX_INPUT_IMAGES);
    const references = await loadPortraits(portraits, config.generation.max_input_pixels, this.deps.images.storage);
    const key = sceneKey({ campaign, context, mode, references, config, look, ...(note ? { note } : {}) });
    const scene: SceneToPaint = {
      campaign,
      context,
      mode,
      references,
      referenced: portraits.map((c) => c.name),
      look,
      key,
      origin,
      scanCalls: pick?.calls ?? [],
      log,
      ...(note ? { note } : {}),
    };
    return { scene, ...(pick ? { best: bestScene(pick) } : {}) };
  }

  private async illustrate(
    request: SceneRequest,
    jobId: string,
    signal: AbortSignal,
    report: (progress: SceneProgress) => void,
  ): Promise<SceneResult> {
    const { config, images } = this.deps;
    const { scene, best: chosen } = await this.prepare(request, jobId, signal, report);
    const { campaign, key, referenced, log } = scene;
    const best = { ...(chosen ? { best: chosen } : {}), ...(scene.note ? { note: scene.note } : {}) };
    const paint = () => this.paint(scene, request, signal, report);
    const windowS = config.budgets.dedupe_window_s;
    if (windowS <= 0 || request.fresh) return { ...(await paint()), ...best };

    const reuse = async (image: ImageRow): Promise<SceneResult> => {
      await this.deps.sessions.moveTo({ userId: request.requester.userId, campaignId: campaign.id, imageId: image.id });
      log.info({ imageId: image.id }, 'identical scene painted recently: reusing it');
      return {
        image,
        file: images.location(image.imagePath),
        campaign: { id: campaign.id, name: campaign.name },
        scene: image.prompt,
        promptTruncated: false,
        calls: scene.scanCalls,
        referenced,
        reused: { ageMs: Date.now() - Date.parse(image.createdAt) },
        ...best,
      };
    };
    // Read inside the lease's transaction, whose SQLite body is synchronous.
    const find = (): ImageRow | undefined =>
      images.findRecent({ campaignId: campaign.id, sceneKey: key, since: new Date(Date.now() - windowS * 1000).toISOString() }).all()[0];
    // One painting per scene key across every process: the lease's holder paints, the others wait for its picture.
    for (;;) {
      const outcome = await this.deps.leases.take(key, jobId, find);
      if (outcome.kind === 'picture') return reuse(outcome.picture);
      if (outcome.kind === 'leader') {
        try {
          return { ...(await paint()), ...best };
        } finally {
          await this.deps.leases.release(key, jobId);
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
    const { images } = this.deps;
    const { campaign, log } = input;
    const started = performance.now();
    const prompt = await this.writePrompt(input, request, signal, report);

    report({ stage: 'painting' });
    const painted = await this.paintPicture(input, prompt, signal);

    report({ stage: 'saving' });
    // The picture's cost includes the scan that chose it (nothing when the scan was cached).
    const calls = [...input.scanCalls, prompt.usage, painted.usage];
    const image = await this.save(input, request, prompt, painted, calls, { moveSession: true });
    log.info(
      { imageId: image.id, turn: image.turn, costUsd: image.costUsd, ms: Math.round(performance.now() - started) },
      'scene illustrated',
    );
    return {
      image,
      file: images.location(image.imagePath),
      png: painted.png,
      campaign: { id: campaign.id, name: campaign.name },
      scene: prompt.scene,
      promptTruncated: prompt.truncated,
      calls,
      referenced: input.referenced,
    };
  }

  /** The prompt writer's call for a scene. */
  private writePrompt(
    input: SceneToPaint,
    request: SceneRequest,
    signal: AbortSignal,
    report: (progress: SceneProgress) => void,
  ): Promise<ScenePrompt> {
    const { config, gateway } = this.deps;
    report({ stage: 'writing-prompt' });
    return writeScenePrompt(
      gateway,
      {
        model: config.generation.text_model,
        context: input.context,
        focus: request.kind === 'current' ? 'latest' : 'turn',
        characters: presentFirst(input.campaign.characters, input.context),
        artStyle: input.look.artStyle,
        ...(input.note ? { note: input.note } : {}),
        maxChars: config.generation.max_prompt_chars,
        maxInputTokens: config.generation.prompt_token_limit,
      },
      input.log,
      { record: { origin: input.origin, purpose: 'prompt' }, signal },
    );
  }

  /** One image call for a written prompt, with the scene's portraits, model and shape. */
  private paintPicture(input: SceneToPaint, prompt: ScenePrompt, signal: AbortSignal): Promise<PaintedImage> {
    return paintImage(
      this.deps.gateway,
      this.deps.config,
      prompt.prompt,
      input.references,
      { record: { origin: input.origin, purpose: 'image' }, signal },
      { model: input.look.imageModel, aspectRatio: input.look.aspectRatio },
    );
  }

  /**
   * Stores a painted scene picture with the cost of `calls`, linking its usage row and, with
   * `moveSession`, moving the requester's session to it in the same transaction.
   */
  private save(
    input: SceneToPaint,
    request: SceneRequest,
    prompt: ScenePrompt,
    painted: PaintedImage,
    calls: readonly CallUsage[],
    options: { moveSession: boolean },
  ): Promise<ImageRow> {
    const { campaign, context, mode } = input;
    return this.deps.images.save(
      painted,
      {
        campaignId: campaign.id,
        turn: context.turn,
        mode,
        prompt: prompt.prompt,
        provider: 'gemini',
        model: painted.model,
        textModel: prompt.usage.model,
        ...callTotals(calls),
        requestedBy: request.requester.userId,
        sceneKey: input.key,
      },
      { usageId: painted.usageId, moveSession: options.moveSession },
    );
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

/** The job row of a scene request, with the pictures it makes for the budgets. */
function jobOf(request: SceneRequest | VariationsRequest) {
  const pictures = 'count' in request ? request.count : 1;
  return { kind: `scene ${request.kind}`, campaignId: request.campaignId, ...request.requester, pictures };
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
