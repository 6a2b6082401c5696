import { and, asc, desc, eq, sql } from 'drizzle-orm';
import type { Store } from '../../platform/db.ts';

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
  constructor(private readonly store: Store) {}

  /** The pick stored under `key`, if any. */
  async get(key: string): Promise<ScanPick | undefined> {
    const { scanCache } = this.store.tables;
    const [row] = await this.store.db
      .select({ turn: scanCache.turn, rationale: scanCache.rationale })
      .from(scanCache)
      .where(eq(scanCache.key, key))
      .limit(1);
    return row;
  }

  /** Stores (or replaces) the pick under `key`. */
  async put(key: string, campaignId: string, pick: ScanPick): Promise<void> {
    const { scanCache } = this.store.tables;
    const row = { key, campaignId, turn: pick.turn, rationale: pick.rationale, createdAt: new Date().toISOString() };
    await this.store.db
      .insert(scanCache)
      .values(row)
      .onConflictDoUpdate({
        target: scanCache.key,
        set: { campaignId, turn: pick.turn, rationale: pick.rationale, createdAt: row.createdAt },
      });
  }

  /** The text stored under `key` with {@link putText}, if any. */
  async getText(key: string): Promise<string | undefined> {
    return (await this.get(key))?.rationale;
  }

  /** Stores (or replaces) a text answer under `key`, which must not take a prefix of {@link put}'s picks (`passage:`, `final:`). */
  async putText(key: string, campaignId: string, text: string): Promise<void> {
    await this.put(key, campaignId, { turn: 0, rationale: text });
  }

  /** Keys starting with `prefix` (e.g. `final:`; case counts, on either database) stored for a campaign, newest first. */
  async keys(campaignId: string, prefix: string): Promise<string[]> {
    const { scanCache } = this.store.tables;
    const rows = await this.store.db
      .select({ key: scanCache.key })
      .from(scanCache)
      .where(and(eq(scanCache.campaignId, campaignId), eq(sql`substr(${scanCache.key}, 1, ${prefix.length})`, prefix)))
      .orderBy(desc(scanCache.createdAt), asc(scanCache.key));
    return rows.map((r) => r.key);
  }
}
