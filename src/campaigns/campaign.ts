import { z } from 'zod';
import type { CampaignId } from './id.ts';
import type { Transcript } from './transcript.ts';

/** A character as the prompt writer sees it. Names never reach the image prompt; descriptions do. */
export interface Character {
  readonly name: string;
  /** What the character looks like, in words. */
  readonly description: string;
  /** Absolute path of a reference portrait inside the campaign folder, when one is configured. */
  readonly referenceImage?: string;
  /** A cast portrait's key in the picture storage (`<campaign>/images/<id>.png`), when the cast gives one. */
  readonly storedPortrait?: string;
}

/** A character of the campaign's cast (`/scene cast`) the owner accepted, as the campaign reads it. */
export interface CastCharacter {
  readonly name: string;
  readonly description: string;
  /** The portrait's stored path relative to the campaigns folder (`<campaign>/images/<id>.png`), or null. */
  readonly portraitPath: string | null;
}

/** Reads the accepted cast of campaigns for {@link Campaign.characters}. */
export interface CastCharacters {
  /** Accepted characters, in cast order. */
  accepted(campaignId: string): Promise<CastCharacter[]>;
}

/** A campaign: its definition (campaign.yaml) and its transcript. */
export interface Campaign {
  readonly id: CampaignId;
  /** Absolute path of `campaigns/<id>/`. */
  readonly dir: string;
  /** Display name, e.g. "Arrival at Kraghammer". */
  readonly name: string;
  /** Appended to every image prompt, e.g. "digital fantasy painting, dramatic lighting". */
  readonly artStyle: string;
  /** false switches image generation off for this campaign. */
  readonly enabled: boolean;
  /**
   * `campaign.yaml`'s characters, then those play-by-post members registered, then the accepted cast
   * (a cast member of the same name as an earlier character is left out: the file wins).
   */
  readonly characters: readonly Character[];
  /** Credit for a transcript taken from elsewhere (e.g. CRD3's CC BY-SA notice). */
  readonly attribution?: string;
  /** Where the story comes from: a transcript file in the folder, or a play-by-post channel. */
  readonly source: CampaignSource;
  readonly transcript: Transcript;
}

/**
 * Where a campaign's story comes from: a transcript file in the folder (put there by the operator
 * for every guild, or uploaded in one guild, `guildId`, which alone sees it), or a play-by-post channel.
 */
export type CampaignSource = { readonly kind: 'file'; /** Snowflake of the guild that owns it. */ readonly guildId?: string } | ChannelSource;

/**
 * Where a play-by-post campaign's story comes from: the messages of one Discord channel or thread.
 * Ids are Discord snowflakes (17-20 digits).
 */
export interface ChannelSource {
  readonly kind: 'channel';
  readonly guildId: string;
  /** The channel, or the thread (threads are channels with a parent). */
  readonly channelId: string;
  /**
   * The story starts here, inclusive: the message named when linking, or the link command's own id
   * (a snowflake of the link time, so the story is what was posted after it).
   */
  readonly startId: string;
}

const relativeFile = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'), {
    message: 'must be a path inside the campaign folder',
  });

const snowflake = z.string().regex(/^\d{17,20}$/, 'a Discord id (snowflake)');

/**
 * `source` in `campaign.yaml`: absent or `{ kind: file }` reads the transcript file in the folder
 * (`{ kind: file, guild_id }` for a campaign uploaded in, and seen only by, that guild);
 * `{ kind: channel, guild_id, channel_id, start_id }` reads a play-by-post channel's recorded messages.
 */
export const campaignSourceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('file'), guild_id: snowflake.optional() }),
  z.strictObject({ kind: z.literal('channel'), guild_id: snowflake, channel_id: snowflake, start_id: snowflake }),
]);

/** Longest campaign `name`, characters. */
export const CAMPAIGN_NAME_MAX_CHARS = 100;

/** The schema of `campaign.yaml`. Unknown keys are refused so typos surface. */
export const campaignFileSchema = z.strictObject({
  name: z.string().min(1).max(CAMPAIGN_NAME_MAX_CHARS),
  art_style: z.string().max(500).default('digital fantasy painting, dramatic lighting, rich colours'),
  enabled: z.boolean().default(true),
  attribution: z.string().optional(),
  characters: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(100),
        description: z.string().min(1).max(1000),
        reference_image: relativeFile.optional(),
      }),
    )
    .default([]),
  source: campaignSourceSchema.default({ kind: 'file' }),
});

/** `campaign.yaml` as written on disk. */
export type CampaignFile = z.input<typeof campaignFileSchema>;

/** `campaign.yaml` as read: {@link CampaignFile} with its defaults filled in. */
export type CampaignDefinition = z.output<typeof campaignFileSchema>;
