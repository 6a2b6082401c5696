import type { ChannelSource, Character } from './campaign.ts';
import { parseCampaignId, type CampaignId } from './id.ts';
import type { Transcript, TranscriptEntry } from './transcript.ts';

/**
 * A story message of a recorded channel as it reads now: a person's, one posted through a channel
 * webhook (a proxied character), or a listed narrator bot's. Other bots', system and command
 * messages are never recorded; out-of-character ones are, and are left out when the story is read
 * (see {@link storyTranscript}).
 */
export interface ChannelMessage {
  /** Snowflake; ordering by id is ordering by time. */
  readonly id: string;
  readonly channelId: string;
  /** The person's or bot's user id; for a proxied message, the webhook's id. */
  readonly authorId: string;
  /** The author's display name when the message was last seen; for a proxied message, the name it was posted under. */
  readonly authorName: string;
  /** The webhook a proxied message was posted through, or null. */
  readonly webhookId: string | null;
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
  /** The name a proxy bot posts the character's messages under (matched ignoring case), or null. */
  readonly proxyName: string | null;
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
  read(campaignId: CampaignId, dir: string, source: ChannelSource): Promise<{ transcript: Transcript; characters: Character[] }>;
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
 * without out-of-character and empty ones, numbered 1, 2, ... Speakers are the registered character
 * of the author (by user id) or, for a proxied message, the character whose proxy name it was posted
 * under; else the display name.
 * @param messages - The channel's recorded messages in id order.
 * @param characters - The characters registered in the campaign.
 * @param oocPrefix - Messages starting with it are not story (`play_by_post.ooc_prefix`).
 */
export function storyTranscript(
  source: ChannelSource,
  messages: readonly ChannelMessage[],
  characters: readonly RegisteredCharacter[],
  oocPrefix: string,
): Transcript {
  const byUser = new Map(characters.map((c) => [c.userId, c.name]));
  const byProxy = new Map(characters.flatMap((c) => (c.proxyName ? [[proxyKey(c.proxyName), c.name] as const] : [])));
  const speakerOf = (m: ChannelMessage) =>
    (m.webhookId === null ? byUser.get(m.authorId) : byProxy.get(proxyKey(m.authorName))) ?? m.authorName;
  const start = snowflakeKey(source.startId);
  const entries: TranscriptEntry[] = [];
  for (const m of messages) {
    const text = m.content.trim();
    if (snowflakeKey(m.id) < start || text === '' || isOutOfCharacter(text, oocPrefix)) continue;
    entries.push({
      turn: entries.length + 1,
      speaker: speakerOf(m),
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

/** A proxy name as matched: proxies and players differ in case and surrounding blanks. */
function proxyKey(name: string): string {
  return name.trim().toLowerCase();
}
