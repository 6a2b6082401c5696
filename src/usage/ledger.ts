import { and, gte, sql, eq, type SQL } from 'drizzle-orm';
import type { CallOrigin, CallUsage } from '../platform/gemini.ts';
import type { Metrics } from '../platform/metrics.ts';
import type { Store } from '../platform/db.ts';
import type { CallPurpose } from '../platform/schema.ts';

/** Totals over a period. */
export interface UsageTotals {
  readonly calls: number;
  readonly images: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  /** USD. */
  readonly costUsd: number;
}

/** The usage ledger: every model call with its tokens and estimated cost. */
export class UsageLedger {
  /** @param metrics - Counts cost and tokens for `/metrics` as calls are recorded. */
  constructor(
    private readonly store: Store,
    private readonly metrics?: Metrics,
  ) {}

  /**
   * Records one call and returns its row id. A picture is stored only after its call, so an image
   * call is linked to it in the picture's transaction (`ImageStore.save`'s `usageId`).
   */
  async record(origin: CallOrigin, purpose: CallPurpose, call: CallUsage): Promise<number> {
    const { usage } = this.store.tables;
    this.metrics?.costUsd.inc({ model: call.model, purpose }, call.costUsd);
    this.metrics?.tokens.inc({ model: call.model, direction: 'input' }, call.inputTokens);
    this.metrics?.tokens.inc({ model: call.model, direction: 'output' }, call.outputTokens);
    const [row] = await this.store.db
      .insert(usage)
      .values({
        at: new Date().toISOString(),
        campaignId: origin.campaignId ?? null,
        guildId: origin.guildId ?? null,
        channelId: origin.channelId ?? null,
        userId: origin.userId,
        model: call.model,
        purpose,
        inputTokens: call.inputTokens,
        outputTokens: call.outputTokens,
        imageTokens: call.imageTokens,
        estimatedInputTokens: call.estimatedInputTokens,
        images: 0,
        costUsd: call.costUsd,
        imageId: null,
        jobId: origin.jobId ?? null,
        budgetBypassed: origin.budgetBypassed ?? false,
      })
      .returning({ id: usage.id });
    return row!.id;
  }

  /** Totals since `since` (ISO 8601), optionally for one guild or user. */
  async totals(filter: { since: string; guildId?: string; userId?: string }): Promise<UsageTotals> {
    const { usage } = this.store.tables;
    const where: SQL[] = [gte(usage.at, filter.since)];
    if (filter.guildId) where.push(eq(usage.guildId, filter.guildId));
    if (filter.userId) where.push(eq(usage.userId, filter.userId));
    const [row] = await this.store.db
      .select({
        calls: sql<number>`count(*)`.mapWith(Number),
        images: sql<number>`coalesce(sum(${usage.images}), 0)`.mapWith(Number),
        inputTokens: sql<number>`coalesce(sum(${usage.inputTokens}), 0)`.mapWith(Number),
        outputTokens: sql<number>`coalesce(sum(${usage.outputTokens}), 0)`.mapWith(Number),
        costUsd: sql<number>`coalesce(sum(${usage.costUsd}), 0)`.mapWith(Number),
      })
      .from(usage)
      .where(and(...where));
    return row ?? { calls: 0, images: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
  }
}
