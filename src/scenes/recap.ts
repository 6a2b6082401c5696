import { EmptyTranscriptError, GenerationDisabledError } from '../campaigns/errors.ts';
import { RecapRangeError } from './errors.ts';
import type { Campaign } from '../campaigns/campaign.ts';
import type { CampaignRepository } from '../campaigns/repository.ts';
import type { TranscriptEntry } from '../campaigns/transcript.ts';
import { paintImage } from '../images/paint.ts';
import { choosePortraits, loadPortraits, MAX_INPUT_IMAGES, type ReferenceImage } from '../images/references.ts';
import type { ImageStore } from '../images/store.ts';
import { renderStoryboard, type StoryboardImage } from '../images/storyboard.ts';
import { originOf, type JobRunner, type Requester } from '../jobs/runner.ts';
import type { GuildSettings } from '../settings/settings.ts';
import type { Config } from '../platform/config.ts';
import { callTotals, type CallUsage, type GeminiGateway } from '../platform/gemini.ts';
import type { Logger } from '../platform/log.ts';
import type { MomentScanner, MomentsProgress } from './best/moments.ts';
import { turnContext } from './context.ts';
import type { SceneResult } from './illustrate.ts';
import { writeScenePrompt } from './prompt.ts';
import type { RecapStore } from './recap-store.ts';

/** Panels a recap may have, and how many it has unless asked. */
export const RECAP_PANELS = { min: 3, max: 6, default: 4 } as const;

/** Turns a recap covers by default when the channel has had none: the last this many. */
export const RECAP_DEFAULT_TURNS = 300;

/**
 * Added to the prompt of every panel after the first, which goes with it as the first image: the
 * panels of one recap should read as one work.
 */
export const STYLE_REFERENCE_NOTE =
  'The first reference image is an earlier panel of the same storyboard: match its art style, palette, line work and the look of recurring characters.';

/** What to recap, and for whom. */
export interface RecapRequest {
  readonly campaignId: string;
  readonly requester: Requester;
  /** First turn (1-based, inclusive); default: the turn after the previous recap in the requester's channel, or the last {@link RECAP_DEFAULT_TURNS} turns. */
  readonly from?: number;
  /** Last turn (inclusive); default: the story's last turn. */
  readonly to?: number;
  /** Panels, {@link RECAP_PANELS} min-max; default {@link RECAP_PANELS}.default. */
  readonly panels?: number;
}

/** What a recap is doing, in this order; `painting` once per panel. */
export type RecapProgress =
  | { readonly stage: 'queued'; /** 1 = next. */ readonly place: number }
  | { readonly stage: 'reading' }
  | { readonly stage: 'choosing-moments'; readonly scan: MomentsProgress }
  | { readonly stage: 'painting-panel'; /** 1-based. */ readonly panel: number; readonly panels: number }
  | { readonly stage: 'composing' };

/** One painted panel: a stored picture like any scene, with its caption. */
export interface RecapPanel extends SceneResult {
  readonly png: Buffer;
  readonly caption: string;
}

/** A finished recap. */
export interface RecapResult {
  readonly campaign: { readonly id: string; readonly name: string };
  /** The turns recapped, inclusive. */
  readonly from: number;
  readonly to: number;
  /** In story order. */
  readonly panels: readonly RecapPanel[];
  /** A short text recap of the range. */
  readonly recap: string;
  /** The panels in order with their captions, as one JPEG. */
  readonly storyboard: StoryboardImage;
  /** True when the range's moments came from the cache (no scanner call). */
  readonly cached: boolean;
  /** Every model call: scanner calls, then each panel's prompt and picture. */
  readonly calls: readonly CallUsage[];
}

/** Collaborators of {@link RecapSession}. */
export interface RecapDeps {
  readonly config: Config;
  readonly campaigns: CampaignRepository;
  readonly images: ImageStore;
  readonly gateway: GeminiGateway;
  readonly moments: MomentScanner;
  readonly recaps: RecapStore;
  readonly runner: JobRunner;
  /** The guild's art style, shape and quality for the campaign (`/scene settings`). */
  readonly settings: GuildSettings;
  readonly log: Logger;
}

