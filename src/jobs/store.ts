import { randomUUID } from 'node:crypto';
import { type SQL, and, asc, eq, gte, inArray, isNotNull, isNull, lt, ne, sql } from 'drizzle-orm';
import { LimnerError } from '../errors.ts';
import { writeTransaction, type Db, type Store } from '../platform/db.ts';
import type { JobRow } from '../platform/schema.ts';
import { nextToStart, placesInLine, type Place, type QueueLimits, type QueuedJob } from './queue.ts';

/** What a job is and who asked for it. Ids are Discord snowflakes, or `cli`. */
export interface NewJob {
  /** e.g. `scene current`. */
  readonly kind: string;
  readonly userId: string;
  readonly guildId?: string | null;
  readonly channelId?: string | null;
  readonly campaignId?: string | null;
  /**
   * The interaction to answer if the process dies mid-job. Its id is the job key: one interaction
   * records at most one job of a kind ({@link DuplicateJobError}).
   */
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

/** Pictures of a guild's and of a user's jobs that count against budgets on top of the ledger. */
export interface InFlight {
  readonly guild: number;
  readonly user: number;
}

/** What a budget decision is made of, read at one moment (in the transaction that admits a job). */
export interface AdmissionFacts {
  /** Pictures of jobs queued or running that are not in the ledger yet ({@link JobStore.inFlight}). */
  readonly inFlight: InFlight;
  /** The guild's ledger since the admission's `since`: pictures and USD (zeros without a guild or when not read). */
  readonly guildToday: { readonly images: number; readonly costUsd: number };
  /** The user's pictures in the ledger since `since` (0 when not read). */
  readonly userToday: { readonly images: number };
  /** When the user last started a job that paints (ISO 8601); undefined when none or not read. */
  readonly lastStart: string | undefined;
}

/** Which facts a budget decision needs: the ledger from `since` on, and the user's last start. */
export interface FactsToRead {
  /** ISO 8601: ledger rows at or after it are today's. */
  readonly since: string;
  /** False when no picture or USD limit applies: the ledger is not summed. */
  readonly ledger: boolean;
  /** False when no cooldown applies: the last start is not looked up. */
  readonly lastStart: boolean;
}

/** A budget decision taken inside the transaction that records a job (see {@link JobStore.create}). */
export interface Admission extends FactsToRead {
  /**
   * Throws to refuse the job (which is then not recorded). Synchronous, because on SQLite it runs
   * inside the transaction's synchronous body.
   */
  decide(facts: AdmissionFacts): void;
}

/** A second job of one kind for one interaction (a replayed interaction): the first is the one that counts. */
export class DuplicateJobError extends LimnerError {
  readonly code = 'duplicate_job';
  constructor(
    readonly interactionId: string,
    readonly kind: string,
  ) {
    super('This request is already being handled.');
  }
}

/** Statuses of a job still to finish. */
const ACTIVE = ['queued', 'running'] as const;

/**
 * The shard number of jobs the CLI makes: no bot shard has it, so a restarting shard's
 * `failInterrupted` never fails a CLI run going on beside it; a dead CLI's jobs go stale instead.
 */
export const CLI_SHARD = -1;

/**
 * Job rows: queued → running → succeeded | failed. The rows are the queue every process on the
 * database shares: admission, claims and the failing of abandoned jobs are read-decide-write
 * transactions under the `jobs` lock ({@link writeTransaction}: `BEGIN IMMEDIATE` on SQLite, an
 * advisory lock on PostgreSQL), so two processes can neither both pass a budget's last slot nor
 * both take the last free slot. Each is written once per dialect with the same statements: a
 * synchronous SQLite body and an awaited PostgreSQL one.
 */
export class JobStore {
  /**
   * Interactions this process recorded a job for and has not answered yet: {@link delivered} writes
   * only for these, not for every button press and page turn.
   */
  private readonly unanswered = new Set<string>();

  /**
   * @param shard - The Discord shard this process runs (0 without sharding), or {@link CLI_SHARD} for
   *   the CLI; stamped on every job it creates.
   */
  constructor(
    private readonly store: Store,
    private readonly shard = 0,
  ) {}

