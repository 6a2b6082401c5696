import { and, desc, eq, like } from 'drizzle-orm';
import type { SqliteStore } from '../../platform/db.ts';
import { scanCache } from '../../platform/schema.ts';

/** A turn the scanner chose and why (one sentence from the model). `turn` is 1-based. */
export interface ScanPick {
  readonly turn: number;
  readonly rationale: string;
}

/**
 * Transcript readings in the `scan_cache` table, keyed by content hashes their readers compute: for
 * `/scene best`, `passage:<hex>` holds one passage's candidate and `final:<hex>` the winner for a whole
 * transcript; other readers (the cast proposer) keep a text answer under their own prefix ({@link getText}).
 */
export class ScanCache {
  constructor(private readonly store: SqliteStore) {}

  /** The pick stored under `key`, if any. */
  get(key: string): ScanPick | undefined {
    const row = this.store.db
      .select({ turn: scanCache.turn, rationale: scanCache.rationale })
      .from(scanCache)
      .where(eq(scanCache.key, key))
      .get();
    return row ?? undefined;
  }

  /** Stores (or replaces) the pick under `key`. */
  put(key: string, campaignId: string, pick: ScanPick): void {
    const row = { key, campaignId, turn: pick.turn, rationale: pick.rationale, createdAt: new Date().toISOString() };
    this.store.db
      .insert(scanCache)
      .values(row)
      .onConflictDoUpdate({
        target: scanCache.key,
        set: { campaignId, turn: pick.turn, rationale: pick.rationale, createdAt: row.createdAt },
      })
      .run();
  }

  /** The text stored under `key` with {@link putText}, if any. */
  getText(key: string): string | undefined {
    return this.store.db.select({ text: scanCache.rationale }).from(scanCache).where(eq(scanCache.key, key)).get()?.text;
  }

  /** Stores (or replaces) a text answer under `key`, which must not take a prefix of {@link put}'s picks (`passage:`, `final:`). */
  putText(key: string, campaignId: string, text: string): void {
    this.put(key, campaignId, { turn: 0, rationale: text });
  }

  /** Keys starting with `prefix` (e.g. `final:`) stored for a campaign, newest first. */
  keys(campaignId: string, prefix: string): string[] {
    return this.store.db
      .select({ key: scanCache.key })
      .from(scanCache)
      .where(and(eq(scanCache.campaignId, campaignId), like(scanCache.key, `${prefix}%`)))
      .orderBy(desc(scanCache.createdAt))
      .all()
      .map((r) => r.key);
  }
}