/**
 * The use case "illustrated recap": the scanner picks the key moments of a range of turns (cached
 * by the range's content), each is painted in the guild's look for the campaign (`/scene settings`:
 * art style, shape, quality; else the campaign's style) with the portraits of its characters, every panel after the first also getting the first panel as a style reference, and
 * the panels are saved as pictures and drawn into one storyboard. It runs as one job counted as its
 * number of panels against budgets before it starts.
 */
export class RecapSession {
  constructor(private readonly deps: RecapDeps) {}

  /**
   * The checks that need no model call: campaign, switches, range and budgets for all panels. A door
   * runs it before acknowledging so a refusal stays private; {@link run} repeats them.
   * @throws InvalidCampaignIdError, CampaignNotFoundError, CampaignFileError, GenerationDisabledError,
   *   EmptyTranscriptError, RecapRangeError, BudgetExceededError, QueueClosedError.
   */
  async check(request: RecapRequest): Promise<void> {
    const previous = await this.previousTurn(request.campaignId, request);
    await this.deps.campaigns.checkRecent(request.campaignId, (campaign) => this.rangeOf(campaign, request, previous));
    await this.deps.runner.check(this.jobOf(request));
  }

  /**
   * Makes the recap as a job.
   * @param options.onProgress - Told each {@link RecapProgress} as it happens.
   * @throws the errors of {@link check}, JobInterruptedError, ScanTurnError, ScanReplyError, and the
   *   model errors of {@link GeminiGateway.generate}.
   */
  run(request: RecapRequest, options: { onProgress?: (progress: RecapProgress) => void } = {}): Promise<RecapResult> {
    const report = options.onProgress ?? (() => undefined);
    return this.deps.runner.run(this.jobOf(request), (job) => this.recap(request, job.jobId, job.signal, report), {
      onPosition: (place) => report({ stage: 'queued', place }),
      imageOf: (result) => result.panels[0]?.image.id,
    });
  }

  private async recap(request: RecapRequest, jobId: string, signal: AbortSignal, report: (p: RecapProgress) => void): Promise<RecapResult> {
    const { config, images } = this.deps;
    const started = performance.now();
    const log = this.deps.log.child({ campaign: request.campaignId, kind: 'recap', user: request.requester.userId, jobId });
    report({ stage: 'reading' });
    const campaign = await this.deps.campaigns.load(request.campaignId);
    const { from, to, entries, panels: count } = this.rangeOf(campaign, request, await this.previousTurn(campaign.id, request));
    const origin = { ...originOf(request.requester), campaignId: campaign.id, jobId };
    const look = await this.deps.settings.look(request.requester.guildId, campaign.id, campaign.artStyle);
    const board = await this.deps.moments.storyboard(entries, count, origin, {
      onProgress: (scan) => report({ stage: 'choosing-moments', scan }),
      signal,
    });

    const panels: RecapPanel[] = [];
    let style: ReferenceImage | undefined;
    for (const [i, moment] of board.moments.entries()) {
      report({ stage: 'painting-panel', panel: i + 1, panels: board.moments.length });
      const context = turnContext(campaign.transcript, moment.turn, config.generation.turn_radius);
      const portraits = choosePortraits(campaign.characters, context.entries, MAX_INPUT_IMAGES - (style ? 1 : 0));
      const references = [
        ...(style ? [style] : []),
        ...(await loadPortraits(portraits, config.generation.max_input_pixels, this.deps.images.storage)),
      ];
      const prompt = await writeScenePrompt(
        this.deps.gateway,
        {
          model: config.generation.text_model,
          context,
          focus: 'turn',
          characters: campaign.characters,
          artStyle: look.artStyle,
          maxChars: config.generation.max_prompt_chars,
          maxInputTokens: config.generation.prompt_token_limit,
        },
        log,
        { record: { origin, purpose: 'prompt' }, signal },
      );
      const text = style ? `${prompt.prompt}\n\n${STYLE_REFERENCE_NOTE}` : prompt.prompt;
      const painted = await paintImage(
        this.deps.gateway,
        config,
        text,
        references,
        { record: { origin, purpose: 'image' }, signal },
        { model: look.imageModel, aspectRatio: look.aspectRatio },
      );
      // The scan that chose the moments is carried by the first panel, as `/scene best` carries its scan.
      const calls = [...(i === 0 ? board.calls : []), prompt.usage, painted.usage];
      const image = await images.save(
        painted,
        {
          campaignId: campaign.id,
          turn: moment.turn,
          mode: 'recap',
          // Without the style note: a reroll redraws from this prompt without the first panel beside it.
          prompt: prompt.prompt,
          provider: 'gemini',
          model: painted.model,
          textModel: prompt.usage.model,
          ...callTotals(calls),
          requestedBy: request.requester.userId,
        },
        // The first panel is the requester's session picture: the one the storyboard opens with.
        { usageId: painted.usageId, moveSession: i === 0 },
      );
      style ??= { mimeType: 'image/png', data: painted.png };
      panels.push({
        image,
        file: images.location(image.imagePath),
        png: painted.png,
        campaign: { id: campaign.id, name: campaign.name },
        scene: prompt.scene,
        promptTruncated: prompt.truncated,
        referenced: portraits.map((c) => c.name),
        calls,
        caption: moment.caption,
      });
    }

    report({ stage: 'composing' });
    const storyboard = await renderStoryboard(
      panels.map((p) => ({ png: p.png, caption: p.caption })),
      config.generation.max_input_pixels,
    );
    await this.deps.recaps.add({
      campaignId: campaign.id,
      channelId: request.requester.channelId,
      fromTurn: from,
      toTurn: to,
      imageIds: panels.map((p) => p.image.id),
      recap: board.recap,
    });
    const calls = [...board.calls, ...panels.flatMap((p) => p.calls.slice(-2))];
    log.info(
      { from, to, panels: panels.length, cachedScan: board.cached, ms: Math.round(performance.now() - started) },
      'recap illustrated',
    );
    return {
      campaign: { id: campaign.id, name: campaign.name },
      from,
      to,
      panels,
      recap: board.recap,
      storyboard,
      cached: board.cached,
      calls,
    };
  }

