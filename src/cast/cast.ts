import { EmptyTranscriptError, GenerationDisabledError } from '../campaigns/errors.ts';
import { CastMemberNotFoundError, CharacterInFileError, DescriptionRequiredError } from './errors.ts';
import type { Campaign } from '../campaigns/campaign.ts';
import type { CampaignRepository } from '../campaigns/repository.ts';
import { sameCharacter } from '../campaigns/character-names.ts';
import type { ImageStore } from '../images/store.ts';
import { normaliseToPng } from '../images/normalise.ts';
import { paintImage } from '../images/paint.ts';
import { userReferencePng, type UserReference } from '../images/reference.ts';
import { originOf, type JobRunner, type Requester } from '../jobs/runner.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SceneLeases } from '../jobs/scene-leases.ts';
import type { GuildSettings } from '../settings/settings.ts';
import type { Config } from '../platform/config.ts';
import type { CallUsage, GeminiGateway } from '../platform/gemini.ts';
import type { Logger } from '../platform/log.ts';
import type { ImageRow } from '../platform/schema.ts';
import { PORTRAIT_ASPECT_RATIO, portraitPrompt } from './portrait.ts';
import type { CastProposer, CastReadProgress } from './proposer.ts';
import type { CastMember, CastStore } from './store.ts';

/** Who asks for a campaign's cast. */
export interface CastRequest {
  readonly campaignId: string;
  readonly requester: Requester;
}

/** What a cast job is doing (`queued` while it waits, again whenever its place changes). */
export type CastProgress =
  | { readonly stage: 'queued'; /** 1 = next. */ readonly place: number }
  | { readonly stage: 'reading' }
  | { readonly stage: 'casting'; readonly read: CastReadProgress }
  | { readonly stage: 'painting-portrait'; readonly name: string }
  | { readonly stage: 'saving' };

/** A reading's proposal, for the owner to accept, edit or drop. */
export interface CastProposal {
  readonly campaign: { readonly id: string; readonly name: string };
  /**
   * The cast as it stands: members this reading proposed (new ones as `proposed`, known ones as the
   * owner left them), then accepted members it did not propose. Dropped members are left out.
   */
  readonly members: readonly CastMember[];
  /** Names the reading proposed that `campaign.yaml` (or a play-by-post member) already defines: those stay as defined. */
  readonly defined: readonly string[];
  readonly passages: number;
  /** True when every passage was read before, so no model call was made. */
  readonly cached: boolean;
  readonly calls: readonly CallUsage[];
}

/** A cast member's reference portrait. */
export interface PortraitResult {
  readonly campaign: { readonly id: string; readonly name: string };
  readonly member: CastMember;
  readonly image: ImageRow;
  /** Where the PNG is stored, for people: an absolute path, or an `s3://bucket/key` URL (`ImageStore.location`). */
  readonly file: string;
  /** The PNG's bytes when this request painted it. */
  readonly png?: Buffer;
  /** False when the member already had a portrait and none was painted. */
  readonly painted: boolean;
  readonly calls: readonly CallUsage[];
}

/** Collaborators of {@link CastCampaign}. */
export interface CastDeps {
  readonly config: Config;
  readonly campaigns: CampaignRepository;
  readonly images: ImageStore;
  readonly gateway: GeminiGateway;
  readonly cast: CastStore;
  readonly proposer: CastProposer;
  readonly runner: JobRunner;
  /** One painting of a member's portrait at a time across every process on the database. */
  readonly leases: SceneLeases;
  /** The guild's art style and quality for the campaign (`/scene settings`). */
  readonly settings: GuildSettings;
  readonly log: Logger;
}

/**
 * The use case "a cast that stays recognisable", for every door: the text model proposes the story's
 * recurring characters with their looks ({@link propose}), the owner accepts, edits or drops each,
 * and each accepted character gets one neutral reference portrait ({@link portrait}), painted in the
 * campaign's art style or uploaded ({@link setCharacter}). Accepted characters join
 * `Campaign.characters`, so the prompt writer gets their looks and the image model their portraits.
 * Model work runs as jobs ({@link JobRunner}): budgets, the queue, job rows and the usage ledger.
 */
export class CastCampaign {
  /** Portraits being painted, by member id: a second request for the same member waits for that one. */

  constructor(private readonly deps: CastDeps) {}

