import { randomUUID } from 'node:crypto';
import { type SQL, and, asc, desc, eq, gt, inArray, isNotNull, lt, ne, sql } from 'drizzle-orm';
import type { SqliteStore } from '../platform/db.ts';
import { guildService, jobs, usage, type JobRow } from '../platform/schema.ts';
import { nextToStart, placesInLine, type Place, type QueueLimits, type QueuedJob } from './queue.ts';

/** What a job is and who asked for it. Ids are Discord snowflakes, or `cli`. */
export interface NewJob {
  /** e.g. `scene current`. */
  readonly kind: string;
  readonly userId: string;
  readonly guildId?: string | null;
  readonly channelId?: string | null;
  readonly campaignId?: string | null;
  /** The interaction to answer if the process dies mid-job. */
  readonly interaction?: { readonly id: string; readonly token: string } | null;
  /** Budgets and the cooldown are not checked for this job (the operator's bypass). */
  readonly ignoreBudget?: boolean;
  /** Jobs with the same key run one after another in creation order (an edit session). */
  readonly sessionKey?: string | null;
  /** Pictures the job makes, counted against budgets before it starts and while it runs; default 1. */
  readonly pictures?: number;
  /**
   * False for a job of a batch the requester started at once (the CLI's portraits of a whole cast):
   * the cooldown between requests does not hold it back. Default true.
   */
  readonly cooldown?: boolean;
}

/** Jobs of a guild and of a user that count against budgets on top of the ledger. */
export interface InFlight {
  readonly guild: number;
  readonly user: number;
}

/** Statuses of a job still to finish. */
const ACTIVE = ['queued', 'running'] as const;

/**
 * Job rows: queued → running → succeeded | failed. The rows are the queue every process on the
 * database shares: admission and claims run in `BEGIN IMMEDIATE` transactions, which SQLite
 * serialises across processes, so two processes can neither both pass a budget's last slot nor
 * both take the last free slot.
 */
/**
 * The shard number of jobs the CLI makes: no bot shard has it, so a restarting shard's
 * `failInterrupted` never fails a CLI run going on beside it; a dead CLI's jobs go stale instead.
 */
export const CLI_SHARD = -1;

export class JobStore {
  /**
   * @param shard - The Discord shard this process runs (0 without sharding), or {@link CLI_SHARD} for
   *   the CLI; stamped on every job it creates.
   */
  constructor(
    private readonly store: SqliteStore,
    private readonly shard = 0,
  ) {}

  /**
   * Records a queued job and returns its id (UUID). `admit` runs first in the same immediate
   * transaction with the guild's and user's jobs in flight, so its verdict and the insert cannot
   * be split by another process's admission.
   * @throws whatever `admit` throws (the job is then not recorded).
   */
  create(job: NewJob, admit?: (inFlight: InFlight) => void): string {
    return this.store.sqlite
      .transaction(() => {
        admit?.(this.inFlight(job.guildId ?? null, job.userId));
        const id = randomUUID();
        const now = new Date().toISOString();
        this.store.db
          .insert(jobs)
          .values({
            id,
            kind: job.kind,
            status: 'queued',
            userId: job.userId,
            guildId: job.guildId ?? null,
            channelId: job.channelId ?? null,
            campaignId: job.campaignId ?? null,
            interactionId: job.interaction?.id ?? null,
            interactionToken: job.interaction?.token ?? null,
            createdAt: now,
            heartbeatAt: now,
            shard: this.shard,
            sessionKey: job.sessionKey ?? null,
            pictures: job.pictures ?? 1,
          })
          .run();
        return id;
      })
      .immediate();
  }

  /**
   * Pictures of `guildId`'s and of `userId`'s jobs queued or running that are not in the usage
   * ledger yet (once a picture is, the ledger counts it).
   * @param options.runningOnly - Count only running jobs; `except` leaves one job out.
   */
  inFlight(guildId: string | null, userId: string, options: { runningOnly?: boolean; except?: string } = {}): InFlight {
    const where: SQL[] = [inArray(jobs.status, options.runningOnly ? ['running'] : [...ACTIVE])];
    if (options.except) where.push(ne(jobs.id, options.except));
    // A job's pictures already in the ledger count there, not here.
    const left = sql`max(${jobs.pictures} - (select count(*) from ${usage} where ${usage.jobId} = ${jobs.id} and ${usage.images} > 0), 0)`;
    const row = this.store.db
      .select({
        guild:
          guildId === null ? sql<number>`0` : sql<number>`coalesce(sum(case when ${jobs.guildId} = ${guildId} then ${left} else 0 end), 0)`,
        user: sql<number>`coalesce(sum(case when ${jobs.userId} = ${userId} then ${left} else 0 end), 0)`,
      })
      .from(jobs)
      .where(and(...where))
      .get();
    return { guild: row?.guild ?? 0, user: row?.user ?? 0 };
  }

  /**
   * Takes the next job any process may start (see {@link nextToStart}) and marks it running, or
   * returns undefined when every slot is taken or every waiting job is held. The process that
   * created the job sees it running and runs it: its interaction is its own.
   *
   * One immediate transaction reads the running and queued rows and writes the claim. On
   * PostgreSQL the same shape holds under a transaction-scoped advisory lock, the candidates read
   * `FOR UPDATE SKIP LOCKED`.
   */
  claimNext(limits: QueueLimits): JobRow | undefined {
    return this.store.sqlite
      .transaction(() => {
        const running = this.store.db
          .select({ userId: jobs.userId, sessionKey: jobs.sessionKey })
          .from(jobs)
          .where(eq(jobs.status, 'running'))
          .all();
        if (running.length >= limits.concurrency) return undefined;
        const queued = this.queued();
        const next = nextToStart(queued, running, this.served(queued), limits);
        if (!next) return undefined;
        const served = sql`(select coalesce(max(${guildService.served}), 0) + 1 from ${guildService})`;
        this.store.db
          .insert(guildService)
          .values({ guildId: next.guild, served })
          .onConflictDoUpdate({ target: guildService.guildId, set: { served } })
          .run();
        return this.store.db
          .update(jobs)
          .set({ status: 'running', startedAt: new Date().toISOString() })
          .where(eq(jobs.id, next.id))
          .returning()
          .get();
      })
      .immediate();
  }

