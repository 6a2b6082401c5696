import { eq } from 'drizzle-orm';
import type { Store } from '../../platform/db.ts';

/** One key moment: the turn (1-based) and its one-line caption. */
export interface Moment {
  readonly turn: number;
  readonly caption: string;
}

/** A recap's moments and summary as the scanner gave them. */
export interface MomentsAnswer {
  /** In story order, distinct turns. */
  readonly moments: readonly Moment[];
  readonly recap: string;
}

/** Recap storyboards in the `moment_cache` table, keyed by content hashes {@link MomentScanner} computes. */
export class MomentCache {
  constructor(private readonly store: Store) {}

  /** The answer stored under `key`, if any. */
  async get(key: string): Promise<MomentsAnswer | undefined> {
    const { momentCache } = this.store.tables;
    const [row] = await this.store.db.select({ answer: momentCache.answer }).from(momentCache).where(eq(momentCache.key, key)).limit(1);
    return row ? (JSON.parse(row.answer) as MomentsAnswer) : undefined;
  }

  /** Stores (or replaces) the answer under `key`. */
  async put(key: string, campaignId: string, answer: MomentsAnswer): Promise<void> {
    const { momentCache } = this.store.tables;
    const row = { key, campaignId, answer: JSON.stringify(answer), createdAt: new Date().toISOString() };
    await this.store.db
      .insert(momentCache)
      .values(row)
      .onConflictDoUpdate({ target: momentCache.key, set: { campaignId, answer: row.answer, createdAt: row.createdAt } });
  }
}