  /**
   * Records a queued job and returns its id (UUID). `admission.decide` runs first in the same
   * transaction, over the facts read in it, so its verdict and the insert cannot be split by
   * another process's admission.
   * @throws DuplicateJobError when the job's interaction already has a job of its kind, whatever
   *   `admission.decide` throws (the job is then not recorded), or the database's error.
   */
  async create(job: NewJob, admission?: Admission): Promise<string> {
    const guildId = job.guildId ?? null;
    const interactionId = job.interaction?.id ?? null;
    const id = randomUUID();
    const insert = (tx: Db) => {
      const { jobs } = this.store.tables;
      const now = new Date().toISOString();
      return tx.insert(jobs).values({
        id,
        kind: job.kind,
        status: 'queued',
        userId: job.userId,
        guildId,
        channelId: job.channelId ?? null,
        campaignId: job.campaignId ?? null,
        interactionId,
        interactionToken: job.interaction?.token ?? null,
        createdAt: now,
        heartbeatAt: now,
        shard: this.shard,
        sessionKey: job.sessionKey ?? null,
        pictures: job.pictures ?? 1,
        // Unique (jobs_seq), and safe to compute here: every insert runs under the `jobs` lock.
        seq: sql`(select coalesce(max(${jobs.seq}), 0) + 1 from ${jobs})`,
      });
    };
    const duplicate = () => new DuplicateJobError(interactionId!, job.kind);
    const created = await writeTransaction(this.store, 'jobs', {
      sqlite: (tx) => {
        if (interactionId !== null && this.keyQuery(tx, interactionId, job.kind).get()) throw duplicate();
        if (admission) admission.decide(factsOf(this.factsQuery(tx, guildId, job.userId, admission).get()));
        insert(tx).run();
        return id;
      },
      postgres: async (tx) => {
        if (interactionId !== null && (await this.keyQuery(tx, interactionId, job.kind)).length > 0) throw duplicate();
        if (admission) admission.decide(factsOf((await this.factsQuery(tx, guildId, job.userId, admission))[0]));
        await insert(tx);
        return id;
      },
    });
    if (interactionId !== null) this.unanswered.add(interactionId);
    return created;
  }

  /**
   * The facts of a budget decision for `guildId` and `userId`, read outside any transaction (a
   * check before acknowledging, or before a claimed job starts).
   * @param options.starting - The job about to start, already marked running: only the other
   *   running jobs count in flight, and the cooldown counts from the user's jobs before it.
   */
  async admissionFacts(
    guildId: string | null,
    userId: string,
    read: FactsToRead,
    options: { starting?: string } = {},
  ): Promise<AdmissionFacts> {
    const starting = options.starting ? { runningOnly: true, except: options.starting } : {};
    return factsOf((await this.factsQuery(this.store.db, guildId, userId, read, starting))[0]);
  }

  /**
   * Pictures of `guildId`'s and of `userId`'s jobs queued or running that are not in the usage
   * ledger yet (once a picture is, the ledger counts it).
   * @param options.runningOnly - Count only running jobs; `except` leaves one job out.
   */
  async inFlight(guildId: string | null, userId: string, options: { runningOnly?: boolean; except?: string } = {}): Promise<InFlight> {
    const read = { since: '', ledger: false, lastStart: false };
    return factsOf((await this.factsQuery(this.store.db, guildId, userId, read, options))[0]).inFlight;
  }

  /**
   * Takes the next job any process may start (see {@link nextToStart}) and marks it running, or
   * returns undefined when every slot is taken or every waiting job is held. The process that
   * created the job sees it running and runs it: its interaction is its own.
   *
   * One transaction under the `jobs` lock reads the running and queued rows and writes the claim,
   * so the fair order, the concurrency and the per-user cap hold across processes on both dialects.
   */
  claimNext(limits: QueueLimits): Promise<JobRow | undefined> {
    return writeTransaction(this.store, 'jobs', {
      sqlite: (tx) => {
        const running = this.runningQuery(tx).all();
        if (running.length >= limits.concurrency) return undefined;
        const queued = this.queuedQuery(tx).all();
        const guilds = guildsOf(queued);
        const served = guilds.length > 0 ? this.servedQuery(tx, guilds).all() : [];
        const next = nextToStart(queued, running, servedMap(served), limits);
        if (!next) return undefined;
        this.serveQuery(tx, next.guild).run();
        return this.startQuery(tx, next.id).get();
      },
      postgres: async (tx) => {
        const running = await this.runningQuery(tx);
        if (running.length >= limits.concurrency) return undefined;
        const queued = await this.queuedQuery(tx);
        const guilds = guildsOf(queued);
        const served = guilds.length > 0 ? await this.servedQuery(tx, guilds) : [];
        const next = nextToStart(queued, running, servedMap(served), limits);
        if (!next) return undefined;
        await this.serveQuery(tx, next.guild);
        return (await this.startQuery(tx, next.id))[0];
      },
    });
  }

