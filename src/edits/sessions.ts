import { and, desc, eq } from 'drizzle-orm';
import type { SqliteStore } from '../platform/db.ts';
import { editSessions, type EditSessionRow } from '../platform/schema.ts';

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
 * Edit sessions in SQLite: at most one per user per campaign (the table's primary key), so a user
 * can refine a picture in each campaign they play in. Generating a scene or editing a picture moves
 * the session; deleting its picture moves it to that picture's parent or ends it ({@link SessionStore.replaceImage}).
 */
export class SessionStore {
  constructor(private readonly store: SqliteStore) {}

  /** The user's session in a campaign, or undefined. */
  get(userId: string, campaignId: string): EditSession | undefined {
    return this.store.db
      .select()
      .from(editSessions)
      .where(and(eq(editSessions.userId, userId), eq(editSessions.campaignId, campaignId)))
      .get();
  }

  /** Every session of a user, most recently moved first. */
  ofUser(userId: string): EditSession[] {
    return this.store.db.select().from(editSessions).where(eq(editSessions.userId, userId)).orderBy(desc(editSessions.updatedAt)).all();
  }

  /** Creates or replaces the user's session in `move.campaignId` so it points at `move.imageId`. */
  moveTo(move: SessionMove): EditSession {
    const updatedAt = new Date().toISOString();
    const set = { currentImageId: move.imageId, updatedAt };
    return (
      this.store.db
        .insert(editSessions)
        // last_prompt is NOT NULL in the migrations but never read: the picture's row has its prompt.
        .values({ userId: move.userId, campaignId: move.campaignId, lastPrompt: '', ...set })
        .onConflictDoUpdate({ target: [editSessions.userId, editSessions.campaignId], set })
        .returning()
        .get()
    );
  }

  /**
   * Sessions on a picture that is going away move to `replacement` (its parent) or, without one, end.
   * Returns how many moved and how many ended.
   */
  replaceImage(imageId: string, replacement: string | null): { moved: number; ended: number } {
    const on = eq(editSessions.currentImageId, imageId);
    if (replacement) {
      const moved = this.store.db
        .update(editSessions)
        .set({ currentImageId: replacement, updatedAt: new Date().toISOString() })
        .where(on)
        .run().changes;
      return { moved, ended: 0 };
    }
    return { moved: 0, ended: this.store.db.delete(editSessions).where(on).run().changes };
  }
}
