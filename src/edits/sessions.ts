import { and, desc, eq } from 'drizzle-orm';
import type { Db, Store, Tables } from '../platform/db.ts';
import type { EditSessionRow } from '../platform/schema.ts';

/**
 * A user's active edit session in one campaign: the picture their next `/scene edit` changes.
 * `userId` is a Discord user id (snowflake) or `cli`; `updatedAt` is ISO 8601 UTC.
 */
export type EditSession = EditSessionRow;

/** Where a session moves: the picture it now points at. */
export interface SessionMove {
  readonly userId: string;
  readonly campaignId: string;
  readonly imageId: string;
}

/**
 * Edit sessions in the database: at most one per user per campaign (the table's primary key), so a
 * user can refine a picture in each campaign they play in. Generating a scene or editing a picture
 * moves the session (in the transaction that saves the picture, {@link moveSession}); deleting its
 * picture moves it to that picture's parent or ends it ({@link replaceSessionImage}).
 */
export class SessionStore {
  constructor(private readonly store: Store) {}

  /** The user's session in a campaign, or undefined. */
  async get(userId: string, campaignId: string): Promise<EditSession | undefined> {
    const { editSessions } = this.store.tables;
    const rows = await this.store.db
      .select()
      .from(editSessions)
      .where(and(eq(editSessions.userId, userId), eq(editSessions.campaignId, campaignId)))
      .limit(1);
    return rows[0];
  }

  /** Every session of a user, most recently moved first. */
  async ofUser(userId: string): Promise<EditSession[]> {
    const { editSessions } = this.store.tables;
    return this.store.db.select().from(editSessions).where(eq(editSessions.userId, userId)).orderBy(desc(editSessions.updatedAt));
  }

  /** Creates or replaces the user's session in `move.campaignId` so it points at `move.imageId`; returns it. */
  async moveTo(move: SessionMove): Promise<EditSession> {
    return (await moveSession(this.store.db, this.store.tables, move))[0]!;
  }
}

/**
 * The statement that creates or replaces a user's session so it points at `move.imageId`, returning
 * the session, on `db`: the store's, or a transaction's when the move belongs to a picture being saved.
 * Not yet run: await it, or `.all()` it inside a SQLite transaction.
 */
export function moveSession(db: Db, tables: Tables, move: SessionMove) {
  const { editSessions } = tables;
  const set = { currentImageId: move.imageId, updatedAt: new Date().toISOString() };
  return (
    db
      .insert(editSessions)
      // last_prompt is NOT NULL in the migrations but never read: the picture's row has its prompt.
      .values({ userId: move.userId, campaignId: move.campaignId, lastPrompt: '', ...set })
      .onConflictDoUpdate({ target: [editSessions.userId, editSessions.campaignId], set })
      .returning()
  );
}

/**
 * The statement that moves the sessions on a picture that is going away to `replacement` (its parent)
 * or, without one, ends them, on `db` (see {@link moveSession}). It returns one row per session
 * moved or ended.
 */
export function replaceSessionImage(db: Db, tables: Tables, imageId: string, replacement: string | null) {
  const { editSessions } = tables;
  const on = eq(editSessions.currentImageId, imageId);
  return replacement
    ? db
        .update(editSessions)
        .set({ currentImageId: replacement, updatedAt: new Date().toISOString() })
        .where(on)
        .returning({ userId: editSessions.userId })
    : db.delete(editSessions).where(on).returning({ userId: editSessions.userId });
}
