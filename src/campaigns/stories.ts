import path from 'node:path';
import { and, asc, desc, eq, gte, inArray, lte, sql } from 'drizzle-orm';
import type { ChannelSource, Character } from './campaign.ts';
import { snowflakeKey, storyTranscript, type ChannelMessage, type ChannelStories, type RegisteredCharacter } from './channel.ts';
import type { CampaignId } from './id.ts';
import type { Transcript } from './transcript.ts';
import { writeTransaction, type Db, type Store } from '../platform/db.ts';

/**
 * Rows a statement writes at most: SQLite's limit on bound parameters is 32,766 and PostgreSQL's
 * 65,535; a story message binds 10.
 */
const CHUNK = 500;

/** A statement built on a transaction, run by the dialect's way ({@link StoryStore.write}). */
type Statement = { run(): unknown } & PromiseLike<unknown>;

/**
 * Play-by-post stories in the database: the messages of recorded channels (`story_messages`) and the
 * characters members registered (`story_characters`). Reads them back as transcripts for
 * {@link CampaignRepository}, leaving out messages starting with the out-of-character prefix.
 */
export class StoryStore implements ChannelStories {
  /** @param oocPrefix - `play_by_post.ooc_prefix`: messages starting with it are not story ('' marks none). */
  constructor(
    private readonly store: Store,
    private readonly oocPrefix: string,
  ) {}

  /**
   * Stores messages as they read now, in one transaction. A message already deleted stays deleted,
   * and a version older than the stored one (by `editedAt`) is ignored, so a history page fetched
   * before a live edit or deletion cannot undo it. Of several versions of one message in
   * `messages`, the newest (the later one on a tie) is kept.
   */
  async record(messages: readonly ChannelMessage[]): Promise<void> {
    const { storyMessages } = this.store.tables;
    const newest = new Map<string, ChannelMessage>();
    for (const m of messages) {
      const kept = newest.get(m.id);
      if (!kept || (m.editedAt ?? '') >= (kept.editedAt ?? '')) newest.set(m.id, m);
    }
    // One row per message: PostgreSQL refuses a statement that updates a row twice. PostgreSQL's text
    // cannot hold U+0000 either (one such message would fail its whole history page); it shows as nothing.
    const rows = [...newest.values()].map((m) => ({
      ...m,
      authorName: withoutNul(m.authorName),
      content: withoutNul(m.content),
      messageId: m.id,
      sortKey: snowflakeKey(m.id),
      deleted: false,
    }));
    await this.write(chunks(rows).map((chunk) => (tx) =>
      tx
        .insert(storyMessages)
        .values(chunk)
        .onConflictDoUpdate({
          target: storyMessages.messageId,
          set: {
            authorName: sql`excluded.author_name`,
            content: sql`excluded.content`,
            editedAt: sql`excluded.edited_at`,
          },
          setWhere: sql`not ${storyMessages.deleted} and coalesce(excluded.edited_at, '') >= coalesce(${storyMessages.editedAt}, '')`,
        }),
    ));
  }

  /** Marks messages deleted (a tombstone without text), whether or not they were stored. */
  async remove(channelId: string, ids: readonly string[]): Promise<void> {
    const { storyMessages } = this.store.tables;
    const tombstones = [...new Set(ids)].map((id) => ({
      messageId: id,
      channelId,
      sortKey: snowflakeKey(id),
      authorId: '',
      authorName: '',
      content: '',
      createdAt: '',
      deleted: true,
    }));
    await this.write(chunks(tombstones).map((chunk) => (tx) =>
      tx
        .insert(storyMessages)
        .values(chunk)
        .onConflictDoUpdate({ target: storyMessages.messageId, set: { content: '', deleted: true } }),
    ));
  }

