import { randomUUID } from 'node:crypto';
import { and, desc, eq, inArray, isNotNull } from 'drizzle-orm';
import type { Store } from '../platform/db.ts';
import { jobs, type JobRow } from '../platform/schema.ts';

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
  /** Pictures the job makes, all counted against budgets before it starts (variations make up to 4); default 1. */
  readonly pictures?: number;
}

/** Job rows: queued → running → succeeded | failed. */
export class JobStore {
  /** @param shard - The Discord shard this process runs (0 without sharding); stamped on every job it creates. */
  constructor(
    private readonly store: Store,
    private readonly shard = 0,
  ) {}

  /** Records a queued job; returns its id (UUID). */
  create(job: NewJob): string {
    const id = randomUUID();
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
        createdAt: new Date().toISOString(),
        shard: this.shard,
      })
      .run();
    return id;
  }

  /** Marks the job running, now. */
  start(id: string): void {
    this.store.db.update(jobs).set({ status: 'running', startedAt: new Date().toISOString() }).where(eq(jobs.id, id)).run();
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

  /** When `userId` last started a job (ISO 8601), for cooldowns. */
  lastStartOf(userId: string): string | undefined {
    return (
      this.store.db
        .select({ startedAt: jobs.startedAt })
        .from(jobs)
        .where(and(eq(jobs.userId, userId), isNotNull(jobs.startedAt)))
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
    return this.store.sqlite.transaction(() => {
      const left = this.store.db
        .select()
        .from(jobs)
        .where(and(inArray(jobs.status, ['queued', 'running']), eq(jobs.shard, this.shard)))
        .all();
      for (const job of left) this.fail(job.id, 'interrupted', message);
      return left;
    })();
  }
}