  /** The last turn of the previous recap in the request's channel, when the request names no first turn (its default start). */
  private async previousTurn(campaignId: string, request: RecapRequest): Promise<number | undefined> {
    return request.from === undefined ? this.deps.recaps.lastTurn(campaignId, request.requester.channelId) : undefined;
  }

  /**
   * The range and panel count of a request against the campaign as loaded.
   * @param previous - {@link previousTurn}.
   * @throws GenerationDisabledError, EmptyTranscriptError, RecapRangeError.
   */
  private rangeOf(
    campaign: Campaign,
    request: RecapRequest,
    previous: number | undefined,
  ): { from: number; to: number; entries: TranscriptEntry[]; panels: number } {
    if (!this.deps.config.generation.enabled || !campaign.enabled) throw new GenerationDisabledError();
    const { transcript } = campaign;
    if (transcript.entries.length === 0) throw new EmptyTranscriptError();
    const panels = request.panels ?? RECAP_PANELS.default;
    const to = request.to ?? transcript.lastTurn;
    const from =
      request.from ??
      (previous !== undefined && previous < to ? previous + 1 : Math.max(transcript.firstTurn, to - RECAP_DEFAULT_TURNS + 1));
    if (from > to) throw new RecapRangeError(from, to, 'the first turn comes after the last');
    if (from > transcript.lastTurn || to < transcript.firstTurn) {
      throw new RecapRangeError(from, to, `the story's turns are ${transcript.firstTurn}-${transcript.lastTurn}`);
    }
    const entries = transcript.entries.filter((e) => e.turn >= from && e.turn <= to);
    if (entries.length < panels) {
      throw new RecapRangeError(
        from,
        to,
        `they hold ${entries.length} ${entries.length === 1 ? 'turn' : 'turns'} and the recap has ${panels} panels`,
      );
    }
    return { from, to, entries, panels };
  }

  private jobOf(request: RecapRequest) {
    return {
      kind: 'scene recap',
      campaignId: request.campaignId,
      ...request.requester,
      pictures: request.panels ?? RECAP_PANELS.default,
    };
  }
}