  /** Where each waiting job stands in the shared fair order, by job id. */
  async places(): Promise<Map<string, Place>> {
    const { db } = this.store;
    const running = await this.runningQuery(db);
    const queued = await this.queuedQuery(db);
    const guilds = guildsOf(queued);
    const served = guilds.length > 0 ? await this.servedQuery(db, guilds) : [];
    return placesInLine(queued, running, servedMap(served));
  }

  /** Status of each of `ids` that exists. */
  async statuses(ids: readonly string[]): Promise<Map<string, JobRow['status']>> {
    if (ids.length === 0) return new Map();
    const { jobs } = this.store.tables;
    const rows = await this.store.db
      .select({ id: jobs.id, status: jobs.status })
      .from(jobs)
      .where(inArray(jobs.id, [...ids]));
    return new Map(rows.map((r) => [r.id, r.status]));
  }

  /** Ids of the jobs of `sessionKey` queued or running now. */
  async activeOfSession(sessionKey: string): Promise<string[]> {
    const { jobs } = this.store.tables;
    const rows = await this.store.db
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.sessionKey, sessionKey), inArray(jobs.status, [...ACTIVE])))
      .orderBy(asc(jobs.seq));
    return rows.map((r) => r.id);
  }

  /** Renews the heartbeat of `ids` (this process's jobs): they are alive. */
  async beat(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const { jobs } = this.store.tables;
    await this.store.db
      .update(jobs)
      .set({ heartbeatAt: new Date().toISOString() })
      .where(and(inArray(jobs.id, [...ids]), inArray(jobs.status, [...ACTIVE])));
  }

  /**
   * Marks success. The interaction token stays until the door has answered ({@link delivered}), for
   * another process to post the picture should this one die before it does ({@link takeUndelivered}).
   */
  async succeed(id: string, imageId?: string): Promise<void> {
    const { jobs } = this.store.tables;
    await this.store.db
      .update(jobs)
      .set({ status: 'succeeded', finishedAt: new Date().toISOString(), imageId: imageId ?? null })
      .where(eq(jobs.id, id));
  }

  /** Marks failure with the error id (or code) and message shown to the user. */
  async fail(id: string, errorId: string, message: string): Promise<void> {
    const { jobs } = this.store.tables;
    await this.store.db.update(jobs).set(failure(errorId, message)).where(eq(jobs.id, id));
  }

  /** A job row by id, or undefined. */
  async get(id: string): Promise<JobRow | undefined> {
    const { jobs } = this.store.tables;
    return (await this.store.db.select().from(jobs).where(eq(jobs.id, id)).limit(1))[0];
  }

  /**
   * Jobs this shard's previous process left queued or running (it is dead, since this process
   * runs the shard now): marks them failed (error id `interrupted`) and returns them as they were,
   * tokens included, so the caller can tell their users. Other shards' jobs are left alone.
   */
  failInterrupted(message: string): Promise<JobRow[]> {
    return this.failWhere(eq(this.store.tables.jobs.shard, this.shard), message);
  }

  /**
   * Jobs of any process whose heartbeat is older than `leaseS` seconds (their process died or
   * hangs): marks them failed (error id `interrupted`), freeing their slots, and returns them as
   * they were, tokens included, so the caller can tell their users.
   */
  failStale(leaseS: number, message: string): Promise<JobRow[]> {
    return this.failWhere(lt(this.store.tables.jobs.heartbeatAt, new Date(Date.now() - leaseS * 1000).toISOString()), message);
  }

  /**
   * Jobs that succeeded over `leaseS` seconds ago without their interaction answered ({@link
   * delivered} never came: the process died between saving the picture and posting it): marks them
   * delivered and returns them as they were, tokens included, so the caller can post their pictures.
   */
  takeUndelivered(leaseS: number): Promise<JobRow[]> {
    const { jobs } = this.store.tables;
    const cutoff = new Date(Date.now() - leaseS * 1000).toISOString();
    const where = and(
      eq(jobs.status, 'succeeded'),
      isNull(jobs.deliveredAt),
      isNotNull(jobs.interactionToken),
      lt(jobs.finishedAt, cutoff),
    );
    return this.takeWhere(where, { deliveredAt: new Date().toISOString(), interactionToken: null });
  }

  /**
   * Records that the door answered `interactionId` (with its picture or an error): its jobs need no
   * late posting, and their interaction tokens are dropped.
   */
  async delivered(interactionId: string): Promise<void> {
    if (!this.unanswered.delete(interactionId)) return;
    const { jobs } = this.store.tables;
    await this.store.db
      .update(jobs)
      .set({ deliveredAt: new Date().toISOString(), interactionToken: null })
      .where(and(eq(jobs.interactionId, interactionId), isNull(jobs.deliveredAt)));
  }

  private failWhere(where: SQL | undefined, message: string): Promise<JobRow[]> {
    return this.takeWhere(and(inArray(this.store.tables.jobs.status, [...ACTIVE]), where), failure('interrupted', message));
  }

  /**
   * Applies `change` to the jobs `where` selects and returns them as they were. Under the `jobs`
   * lock, so two processes looking at once take each job once; the update leaves out a job that no
   * longer matches (its owner, which does not take the lock, finished it meanwhile), and only the
   * jobs it changed are returned.
   */
  private takeWhere(where: SQL | undefined, change: Partial<JobRow>): Promise<JobRow[]> {
    const { jobs } = this.store.tables;
    const select = (tx: Db) => tx.select().from(jobs).where(where);
    const update = (tx: Db, ids: string[]) =>
      tx
        .update(jobs)
        .set(change)
        .where(and(inArray(jobs.id, ids), where))
        .returning({ id: jobs.id });
    const taken = (left: JobRow[], ids: Array<{ id: string }>) => left.filter((job) => ids.some((r) => r.id === job.id));
    return writeTransaction(this.store, 'jobs', {
      sqlite: (tx) => {
        const left = select(tx).all();
        const ids = left.map((j) => j.id);
        return ids.length === 0 ? [] : taken(left, update(tx, ids).all());
      },
      postgres: async (tx) => {
        const left = await select(tx);
        const ids = left.map((j) => j.id);
        return ids.length === 0 ? [] : taken(left, await update(tx, ids));
      },
    });
  }

  /** The job of `interactionId` of this kind, if recorded: the job key. */
  private keyQuery(tx: Db, interactionId: string, kind: string) {
    const { jobs } = this.store.tables;
    return tx
      .select({ id: jobs.id })
      .from(jobs)
      .where(and(eq(jobs.interactionId, interactionId), eq(jobs.kind, kind)))
      .limit(1);
  }

  /**
   * One row of every fact of a budget decision. A single statement, so on PostgreSQL (read
   * committed) the jobs in flight and the ledger come from one snapshot: a picture linked between
   * two reads could otherwise be counted twice, or not at all.
   */
  private factsQuery(
    tx: Db,
    guildId: string | null,
    userId: string,
    read: FactsToRead,
    options: { runningOnly?: boolean; except?: string } = {},
  ) {
    const { jobs, usage } = this.store.tables;
    const where: SQL[] = [inArray(jobs.status, options.runningOnly ? ['running'] : [...ACTIVE])];
    if (options.except) where.push(ne(jobs.id, options.except));
    // A job's pictures already in the ledger count there, not here.
    const linked = sql`(select count(*) from ${usage} where ${usage.jobId} = ${jobs.id} and ${usage.images} > 0)`;
    const left = sql`case when ${jobs.pictures} > ${linked} then ${jobs.pictures} - ${linked} else 0 end`;
    const ledger = (column: typeof usage.images | typeof usage.costUsd, who: SQL) =>
      sql`(select coalesce(sum(${column}), 0) from ${usage} where ${who} and ${gte(usage.at, read.since)})`;
    // `jobs` again under another name (the outer `jobs` are the jobs in flight), hence plain column names.
    const except = options.except ? sql` and last_start.id <> ${options.except}` : sql``;
    const lastStart = sql`(select max(last_start.started_at) from ${jobs} as last_start
      where last_start.user_id = ${userId} and last_start.started_at is not null and last_start.pictures > 0${except})`;
    return tx
      .select({
        guild:
          guildId === null
            ? sql<number>`0`.mapWith(Number)
            : sql<number>`coalesce(sum(case when ${jobs.guildId} = ${guildId} then ${left} else 0 end), 0)`.mapWith(Number),
        user: sql<number>`coalesce(sum(case when ${jobs.userId} = ${userId} then ${left} else 0 end), 0)`.mapWith(Number),
        guildImages: (read.ledger && guildId !== null ? ledger(usage.images, eq(usage.guildId, guildId)) : sql`0`).mapWith(Number),
        guildUsd: (read.ledger && guildId !== null ? ledger(usage.costUsd, eq(usage.guildId, guildId)) : sql`0`).mapWith(Number),
        userImages: (read.ledger ? ledger(usage.images, eq(usage.userId, userId)) : sql`0`).mapWith(Number),
        lastStart: read.lastStart ? sql<string | null>`${lastStart}` : sql<string | null>`null`,
      })
      .from(jobs)
      .where(and(...where));
  }

  /** The jobs holding a slot. */
  private runningQuery(tx: Db) {
    const { jobs } = this.store.tables;
    return tx.select({ userId: jobs.userId, sessionKey: jobs.sessionKey }).from(jobs).where(eq(jobs.status, 'running'));
  }

  /** Queued jobs in arrival order (`seq`: see the column). */
  private queuedQuery(tx: Db) {
    const { jobs } = this.store.tables;
    return tx
      .select({ id: jobs.id, guild: sql<string>`coalesce(${jobs.guildId}, 'none')`, userId: jobs.userId, sessionKey: jobs.sessionKey })
      .from(jobs)
      .where(eq(jobs.status, 'queued'))
      .orderBy(asc(jobs.seq));
  }

  /** When each of `guilds` was last served. */
  private servedQuery(tx: Db, guilds: string[]) {
    const { guildService } = this.store.tables;
    return tx.select().from(guildService).where(inArray(guildService.guildId, guilds));
  }

  /** Marks `guild` the most recently served. */
  private serveQuery(tx: Db, guild: string) {
    const { guildService } = this.store.tables;
    const served = sql`(select coalesce(max(${guildService.served}), 0) + 1 from ${guildService})`;
    return tx.insert(guildService).values({ guildId: guild, served }).onConflictDoUpdate({ target: guildService.guildId, set: { served } });
  }

  /** Marks job `id` running; returns its row. */
  private startQuery(tx: Db, id: string) {
    const { jobs } = this.store.tables;
    return tx.update(jobs).set({ status: 'running', startedAt: new Date().toISOString() }).where(eq(jobs.id, id)).returning();
  }
}

/** The columns of a failed job: its error, its end, and no token (it is no longer needed). */
function failure(errorId: string, message: string) {
  return {
    status: 'failed' as const,
    finishedAt: new Date().toISOString(),
    errorId,
    errorMessage: message.slice(0, 1000),
    interactionToken: null,
  };
}

/** The facts row as {@link AdmissionFacts}. */
function factsOf(
  row: { guild: number; user: number; guildImages: number; guildUsd: number; userImages: number; lastStart: string | null } | undefined,
): AdmissionFacts {
  return {
    inFlight: { guild: row?.guild ?? 0, user: row?.user ?? 0 },
    guildToday: { images: row?.guildImages ?? 0, costUsd: row?.guildUsd ?? 0 },
    userToday: { images: row?.userImages ?? 0 },
    lastStart: row?.lastStart ?? undefined,
  };
}

function guildsOf(queued: readonly QueuedJob[]): string[] {
  return [...new Set(queued.map((j) => j.guild))];
}

function servedMap(rows: ReadonlyArray<{ guildId: string; served: number }>): Map<string, number> {
  return new Map(rows.map((r) => [r.guildId, r.served]));
}
