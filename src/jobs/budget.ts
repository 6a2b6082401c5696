import type { Config } from '../platform/config.ts';
import { LimnerError } from '../errors.ts';
import type { UsageLedger, UsageTotals } from '../usage/ledger.ts';
import type { JobStore } from './store.ts';

/** Which limit refused a request, with its figures. */
export type BudgetLimit =
  | {
      readonly kind: 'guild-images';
      readonly guildId: string;
      /** Pictures a day. */ readonly allowed: number;
      /** Set when more than one picture was asked for at once and some are left: how many are. */
      readonly left?: number;
      /** Pictures asked for at once, when more than one. */
      readonly requested?: number;
    }
  | {
      readonly kind: 'guild-usd';
      readonly guildId: string;
      /** USD a day. */ readonly allowed: number;
      /** USD spent today. */ readonly spent: number;
    }
  | {
      readonly kind: 'user-images';
      /** Pictures a day. */ readonly allowed: number;
      /** As for `guild-images`. */
      readonly left?: number;
      readonly requested?: number;
    }
  | { readonly kind: 'cooldown'; /** Seconds left. */ readonly waitS: number };

/** A request refused by a budget or the cooldown; `limit` says which, `resetsAt` when it lifts. */
export class BudgetExceededError extends LimnerError {
  readonly code = 'budget_exceeded';
  constructor(
    readonly limit: BudgetLimit,
    /** When the limit lifts, ms since the epoch. */
    readonly resetsAt: number,
    /** The time of the refusal, ms since the epoch. */
    now: number = Date.now(),
  ) {
    super(BudgetExceededError.messageFor(limit, resetsAt - now));
  }

  private static messageFor(limit: BudgetLimit, leftMs: number): string {
    const resets = `resets ${relative(leftMs)} (00:00 UTC)`;
    switch (limit.kind) {
      case 'guild-images':
        if (limit.left)
          return `Guild ${limit.guildId} has ${limit.left} of its ${limit.allowed} pictures left for today, fewer than the ${limit.requested} asked for; the budget ${resets}.`;
        return `Guild ${limit.guildId} has used its ${limit.allowed} pictures for today; the budget ${resets}.`;
      case 'guild-usd':
        return `Guild ${limit.guildId} has used its $${limit.allowed.toFixed(2)} budget for today ($${limit.spent.toFixed(2)} spent); it ${resets}.`;
      case 'user-images':
        if (limit.left)
          return `This user has ${limit.left} of their ${limit.allowed} pictures left for today, fewer than the ${limit.requested} asked for; the budget ${resets}.`;
        return `This user has used their ${limit.allowed} pictures for today; the budget ${resets}.`;
      case 'cooldown':
        return `Please wait ${limit.waitS} s before asking for another picture.`;
    }
  }
}

/** Start of the UTC day of `now`, and of the next one. */
export function utcDay(now: Date): { start: Date; next: Date } {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  return { start, next: new Date(start.getTime() + 86_400_000) };
}

/** Start of the UTC month of `now`. */
export function utcMonth(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/** What a guild and a user have used today and may still use (null: no limit). */
export interface BudgetStatus {
  readonly guildToday: UsageTotals;
  readonly userToday: UsageTotals;
  readonly guildImagesLeft: number | null;
  readonly guildUsdLeft: number | null;
  readonly userImagesLeft: number | null;
  /** Ms since the epoch when the daily budgets reset (next UTC midnight). */
  readonly resetsAt: number;
}

/**
 * Daily budgets per guild (pictures, USD) and per user (pictures), and a per-user cooldown, from
 * `budgets` in config. Pictures being made right now count against the budget (`inFlight`), so a
 * budget is never overshot by more than the jobs already running when it was reached.
 */
export class BudgetGuard {
  constructor(
    private readonly config: Config,
    private readonly usage: UsageLedger,
    private readonly jobs: JobStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Today's use and what is left. */
  status(guildId: string | null, userId: string): BudgetStatus {
    const b = this.config.budgets;
    const { start, next } = utcDay(this.now());
    const since = start.toISOString();
    const none: UsageTotals = { calls: 0, images: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
    const guildToday = guildId ? this.usage.totals({ since, guildId }) : none;
    const userToday = this.usage.totals({ since, userId });
    return {
      guildToday,
      userToday,
      guildImagesLeft: b.guild_daily_images === null || !guildId ? null : Math.max(0, b.guild_daily_images - guildToday.images),
      guildUsdLeft: b.guild_daily_usd === null || !guildId ? null : Math.max(0, b.guild_daily_usd - guildToday.costUsd),
      userImagesLeft: b.user_daily_images === null ? null : Math.max(0, b.user_daily_images - userToday.images),
      resetsAt: next.getTime(),
    };
  }

  /**
   * Refuses a new picture request when a budget or the cooldown says no.
   * @param inFlight - Pictures of this guild and of this user being made (not in the ledger yet).
   * @param pictures - Pictures this request makes (variations make several); all must fit.
   * @throws BudgetExceededError
   */
  check(guildId: string | null, userId: string, inFlight: { guild: number; user: number } = { guild: 0, user: 0 }, pictures = 1): void {
    const b = this.config.budgets;
    const now = this.now().getTime();
    const { start, next } = utcDay(new Date(now));
    const since = start.toISOString();
    // Only the limits that are set are summed: this runs before every acknowledgement.
    if (guildId && (b.guild_daily_images !== null || b.guild_daily_usd !== null)) {
      const today = this.usage.totals({ since, guildId });
      const left = b.guild_daily_images === null ? null : b.guild_daily_images - today.images - inFlight.guild;
      if (b.guild_daily_images !== null && left !== null && left < pictures) {
        throw new BudgetExceededError(
          { kind: 'guild-images', guildId, allowed: b.guild_daily_images, ...shortfall(left, pictures) },
          next.getTime(),
          now,
        );
      }
      if (b.guild_daily_usd !== null && b.guild_daily_usd - today.costUsd <= 0) {
        throw new BudgetExceededError(
          { kind: 'guild-usd', guildId, allowed: b.guild_daily_usd, spent: today.costUsd },
          next.getTime(),
          now,
        );
      }
    }
    const userLeft =
      b.user_daily_images === null ? null : b.user_daily_images - this.usage.totals({ since, userId }).images - inFlight.user;
    if (b.user_daily_images !== null && userLeft !== null && userLeft < pictures) {
      throw new BudgetExceededError(
        { kind: 'user-images', allowed: b.user_daily_images, ...shortfall(userLeft, pictures) },
        next.getTime(),
        now,
      );
    }
    if (b.user_cooldown_s > 0) {
      const last = this.jobs.lastStartOf(userId);
      const ready = last ? Date.parse(last) + b.user_cooldown_s * 1000 : 0;
      if (ready > now) {
        throw new BudgetExceededError({ kind: 'cooldown', waitS: Math.ceil((ready - now) / 1000) }, ready, now);
      }
    }
  }
}

/** What a refusal of several pictures at once says beyond the limit: how many were left and asked for. */
function shortfall(left: number, pictures: number): { left?: number; requested?: number } {
  return left > 0 ? { left, requested: pictures } : {};
}

/** `in 3 h 12 min`, `in 45 min`, `in 20 s`. */
export function relative(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `in ${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `in ${min} min`;
  return `in ${Math.floor(min / 60)} h ${min % 60} min`;
}
