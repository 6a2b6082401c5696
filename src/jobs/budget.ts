import type { Config } from '../platform/config.ts';
import { LimnerError } from '../errors.ts';
import type { GuildLimits } from '../settings/settings.ts';
import type { UsageLedger, UsageTotals } from '../usage/ledger.ts';
import type { Admission, AdmissionFacts, JobStore } from './store.ts';

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

/** Where a guild's daily limits come from, e.g. its own settings within the operator's ceilings. */
export interface GuildLimitsSource {
  limits(guildId: string): Promise<GuildLimits>;
}

/** What a request asks of the budgets. */
export interface BudgetRequest {
  /** Pictures the request makes (a recap makes several); all must fit. Default 1. */
  readonly pictures?: number;
  /** False to skip the cooldown (a job of a batch started at once). Default true. */
  readonly cooldown?: boolean;
}

/**
 * Daily budgets per guild (pictures, USD) and per user (pictures), and a per-user cooldown, from
 * `budgets` in config; a guild's own limits come from `guilds` when given (they never exceed
 * config's). Pictures queued or being made count against the picture budgets (`inFlight`);
 * admission decides in the transaction that records the job ({@link admission}), so no process can
 * overshoot a picture budget.
 */
export class BudgetGuard {
  constructor(
    private readonly config: Config,
    private readonly usage: UsageLedger,
    private readonly jobs: JobStore,
    private readonly guilds: GuildLimitsSource = {
      limits: async () => ({ images: config.budgets.guild_daily_images, usd: config.budgets.guild_daily_usd }),
    },
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Today's use and what is left. */
  async status(guildId: string | null, userId: string): Promise<BudgetStatus> {
    const b = this.config.budgets;
    const g = guildId ? await this.guilds.limits(guildId) : { images: null, usd: null };
    const { start, next } = utcDay(this.now());
    const since = start.toISOString();
    const none: UsageTotals = { calls: 0, images: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
    const [guildToday, userToday] = await Promise.all([
      guildId ? this.usage.totals({ since, guildId }) : none,
      this.usage.totals({ since, userId }),
    ]);
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
   * The decision for a new job, to take inside the transaction that records it
   * ({@link JobStore.create}): the guild's limits are read now, before the transaction (they change
   * rarely), and the facts that change with every job in it.
   */
  async admission(guildId: string | null, userId: string, request: BudgetRequest = {}): Promise<Admission> {
    const limits = guildId ? await this.guilds.limits(guildId) : { images: null, usd: null };
    const now = this.now().getTime();
    const budgets = this.config.budgets;
    const pictures = request.pictures ?? 1;
    return {
      since: utcDay(new Date(now)).start.toISOString(),
      // Only what a set limit needs is read: this runs before every acknowledgement.
      ledger: (guildId !== null && (limits.images !== null || limits.usd !== null)) || budgets.user_daily_images !== null,
      lastStart: cooldownApplies(budgets, pictures, request),
      decide: (facts) => checkBudget(budgets, guildId, limits, facts, { ...request, pictures }, now),
    };
  }

  /**
   * Refuses a request when a budget or the cooldown says no, reading the facts now (outside the
   * transaction that records a job: a check before acknowledging, or before a claimed job starts).
   * @param request.starting - The job about to start, already marked running: only the other running
   *   jobs count in flight, and the cooldown counts from the user's jobs before it.
   * @throws BudgetExceededError
   */
  async check(guildId: string | null, userId: string, request: BudgetRequest & { readonly starting?: string } = {}): Promise<void> {
    const admission = await this.admission(guildId, userId, request);
    const facts = await this.jobs.admissionFacts(guildId, userId, admission, request.starting ? { starting: request.starting } : {});
    admission.decide(facts);
  }
}

/**
 * The budget decision over facts read at one moment: pure and synchronous, so it can run inside a
 * SQLite transaction's body. Checks the guild's pictures (ledger and in flight) and USD, the user's
 * pictures, then the cooldown.
 * @param guildLimits - The guild's limits (ignored without a guild).
 * @param now - Ms since the epoch.
 * @throws BudgetExceededError naming the first limit that refuses.
 */
export function checkBudget(
  budgets: Config['budgets'],
  guildId: string | null,
  guildLimits: GuildLimits,
  facts: AdmissionFacts,
  request: BudgetRequest,
  now: number,
): void {
  const pictures = request.pictures ?? 1;
  const { next } = utcDay(new Date(now));
  const g = guildLimits;
  if (guildId) {
    const left = g.images === null ? null : Math.max(0, g.images - facts.guildToday.images - facts.inFlight.guild);
    if (g.images !== null && left !== null && left < pictures) {
      const needs = pictures > 1 && left > 0 ? { needs: { pictures, left } } : {};
      throw new BudgetExceededError({ kind: 'guild-images', guildId, allowed: g.images, ...needs }, next.getTime(), now);
    }
    if (g.usd !== null && g.usd - facts.guildToday.costUsd <= 0) {
      throw new BudgetExceededError({ kind: 'guild-usd', guildId, allowed: g.usd, spent: facts.guildToday.costUsd }, next.getTime(), now);
    }
  }
  if (budgets.user_daily_images !== null) {
    const left = Math.max(0, budgets.user_daily_images - facts.userToday.images - facts.inFlight.user);
    if (left < pictures) {
      const needs = pictures > 1 && left > 0 ? { needs: { pictures, left } } : {};
      throw new BudgetExceededError({ kind: 'user-images', allowed: budgets.user_daily_images, ...needs }, next.getTime(), now);
    }
  }
  if (cooldownApplies(budgets, pictures, request)) {
    const ready = facts.lastStart ? Date.parse(facts.lastStart) + budgets.user_cooldown_s * 1000 : 0;
    if (ready > now) {
      throw new BudgetExceededError({ kind: 'cooldown', waitS: Math.ceil((ready - now) / 1000) }, ready, now);
    }
  }
}

/** The cooldown paces requests for pictures: a request that paints none, or a job of a batch, passes. */
function cooldownApplies(budgets: Config['budgets'], pictures: number, request: BudgetRequest): boolean {
  return budgets.user_cooldown_s > 0 && pictures > 0 && request.cooldown !== false;
}

/** `in 3 h 12 min`, `in 45 min`, `in 20 s`. */
export function relative(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `in ${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `in ${min} min`;
  return `in ${Math.floor(min / 60)} h ${min % 60} min`;
}
