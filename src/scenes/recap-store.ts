import { randomUUID } from 'node:crypto';
import { and, desc, eq, isNull } from 'drizzle-orm';
import type { Store } from '../platform/db.ts';

/** A recap as stored: its range and panels. */
export interface RecapRecord {
  readonly campaignId: string;
  /** Where it was asked for; null from the CLI. */
  readonly channelId: string | null;
  /** 1-based turns, inclusive. */
  readonly fromTurn: number;
  readonly toTurn: number;
  /** The panels' picture ids in story order. */
  readonly imageIds: readonly string[];
  readonly recap: string;
}

/** Recaps made (the `recaps` table): where the next recap of a channel starts by default. */
export class RecapStore {
  constructor(private readonly store: Store) {}

  /** Records a finished recap; returns its id (UUID). */
  async add(record: RecapRecord): Promise<string> {
    const { recaps } = this.store.tables;
    const id = randomUUID();
    await this.store.db
      .insert(recaps)
      .values({ ...record, id, imageIds: JSON.stringify(record.imageIds), createdAt: new Date().toISOString() });
    return id;
  }

  /** The last turn of the newest recap of a campaign made in `channelId` (null: from the CLI), if any. */
  async lastTurn(campaignId: string, channelId: string | null): Promise<number | undefined> {
    const { recaps } = this.store.tables;
    const [row] = await this.store.db
      .select({ toTurn: recaps.toTurn })
      .from(recaps)
      .where(and(eq(recaps.campaignId, campaignId), channelId === null ? isNull(recaps.channelId) : eq(recaps.channelId, channelId)))
      .orderBy(desc(recaps.createdAt))
      .limit(1);
    return row?.toTurn;
  }
}