  /**
   * The checks of {@link propose} and {@link portrait} that need no model call: the campaign, the
   * enabled switches, a story to read, budgets and the cooldown.
   * @throws InvalidCampaignIdError, CampaignNotFoundError, CampaignFileError, GenerationDisabledError,
   *   EmptyTranscriptError, BudgetExceededError, QueueClosedError.
   */
  async check(request: CastRequest): Promise<void> {
    await this.deps.campaigns.checkRecent(request.campaignId, (campaign) => this.checkCampaign(campaign));
    await this.deps.runner.check(jobOf(request, 'cast propose', 0));
  }

  /**
   * Reads the transcript as a job and records the characters it proposes (see {@link CastProposal}).
   * Characters `campaign.yaml` defines are not proposed: the file wins.
   * @throws the errors of {@link check}, JobInterruptedError, CastReplyError and the model errors of
   *   {@link GeminiGateway.generate}.
   */
  propose(request: CastRequest, options: { onProgress?: (progress: CastProgress) => void } = {}): Promise<CastProposal> {
    const report = options.onProgress ?? (() => undefined);
    return this.deps.runner.run(
      jobOf(request, 'cast propose', 0),
      async ({ jobId, signal }) => {
        report({ stage: 'reading' });
        const campaign = this.checkCampaign(await this.deps.campaigns.load(request.campaignId));
        const origin = { ...originOf(request.requester), campaignId: campaign.id, jobId };
        const reading = await this.deps.proposer.propose(campaign.transcript, origin, {
          onProgress: (read) => report({ stage: 'casting', read }),
          signal,
        });
        const own = definedCharacters(campaign, await this.deps.cast.list(campaign.id));
        const defined = reading.characters.filter((c) => own.some((name) => sameCharacter(name, c.name))).map((c) => c.name);
        const proposed = await this.deps.cast.recordProposals(
          campaign.id,
          reading.characters.filter((c) => !defined.includes(c.name)),
        );
        const shown = proposed.filter((m) => m.status !== 'dropped');
        const others = (await this.deps.cast.list(campaign.id)).filter((m) => m.status === 'accepted' && !shown.some((s) => s.id === m.id));
        return {
          campaign: { id: campaign.id, name: campaign.name },
          members: [...shown, ...others],
          defined,
          passages: reading.passages,
          cached: reading.cached,
          calls: reading.calls,
        };
      },
      { onPosition: (place) => report({ stage: 'queued', place }) },
    );
  }

  /** The campaign's cast members, dropped ones included. */
  async members(campaignId: string): Promise<CastMember[]> {
    return this.deps.cast.list(campaignId);
  }

  /**
   * A member of the campaign's cast.
   * @throws CastMemberNotFoundError when there is no such member in that campaign.
   */
  async member(campaignId: string, memberId: number): Promise<CastMember> {
    const member = await this.deps.cast.get(memberId);
    if (!member || member.campaignId !== campaignId) throw new CastMemberNotFoundError(campaignId, `#${memberId}`);
    return member;
  }

  /**
   * The member of the campaign's cast that `name` designates (`Grog` finds `Grog Strongjaw`).
   * @throws CastMemberNotFoundError
   */
  async memberNamed(campaignId: string, name: string): Promise<CastMember> {
    const member = await this.deps.cast.find(campaignId, name);
    if (!member) throw new CastMemberNotFoundError(campaignId, name);
    return member;
  }

  /**
   * Accepts a member into the cast, with a new description when given (an owner's edit).
   * @param description - Trimmed; an empty one keeps the proposed description.
   * @throws CastMemberNotFoundError
   */
  async accept(campaignId: string, memberId: number, description?: string): Promise<CastMember> {
    await this.member(campaignId, memberId);
    const looks = description?.trim();
    return this.deps.cast.update(memberId, { status: 'accepted', ...(looks ? { description: looks } : {}) });
  }

  /**
   * Drops a member: out of the campaign's characters, and not proposed again. Its portrait stays stored.
   * @throws CastMemberNotFoundError
   */
  async drop(campaignId: string, memberId: number): Promise<CastMember> {
    await this.member(campaignId, memberId);
    return this.deps.cast.update(memberId, { status: 'dropped' });
  }

