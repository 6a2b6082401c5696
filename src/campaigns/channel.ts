import type { ChannelSource, Character } from './campaign.ts';
import { parseCampaignId, type CampaignId } from './id.ts';
import type { Transcript, TranscriptEntry } from './transcript.ts';

/**
 * A human message of a recorded channel as it reads now. Bot, system and command messages are
 * never recorded; out-of-character ones are, and are left out when the story is read (see {@link storyTranscript}).
 */
export interface ChannelMessage {
  /** Snowflake; ordering by id is ordering by time. */
  readonly id: string;
  readonly channelId: string;
  readonly authorId: string;
  /** The author's display name when the message was last seen. */
  readonly authorName: string;
  /** The text with mentions written out as names. */
  readonly content: string;
  /** ISO 8601 UTC. */
  readonly createdAt: string;
  /** ISO 8601 UTC of the latest edit, or null. */
  readonly editedAt: string | null;
}

/** A character a member registered for their messages in a play-by-post campaign (`/scene character`). */
export interface RegisteredCharacter {
  /** Discord user id of the member who plays it. */
  readonly userId: string;
  readonly name: string;
  readonly description: string;
  /** The portrait's path relative to the campaign folder, when one was given. */
  readonly portrait: string | null;
}

/**
 * Reads play-by-post stories for {@link CampaignRepository}: the campaign's transcript and the
 * characters its members registered, so a channel campaign loads like any other.
 */
export interface ChannelStories {
  /**
   * The story of a channel campaign as it is now.
   * @param dir - Absolute path of the campaign folder (portraits are kept in it).
   */
  read(campaignId: CampaignId, dir: string, source: ChannelSource): { transcript: Transcript; characters: Character[] };
}

const SNOWFLAKE = /^\d{17,20}$/;

/** True for a Discord id: 17-20 digits. */
export function isSnowflake(value: string): boolean {
  return SNOWFLAKE.test(value);
}

/** The campaign id of a channel's play-by-post campaign: `ch-<channel id>`. */
export function channelCampaignId(channelId: string): CampaignId {
  return parseCampaignId(`ch-${channelId}`);
}

/** A snowflake left-padded to 20 digits, so that text order is id (and so time) order. */
export function snowflakeKey(id: string): string {
  return id.padStart(20, '0');
}

/** The snowflake just before `id`: a history page `after` it starts with `id` itself. */
export function previousSnowflake(id: string): string {
  return (BigInt(id) - 1n).toString();
}

/** True when `content` is out of character: it starts (after blanks) with `prefix`. An empty prefix marks nothing. */
export function isOutOfCharacter(content: string, prefix: string): boolean {
  return prefix !== '' && content.trimStart().startsWith(prefix);
}

/**
 * The transcript of a play-by-post channel: its messages from `source.startId` on, in id order,
 * without out-of-character and empty ones, numbered 1, 2, ... Speakers are the authors' registered
 * character names, else their display names.
 * @param messages - The channel's recorded messages in id order.
 * @param characterOf - Registered character name by author id.
 * @param oocPrefix - Messages starting with it are not story (`play_by_post.ooc_prefix`).
 */
export function storyTranscript(
  source: ChannelSource,
  messages: readonly ChannelMessage[],
  characterOf: ReadonlyMap<string, string>,
  oocPrefix: string,
): Transcript {
  const start = snowflakeKey(source.startId);
  const entries: TranscriptEntry[] = [];
  for (const m of messages) {
    const text = m.content.trim();
    if (snowflakeKey(m.id) < start || text === '' || isOutOfCharacter(text, oocPrefix)) continue;
    entries.push({
      turn: entries.length + 1,
      speaker: characterOf.get(m.authorId) ?? m.authorName,
      text,
      timestamp: m.createdAt,
      messageId: m.id,
    });
  }
  return {
    file: `https://discord.com/channels/${source.guildId}/${source.channelId}`,
    entries,
    firstTurn: entries.length > 0 ? 1 : 0,
    lastTurn: entries.length,
  };
}
