import { existsSync } from 'node:fs';
import path from 'node:path';
import { KeyedSerialQueue } from '../jobs/serial.ts';
import type { Logger } from '../platform/log.ts';
import { CAMPAIGN_NAME_MAX_CHARS } from './campaign.ts';
import { CampaignFileError, CampaignNotUploadedError } from './errors.ts';
import { parseCampaignId, type CampaignId } from './id.ts';
import type { CampaignRepository } from './repository.ts';
import type { TranscriptEntry } from './transcript.ts';
import { parseUploadedTranscript, type TranscriptFormat } from './uploaded-transcript.ts';

/** An uploaded file: its name (which says its format) and its bytes. */
export interface UploadedFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** A campaign made or changed from an upload. */
export interface UploadedCampaign {
  readonly id: CampaignId;
  readonly name: string;
  /** Turns in the campaign's transcript now. */
  readonly turns: number;
  /** Turns the upload brought. */
  readonly added: number;
  readonly format: TranscriptFormat;
}

/** Longest id made from a campaign's name, characters (ids take 64; room is left for `-2`, `-3`...). */
const SLUG_MAX_CHARS = 48;

/**
 * The use cases "create a guild's campaign from a transcript" and "replace or extend its transcript",
 * for the doors: the upload is read in any of the accepted formats ({@link parseUploadedTranscript}),
 * and the campaign folder gets `campaign.yaml` with `source: { kind: file, guild_id }` (only that
 * guild sees the campaign) and `transcript.jsonl`.
 */
export class CreateCampaign {
  /** Changes of one campaign's transcript, one at a time, so two appends cannot lose one another. */
  private readonly writes = new KeyedSerialQueue();

  constructor(private readonly deps: { readonly campaigns: CampaignRepository; readonly log: Logger }) {}

  /**
   * Creates a campaign owned by `guildId` from an uploaded transcript; its id is made from `name`
   * (lowercase letters, digits and dashes), numbered when taken.
   * @param input.by - Who asked (Discord user id or `cli`), for the log.
   * @throws CampaignFileError naming the upload and the line or entry at fault, or the name's problem.
   */
  async create(input: { name: string; guildId: string; file: UploadedFile; by: string }): Promise<UploadedCampaign> {
    const upload = parseUploadedTranscript(input.file.name, input.file.bytes);
    const name = input.name.trim().slice(0, CAMPAIGN_NAME_MAX_CHARS);
    // One creation at a time, so two campaigns of the same name cannot both take the free id.
    const id = await this.writes.run('', async () => {
      const free = this.freeId(name);
      const definition = { name, source: { kind: 'file', guild_id: input.guildId }, ...(upload.attribution ? { attribution: upload.attribution } : {}) } as const;
      try {
        await this.deps.campaigns.create(free, definition, upload.entries);
      } catch (err) {
        throw err instanceof CampaignFileError ? err.relativeTo(this.deps.campaigns.root) : err;
      }
      return free;
    });
    this.deps.log.info({ campaign: id, guild: input.guildId, by: input.by, turns: upload.entries.length, format: upload.format }, 'campaign created from an upload');
    return { id, name, turns: upload.entries.length, added: upload.entries.length, format: upload.format };
  }

  /**
   * Replaces the transcript of a campaign `guildId` created from an upload, or with `append` adds the
   * upload's turns after its last turn (numbered on from it, in the upload's order).
   * @throws InvalidCampaignIdError, CampaignNotFoundError, CampaignFileError, and CampaignNotUploadedError
   *   for a campaign this guild did not upload (the operator's, or a play-by-post channel's).
   */
  async update(input: { campaignId: string; guildId: string; file: UploadedFile; append: boolean; by: string }): Promise<UploadedCampaign> {
    const id = await this.requireUploaded(input.campaignId, input.guildId);
    const upload = parseUploadedTranscript(input.file.name, input.file.bytes);
    return this.writes.run(id, async () => {
      const campaign = await this.deps.campaigns.load(id);
      let entries: readonly TranscriptEntry[] = upload.entries;
      if (input.append) {
        const last = campaign.transcript.lastTurn;
        entries = [...campaign.transcript.entries, ...upload.entries.map((e, i) => ({ ...e, turn: last + i + 1 }))];
      }
      await this.deps.campaigns.replaceTranscript(id, entries);
      this.deps.log.info(
        { campaign: id, guild: input.guildId, by: input.by, added: upload.entries.length, turns: entries.length, append: input.append, format: upload.format },
        'campaign transcript updated from an upload',
      );
      return { id, name: campaign.name, turns: entries.length, added: upload.entries.length, format: upload.format };
    });
  }

  /**
   * The campaign's id when `guildId` made it from an upload (so {@link update} may change it).
   * @throws InvalidCampaignIdError, CampaignNotFoundError, CampaignFileError, CampaignNotUploadedError
   */
  async requireUploaded(campaignId: string, guildId: string): Promise<CampaignId> {
    const id = parseCampaignId(campaignId);
    const source = await this.deps.campaigns.source(id);
    if (source.kind !== 'file' || source.guildId !== guildId) throw new CampaignNotUploadedError(id);
    return id;
  }

  /** An id made from `name` that no campaign folder has yet. */
  private freeId(name: string): CampaignId {
    let slug = name
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, SLUG_MAX_CHARS)
      .replace(/-+$/, '');
    // `ch-<digits>` is the id of a channel's play-by-post campaign.
    if (slug === '' || /^ch-\d/.test(slug)) slug = `campaign${slug ? `-${slug}` : ''}`.slice(0, SLUG_MAX_CHARS);
    for (let n = 1; ; n++) {
      const id = parseCampaignId(n === 1 ? slug : `${slug}-${n}`);
      if (!existsSync(path.join(this.deps.campaigns.root, id))) return id;
    }
  }
}