  /**
   * The member's reference portrait: the one it has, or, when it has none (or `reroll`), a new one
   * painted as a job in the campaign's art style ({@link portraitPrompt}), stored as a picture of
   * mode `portrait` (turn 0, the previous portrait as parent), billed and counted like any picture.
   * The member must be accepted.
   * @throws CastMemberNotFoundError (also for a member not accepted), the errors of {@link check},
   *   JobInterruptedError and the model errors of {@link paintImage}.
   */
  async portrait(
    request: CastRequest & {
      readonly memberId: number;
      readonly reroll?: boolean;
      /** One of a batch started at once ({@link paintMissing}): the cooldown does not hold it back. */
      readonly batch?: boolean;
    },
    options: { onProgress?: (progress: CastProgress) => void } = {},
  ): Promise<PortraitResult> {
    const member = await this.acceptedMember(request.campaignId, request.memberId);
    const existing = request.reroll ? undefined : await this.existingPortrait(member);
    if (existing) return existing;
    const report = options.onProgress ?? (() => undefined);
    return this.deps.runner.run(
      jobOf(request, 'cast portrait', 1, request.batch !== true),
      async ({ jobId, signal }) => {
        if (request.reroll) return this.paint(request, jobId, signal, report);
        // Two presses of Accept at once, in one process or two, paint one portrait: the lease's
        // holder paints, the others take its portrait once it is saved.
        const key = `portrait ${request.memberId}`;
        const find = async () => this.existingPortrait(await this.acceptedMember(request.campaignId, request.memberId));
        for (;;) {
          const outcome = await this.deps.leases.take(key, jobId, find);
          if (outcome.kind === 'picture') return outcome.picture;
          if (outcome.kind === 'leader') {
            try {
              return await this.paint(request, jobId, signal, report);
            } finally {
              await this.deps.leases.release(key, jobId);
            }
          }
          await sleep(this.deps.config.queue.poll_ms, undefined, { signal });
        }
      },
      { onPosition: (place) => report({ stage: 'queued', place }), imageOf: (result) => result.image.id },
    );
  }

  /**
   * Portraits for every accepted member without one, one job each, in cast order (the CLI's
   * `--accept-all`); members with a portrait are left as they are.
   * @throws as {@link portrait}; members painted before a failure keep their portraits.
   */
  async paintMissing(request: CastRequest, options: { onProgress?: (progress: CastProgress) => void } = {}): Promise<PortraitResult[]> {
    const missing: CastMember[] = [];
    for (const m of await this.deps.cast.list(request.campaignId)) {
      if (m.status === 'accepted' && !(await this.existingPortrait(m))) missing.push(m);
    }
    const out: PortraitResult[] = [];
    for (const member of missing) out.push(await this.portrait({ ...request, memberId: member.id, batch: true }, options));
    return out;
  }

  /**
   * Adds or changes a cast member by name, as the owner describes it: a new one is accepted with
   * `description`; a known one is accepted, taking `description` when given. `image`, when given, is
   * checked like a user's reference (PNG, JPEG, WebP or GIF within `generation.max_input_pixels`),
   * shrunk to 1024 pixels a side and stored as the member's new portrait (mode `portrait`, no model
   * call, nothing billed).
   * @throws CharacterInFileError for a name `campaign.yaml` defines, DescriptionRequiredError for a new
   *   member without a description, ReferenceNotImageError, ReferenceTooManyPixelsError, and the
   *   campaign's loading errors.
   */
  async setCharacter(
    request: CastRequest & { readonly name: string; readonly description?: string; readonly image?: UserReference },
  ): Promise<{ member: CastMember; image?: ImageRow }> {
    const campaign = await this.deps.campaigns.load(request.campaignId);
    const name = request.name.replace(/\s+/g, ' ').trim();
    const description = request.description?.trim() || undefined;
    if (definedCharacters(campaign, await this.deps.cast.list(campaign.id)).some((n) => sameCharacter(n, name))) {
      throw new CharacterInFileError(campaign.id, name);
    }
    const png = request.image ? await userReferencePng(request.image, this.deps.config.generation.max_input_pixels) : undefined;
    const known = await this.deps.cast.find(campaign.id, name);
    if (!known && !description) throw new DescriptionRequiredError(name);
    const member = known
      ? await this.deps.cast.update(known.id, { status: 'accepted', ...(description ? { description } : {}) })
      : await this.deps.cast.add(campaign.id, name, description!, 'accepted');
    if (!png) return { member };
    const image = await this.deps.images.save(
      await normaliseToPng(png, this.deps.config.generation.max_input_pixels),
      {
        campaignId: campaign.id,
        turn: 0,
        mode: 'portrait',
        prompt: `Portrait of ${member.name}, uploaded by its owner.`,
        provider: 'upload',
        model: 'upload',
        textModel: null,
        inputTokens: 0,
        outputTokens: 0,
        costUsd: 0,
        requestedBy: request.requester.userId,
        parentImageId: member.portraitImageId,
      },
      { portraitOf: member.id },
    );
    return { member: (await this.deps.cast.get(member.id))!, image };
  }

