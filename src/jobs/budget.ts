import type { Config } from '../platform/config.ts';
import { LimnerError } from '../errors.ts';
import type { UsageLedger, UsageTotals } from '../usage/ledger.ts';
import type { InFlight, JobStore } from './store.ts';

/** Which limit refused a request, with its figures. */
export type BudgetLimit =
  | {
      readonly kind: 'guild-images';
      readonly guildId: string;
      /** Pictures a day. */ readonly allowed: number;
      /** Pictures a request of several (a recap) needs and those left; absent for one picture. */
      readonly needs?: { readonly pictures: number; readonly left: number };
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
      readonly needs?: { readonly pictures: number; readonly left: number };
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
        if (limit.needs) {
          return `This request needs ${limit.needs.pictures} pictures and guild ${limit.guildId} has ${limit.needs.left} of its ${limit.allowed} left for today; the budget ${resets}.`;
        }
        return `Guild ${limit.guildId} has used its ${limit.allowed} pictures for today; the budget ${resets}.`;
      case 'guild-usd':
        return `Guild ${limit.guildId} has used its $${limit.allowed.toFixed(2)} budget for today ($${limit.spent.toFixed(2)} spent); it ${resets}.`;
      case 'user-images':
        if (limit.needs) {
          return `This request needs ${limit.needs.pictures} pictures and this user has ${limit.needs.left} of their ${limit.allowed} left for today; the budget ${resets}.`;
        }
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

/** A guild's daily limits (null: no limit), e.g. its own settings within the operator's ceilings. */
export interface GuildLimitsSource {
  limits(guildId: string): { readonly images: number | null; readonly usd: number | null };
}

/**
 * Daily budgets per guild (pictures, USD) and per user (pictures), and a per-user cooldown, from
 * `budgets` in config; a guild's own limits come from `guilds` when given (they never exceed
 * config's). Pictures queued or being made count against the picture budgets (`inFlight`);
 * admission counts them in the transaction that records the job, so no process can overshoot a
 * picture budget.
 */
export class BudgetGuard {
  constructor(
    private readonly config: Config,
    private readonly usage: UsageLedger,
    private readonly jobs: JobStore,
    private readonly guilds: GuildLimitsSource = {
      limits: () => ({ images: config.budgets.guild_daily_images, usd: config.budgets.guild_daily_usd }),
    },
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Today's use and what is left. */
  status(guildId: string | null, userId: string): BudgetStatus {
    const b = this.config.budgets;
    const g = guildId ? this.guilds.limits(guildId) : { images: null, usd: null };
    const { start, next } = utcDay(this.now());
    const since = start.toISOString();
    const none: UsageTotals = { calls: 0, images: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
    const guildToday = guildId ? this.usage.totals({ since, guildId }) : none;
    const userToday = this.usage.totals({ since, userId });
    return {
      guildToday,
      userToday,
      guildImagesLeft: g.images === null ? null : Math.max(0, g.images - guildToday.images),
      guildUsdLeft: g.usd === null ? null : Math.max(0, g.usd - guildToday.costUsd),
      userImagesLeft: b.user_daily_images === null ? null : Math.max(0, b.user_daily_images - userToday.images),
      resetsAt: next.getTime(),
    };
  }

  /**
   * Refuses a new picture request when a budget or the cooldown says no.
   * @param inFlight - Pictures of this guild and of this user queued or being made whose pictures
   *   are not in the ledger yet ({@link JobStore.inFlight}).
   * @param request.pictures - Pictures the request makes (a recap makes several), at least 1: all must fit.
   * @param request.cooldown - False to skip the cooldown (a job of a batch started at once).
   * @param request.starting - The job about to start, already marked running: the cooldown counts
   *   from the user's jobs before it.
   * @throws BudgetExceededError
   */
  check(
    guildId: string | null,
    userId: string,
    inFlight: InFlight = { guild: 0, user: 0 },
    request: { readonly pictures?: number; readonly starting?: string; readonly cooldown?: boolean } = {},
  ): void {
    const pictures = request.pictures ?? 1;
    const starting = request.starting;
    const b = this.config.budgets;
    const now = this.now().getTime();
    const { start, next } = utcDay(new Date(now));
    const since = start.toISOString();
    const g = guildId ? this.guilds.limits(guildId) : { images: null, usd: null };
    // Only the limits that are set are summed: this runs before every acknowledgement.
    if (guildId && (g.images !== null || g.usd !== null)) {
      const today = this.usage.totals({ since, guildId });
      const left = g.images === null ? null : Math.max(0, g.images - today.images - inFlight.guild);
      if (g.images !== null && left !== null && left < pictures) {
        const needs = pictures > 1 && left > 0 ? { needs: { pictures, left } } : {};
        throw new BudgetExceededError({ kind: 'guild-images', guildId, allowed: g.images, ...needs }, next.getTime(), now);
      }
      if (g.usd !== null && g.usd - today.costUsd <= 0) {
        throw new BudgetExceededError({ kind: 'guild-usd', guildId, allowed: g.usd, spent: today.costUsd }, next.getTime(), now);
      }
    }
    if (b.user_daily_images !== null) {
      const left = Math.max(0, b.user_daily_images - this.usage.totals({ since, userId }).images - inFlight.user);
      if (left < pictures) {
        const needs = pictures > 1 && left > 0 ? { needs: { pictures, left } } : {};
        throw new BudgetExceededError({ kind: 'user-images', allowed: b.user_daily_images, ...needs }, next.getTime(), now);
      }
    }
    // The cooldown paces requests for pictures: a request that paints none, or a job of a batch, passes.
    if (b.user_cooldown_s > 0 && pictures > 0 && request.cooldown !== false) {
      const last = this.jobs.lastStartOf(userId, starting);
      const ready = last ? Date.parse(last) + b.user_cooldown_s * 1000 : 0;
      if (ready > now) {
        throw new BudgetExceededError({ kind: 'cooldown', waitS: Math.ceil((ready - now) / 1000) }, ready, now);
      }
    }
  }
}

/** `in 3 h 12 min`, `in 45 min`, `in 20 s`. */
export function relative(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `in ${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `in ${min} min`;
  return `in ${Math.floor(min / 60)} h ${min % 60} min`;
}