  /**
   * After reading a channel's whole history from `fromId` to `toId` (inclusive): marks deleted the
   * stored messages of that span the history no longer has, i.e. those deleted while unrecorded.
   * @param seen - Ids of every message the history returned in the span.
   * @returns How many messages were marked deleted.
   */
  async forgetUnseen(channelId: string, fromId: string, toId: string, seen: ReadonlySet<string>): Promise<number> {
    const { storyMessages } = this.store.tables;
    const stored = await this.store.db
      .select({ id: storyMessages.messageId })
      .from(storyMessages)
      .where(
        and(
          eq(storyMessages.channelId, channelId),
          eq(storyMessages.deleted, false),
          gte(storyMessages.sortKey, snowflakeKey(fromId)),
          lte(storyMessages.sortKey, snowflakeKey(toId)),
        ),
      );
    const gone = stored.map((r) => r.id).filter((id) => !seen.has(id));
    await this.write(chunks(gone).map((chunk) => (tx) =>
      tx.update(storyMessages).set({ content: '', deleted: true }).where(inArray(storyMessages.messageId, chunk)),
    ));
    return gone.length;
  }

  /** The newest message id stored for a channel (deleted ones included), or undefined. */
  async latestId(channelId: string): Promise<string | undefined> {
    const { storyMessages } = this.store.tables;
    const [row] = await this.store.db
      .select({ id: storyMessages.messageId })
      .from(storyMessages)
      .where(eq(storyMessages.channelId, channelId))
      .orderBy(desc(storyMessages.sortKey))
      .limit(1);
    return row?.id;
  }

  /** A channel's messages from `fromId` on (inclusive), oldest first, without deleted ones. */
  async messages(channelId: string, fromId: string): Promise<ChannelMessage[]> {
    const { storyMessages } = this.store.tables;
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
      .orderBy(asc(storyMessages.sortKey));
  }

  /** Registers (or replaces) the character a member plays in a campaign. */
  async setCharacter(campaignId: string, character: RegisteredCharacter): Promise<void> {
    const { storyCharacters } = this.store.tables;
    const row = { ...character, campaignId, updatedAt: new Date().toISOString() };
    await this.store.db
      .insert(storyCharacters)
      .values(row)
      .onConflictDoUpdate({
        target: [storyCharacters.campaignId, storyCharacters.userId],
        set: { name: row.name, description: row.description, portrait: row.portrait, proxyName: row.proxyName, updatedAt: row.updatedAt },
      });
  }

  /** The characters registered in a campaign, by name (then by member). */
  async characters(campaignId: string): Promise<RegisteredCharacter[]> {
    const { storyCharacters } = this.store.tables;
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
      .orderBy(asc(storyCharacters.name), asc(storyCharacters.userId));
  }

  /** The campaign's story ({@link storyTranscript}) and its registered characters with portraits under `dir`. */
  async read(campaignId: CampaignId, dir: string, source: ChannelSource): Promise<{ transcript: Transcript; characters: Character[] }> {
    const [registered, messages] = await Promise.all([this.characters(campaignId), this.messages(source.channelId, source.startId)]);
    const transcript = storyTranscript(source, messages, registered, this.oocPrefix);
    const characters = registered.map((c): Character =>
      c.portrait === null
        ? { name: c.name, description: c.description }
        : { name: c.name, description: c.description, referenceImage: path.join(dir, c.portrait) },
    );
    return { transcript, characters };
  }

  /**
   * Runs the statements in one transaction (none: nothing). The lock keeps two processes' batches
   * from interleaving, so they cannot deadlock on rows they both write in a different order.
   */
  private async write(statements: ReadonlyArray<(tx: Db) => Statement>): Promise<void> {
    if (statements.length === 0) return;
    await writeTransaction(this.store, 'story_messages', {
      sqlite: (tx) => {
        for (const statement of statements) statement(tx).run();
      },
      postgres: async (tx) => {
        for (const statement of statements) await statement(tx);
      },
    });
  }
}

/** `text` without U+0000, which PostgreSQL's text refuses. */
function withoutNul(text: string): string {
  return text.replaceAll('\u0000', '');
}

/** `items` in slices of at most {@link CHUNK}. */
function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}