  private async paint(
    request: CastRequest & {
      readonly memberId: number;
      readonly reroll?: boolean;
      /** One of a batch started at once ({@link paintMissing}): the cooldown does not hold it back. */
      readonly batch?: boolean;
    },
    jobId: string,
    signal: AbortSignal,
    report: (progress: CastProgress) => void,
  ): Promise<PortraitResult> {
    const { config, images, gateway, cast } = this.deps;
    const campaign = this.checkCampaign(await this.deps.campaigns.load(request.campaignId));
    // Read again inside the job: the description may have been edited, or a portrait painted, while it waited.
    const member = await this.acceptedMember(campaign.id, request.memberId);
    const existing = request.reroll ? undefined : await this.existingPortrait(member);
    if (existing) return existing;
    const origin = { ...originOf(request.requester), campaignId: campaign.id, jobId };
    report({ stage: 'painting-portrait', name: member.name });
    const look = await this.deps.settings.look(request.requester.guildId, campaign.id, campaign.artStyle);
    const prompt = portraitPrompt(member.description, look.artStyle, config.generation.max_prompt_chars);
    const painted = await paintImage(
      gateway,
      config,
      prompt,
      [],
      { record: { origin, purpose: 'portrait' }, signal },
      { model: look.imageModel, aspectRatio: PORTRAIT_ASPECT_RATIO },
    );
    report({ stage: 'saving' });
    const image = await images.save(
      painted,
      {
        campaignId: campaign.id,
        turn: 0,
        mode: 'portrait',
        prompt,
        provider: 'gemini',
        model: painted.model,
        textModel: null,
        inputTokens: painted.usage.inputTokens,
        outputTokens: painted.usage.outputTokens,
        costUsd: painted.usage.costUsd,
        requestedBy: request.requester.userId,
        parentImageId: member.portraitImageId,
      },
      { usageId: painted.usageId, portraitOf: member.id },
    );
    this.deps.log.info({ campaign: campaign.id, member: member.name, imageId: image.id, jobId }, 'cast portrait painted');
    return {
      campaign: { id: campaign.id, name: campaign.name },
      member: (await cast.get(member.id))!,
      image,
      file: images.location(image.imagePath),
      png: painted.png,
      painted: true,
      calls: [painted.usage],
    };
  }

  /** @throws CastMemberNotFoundError when the member is not an accepted one of the campaign. */
  private async acceptedMember(campaignId: string, memberId: number): Promise<CastMember> {
    const member = await this.member(campaignId, memberId);
    if (member.status !== 'accepted') throw new CastMemberNotFoundError(campaignId, member.name);
    return member;
  }

  /** The member's current portrait when it has one still stored. */
  private async existingPortrait(member: CastMember): Promise<PortraitResult | undefined> {
    const image = member.portraitImageId ? await this.deps.images.get(member.portraitImageId) : undefined;
    if (!image) return undefined;
    const campaign = this.deps.campaigns.lastLoaded(member.campaignId);
    return {
      campaign: { id: member.campaignId, name: campaign?.name ?? member.campaignId },
      member,
      image,
      file: this.deps.images.location(image.imagePath),
      painted: false,
      calls: [],
    };
  }

  private checkCampaign(campaign: Campaign): Campaign {
    if (!this.deps.config.generation.enabled || !campaign.enabled) throw new GenerationDisabledError();
    if (campaign.transcript.entries.length === 0) throw new EmptyTranscriptError();
    return campaign;
  }
}

/**
 * Names of the campaign's characters that do not come from its cast: `campaign.yaml`'s, and those
 * play-by-post members registered. Accepted cast members are in `Campaign.characters` under their
 * own names, which is how they are told apart.
 */
function definedCharacters(campaign: Campaign, members: readonly CastMember[]): string[] {
  const accepted = new Set(members.filter((m) => m.status === 'accepted').map((m) => m.name));
  return campaign.characters.filter((c) => !accepted.has(c.name)).map((c) => c.name);
}

/** A cast job: reading the story paints no picture (`pictures` 0), a portrait paints one. */
function jobOf(request: CastRequest, kind: string, pictures: number, cooldown = true) {
  return { kind, campaignId: request.campaignId, ...request.requester, pictures, cooldown };
}
