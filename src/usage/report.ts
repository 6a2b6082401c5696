import type { UsageLedger, UsageTotals } from './ledger.ts';
import { utcDay, utcMonth, type BudgetGuard, type BudgetStatus } from '../jobs/budget.ts';

/** Use today and this month (UTC) for a user and a guild, and what the budgets leave. */
export interface UsageReport {
  readonly user: { readonly today: UsageTotals; readonly month: UsageTotals };
  readonly guild: { readonly today: UsageTotals; readonly month: UsageTotals } | undefined;
  readonly budget: BudgetStatus;
}

/** Builds the `/scene usage` report. `guildId` null: no guild part (a DM or the CLI). */
export async function usageReport(
  ledger: UsageLedger,
  budgets: BudgetGuard,
  userId: string,
  guildId: string | null,
  now = new Date(),
): Promise<UsageReport> {
  const today = utcDay(now).start.toISOString();
  const month = utcMonth(now).toISOString();
  return {
    user: { today: await ledger.totals({ since: today, userId }), month: await ledger.totals({ since: month, userId }) },
    guild: guildId
      ? { today: await ledger.totals({ since: today, guildId }), month: await ledger.totals({ since: month, guildId }) }
      : undefined,
    budget: await budgets.status(guildId, userId),
  };
}

/** `12 pictures · $0.81`. */
export function formatTotals(t: UsageTotals): string {
  return `${t.images.toLocaleString('en-US')} ${t.images === 1 ? 'picture' : 'pictures'} · $${t.costUsd.toFixed(2)}`;
}