  /** Where each waiting job stands in the shared fair order, by job id. */
  places(): Map<string, Place> {
    const running = this.store.db
      .select({ userId: jobs.userId, sessionKey: jobs.sessionKey })
      .from(jobs)
      .where(eq(jobs.status, 'running'))
      .all();
    const queued = this.queued();
    return placesInLine(queued, running, this.served(queued));
  }

  /** Status of each of `ids` that exists. */
  statuses(ids: readonly string[]): Map<string, JobRow['status']> {
    if (ids.length === 0) return new Map();
    const rows = this.store.db
      .select({ id: jobs.id, status: jobs.status })
      .from(jobs)
      .where(inArray(jobs.id, [...ids]))
      .all();
    return new Map(rows.map((r) => [r.id, r.status]));
  }

  /** Ids of the jobs of `sessionKey` queued or running now. */
  activeOfSession(sessionKey: string): string[] {
    return this.store.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.sessionKey, sessionKey), inArray(jobs.status, [...ACTIVE])))
      .all()
      .map((r) => r.id);
  }

  /** Renews the heartbeat of `ids` (this process's jobs): they are alive. */
  beat(ids: readonly string[]): void {
    if (ids.length === 0) return;
    this.store.db
      .update(jobs)
      .set({ heartbeatAt: new Date().toISOString() })
      .where(and(inArray(jobs.id, [...ids]), inArray(jobs.status, [...ACTIVE])))
      .run();
  }

  /** Marks success; the interaction token is dropped, it is no longer needed. */
  succeed(id: string, imageId?: string): void {
    this.store.db
      .update(jobs)
      .set({ status: 'succeeded', finishedAt: new Date().toISOString(), imageId: imageId ?? null, interactionToken: null })
      .where(eq(jobs.id, id))
      .run();
  }

  /** Marks failure with the error id (or code) and message shown to the user. */
  fail(id: string, errorId: string, message: string): void {
    this.store.db
      .update(jobs)
      .set({
        status: 'failed',
        finishedAt: new Date().toISOString(),
        errorId,
        errorMessage: message.slice(0, 1000),
        interactionToken: null,
      })
      .where(eq(jobs.id, id))
      .run();
  }

  /** A job row by id, or undefined. */
  get(id: string): JobRow | undefined {
    return this.store.db.select().from(jobs).where(eq(jobs.id, id)).get();
  }

  /**
   * When `userId` last started a job (ISO 8601), for cooldowns.
   * @param except - A job left out (the one about to start, already marked running by its claim).
   */
  lastStartOf(userId: string, except?: string): string | undefined {
    // Jobs that paint nothing (reading a story for its cast) start no cooldown.
    const where = [eq(jobs.userId, userId), isNotNull(jobs.startedAt), gt(jobs.pictures, 0), ...(except ? [ne(jobs.id, except)] : [])];
    return (
      this.store.db
        .select({ startedAt: jobs.startedAt })
        .from(jobs)
        .where(and(...where))
        .orderBy(desc(jobs.startedAt))
        .limit(1)
        .get()?.startedAt ?? undefined
    );
  }

  /**
   * Jobs this shard's previous process left queued or running (it is dead, since this process
   * runs the shard now): marks them failed (error id `interrupted`) and returns them as they were,
   * tokens included, so the caller can tell their users. Other shards' jobs are left alone.
   */
  failInterrupted(message: string): JobRow[] {
    return this.failWhere(eq(jobs.shard, this.shard), message);
  }

  /**
   * Jobs of any process whose heartbeat is older than `leaseS` seconds (their process died or
   * hangs): marks them failed (error id `interrupted`), freeing their slots, and returns them as
   * they were, tokens included, so the caller can tell their users.
   */
  failStale(leaseS: number, message: string): JobRow[] {
    return this.failWhere(lt(jobs.heartbeatAt, new Date(Date.now() - leaseS * 1000).toISOString()), message);
  }

  private failWhere(where: SQL | undefined, message: string): JobRow[] {
    return this.store.sqlite
      .transaction(() => {
        const left = this.store.db
          .select()
          .from(jobs)
          .where(and(inArray(jobs.status, [...ACTIVE]), where))
          .all();
        for (const job of left) this.fail(job.id, 'interrupted', message);
        return left;
      })
      .immediate();
  }

  /** Queued jobs in arrival order (rowid: insertion order, unlike the random ids). */
  private queued(): QueuedJob[] {
    return this.store.db
      .select({ id: jobs.id, guild: sql<string>`coalesce(${jobs.guildId}, 'none')`, userId: jobs.userId, sessionKey: jobs.sessionKey })
      .from(jobs)
      .where(eq(jobs.status, 'queued'))
      .orderBy(asc(sql`rowid`))
      .all();
  }

  /** When each guild of `queued` was last served. */
  private served(queued: readonly QueuedJob[]): Map<string, number> {
    const guilds = [...new Set(queued.map((j) => j.guild))];
    if (guilds.length === 0) return new Map();
    const rows = this.store.db.select().from(guildService).where(inArray(guildService.guildId, guilds)).all();
    return new Map(rows.map((r) => [r.guildId, r.served]));
  }
}
