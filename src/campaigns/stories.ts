import path from 'node:path';
import { and, asc, desc, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import type { ChannelSource, Character } from './campaign.ts';
import { snowflakeKey, storyTranscript, type ChannelMessage, type ChannelStories, type RegisteredCharacter } from './channel.ts';
import type { CampaignId } from './id.ts';
import type { Transcript } from './transcript.ts';
import type { SqliteStore } from '../platform/db.ts';
import { storyCharacters, storyMessages } from '../platform/schema.ts';

/** SQLite's limit on bound parameters is 32,766; deletions of unseen messages go in chunks well below it. */
const CHUNK = 500;

/**
 * Play-by-post stories in SQLite: the messages of recorded channels (`story_messages`) and the
 * characters members registered (`story_characters`). Reads them back as transcripts for
 * {@link CampaignRepository}, leaving out messages starting with the out-of-character prefix.
 */
export class StoryStore implements ChannelStories {
  /** @param oocPrefix - `play_by_post.ooc_prefix`: messages starting with it are not story ('' marks none). */
  constructor(
    private readonly store: SqliteStore,
    private readonly oocPrefix: string,
  ) {}

  /**
   * Stores messages as they read now, in one transaction. A message already deleted stays deleted,
   * and a version older than the stored one (by `editedAt`) is ignored, so a history page fetched
   * before a live edit or deletion cannot undo it.
   */
  record(messages: readonly ChannelMessage[]): void {
    if (messages.length === 0) return;
    this.store.db.transaction((tx) => {
      for (const m of messages) {
        tx.insert(storyMessages)
          .values({ ...m, messageId: m.id, sortKey: snowflakeKey(m.id), deleted: false })
          .onConflictDoUpdate({
            target: storyMessages.messageId,
            set: {
              authorName: sql`excluded.author_name`,
              content: sql`excluded.content`,
              editedAt: sql`excluded.edited_at`,
            },
            setWhere: sql`${storyMessages.deleted} = 0 and coalesce(excluded.edited_at, '') >= coalesce(${storyMessages.editedAt}, '')`,
          })
          .run();
      }
    });
  }

  /** Marks messages deleted (a tombstone without text), whether or not they were stored. */
  remove(channelId: string, ids: readonly string[]): void {
    if (ids.length === 0) return;
    this.store.db.transaction((tx) => {
      for (const id of ids) {
        const tombstone = { channelId, sortKey: snowflakeKey(id), authorId: '', authorName: '', content: '', createdAt: '', deleted: true };
        tx.insert(storyMessages)
          .values({ messageId: id, ...tombstone })
          .onConflictDoUpdate({ target: storyMessages.messageId, set: { content: '', deleted: true } })
          .run();
      }
    });
  }

  /**
   * After reading a channel's whole history from `fromId` to `toId` (inclusive): marks deleted the
   * stored messages of that span the history no longer has, i.e. those deleted while unrecorded.
   * @param seen - Ids of every message the history returned in the span.
   * @returns How many messages were marked deleted.
   */
  forgetUnseen(channelId: string, fromId: string, toId: string, seen: ReadonlySet<string>): number {
    const stored = this.store.db
      .select({ id: storyMessages.messageId })
      .from(storyMessages)
      .where(
        and(
          eq(storyMessages.channelId, channelId),
          eq(storyMessages.deleted, false),
          gte(storyMessages.sortKey, snowflakeKey(fromId)),
          lte(storyMessages.sortKey, snowflakeKey(toId)),
        ),
      )
      .all();
    const gone = stored.map((r) => r.id).filter((id) => !seen.has(id));
    for (let i = 0; i < gone.length; i += CHUNK) {
      this.store.db
        .update(storyMessages)
        .set({ content: '', deleted: true })
        .where(inArray(storyMessages.messageId, gone.slice(i, i + CHUNK)))
        .run();
    }
    return gone.length;
  }

  /** The newest message id stored for a channel (deleted ones included), or undefined. */
  latestId(channelId: string): string | undefined {
    return this.store.db
      .select({ id: storyMessages.messageId })
      .from(storyMessages)
      .where(eq(storyMessages.channelId, channelId))
      .orderBy(desc(storyMessages.sortKey))
      .limit(1)
      .get()?.id;
  }

  /** A channel's messages from `fromId` on (inclusive), oldest first, without deleted ones. */
  messages(channelId: string, fromId: string): ChannelMessage[] {
    return this.store.db
      .select({
        id: storyMessages.messageId,
        channelId: storyMessages.channelId,
        authorId: storyMessages.authorId,
        authorName: storyMessages.authorName,
        content: storyMessages.content,
        createdAt: storyMessages.createdAt,
        editedAt: storyMessages.editedAt,
        webhookId: storyMessages.webhookId,
      })
      .from(storyMessages)
      .where(
        and(eq(storyMessages.channelId, channelId), eq(storyMessages.deleted, false), gte(storyMessages.sortKey, snowflakeKey(fromId))),
      )
      .orderBy(asc(storyMessages.sortKey))
      .all();
  }

  /** Registers (or replaces) the character a member plays in a campaign. */
  setCharacter(campaignId: string, character: RegisteredCharacter): void {
    const row = { ...character, campaignId, updatedAt: new Date().toISOString() };
    this.store.db
      .insert(storyCharacters)
      .values(row)
      .onConflictDoUpdate({
        target: [storyCharacters.campaignId, storyCharacters.userId],
        set: { name: row.name, description: row.description, portrait: row.portrait, proxyName: row.proxyName, updatedAt: row.updatedAt },
      })
      .run();
  }

  /** The characters registered in a campaign, by name. */
  characters(campaignId: string): RegisteredCharacter[] {
    return this.store.db
      .select({
        userId: storyCharacters.userId,
        name: storyCharacters.name,
        description: storyCharacters.description,
        portrait: storyCharacters.portrait,
        proxyName: storyCharacters.proxyName,
      })
      .from(storyCharacters)
      .where(eq(storyCharacters.campaignId, campaignId))
      .orderBy(asc(storyCharacters.name))
      .all();
  }

  /** The campaign's story ({@link storyTranscript}) and its registered characters with portraits under `dir`. */
  read(campaignId: CampaignId, dir: string, source: ChannelSource): { transcript: Transcript; characters: Character[] } {
    const registered = this.characters(campaignId);
    const transcript = storyTranscript(
      source,
      this.messages(source.channelId, source.startId),
      registered,
      this.oocPrefix,
    );
    const characters = registered.map((c): Character =>
      c.portrait === null
        ? { name: c.name, description: c.description }
        : { name: c.name, description: c.description, referenceImage: path.join(dir, c.portrait) },
    );
    return { transcript, characters };
  }
}
