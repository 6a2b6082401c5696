import { and, eq } from 'drizzle-orm';
import type { SqliteStore } from '../platform/db.ts';
import { jobs, sceneLeases } from '../platform/schema.ts';

/** What {@link SceneLeases.take} found: the picture, the lease (paint it), or another job painting it. */
export type LeaseOutcome<P> = { readonly kind: 'picture'; readonly picture: P } | { readonly kind: 'leader' } | { readonly kind: 'wait' };

/**
 * Single flight of identical scenes across every process on the database: the job that holds a
 * scene key's lease paints it; the others wait for its picture. A lease is held while its job is
 * running with a fresh heartbeat, so a painter that failed, or whose process died, leaves the
 * lease to the next asker.
 */
export class SceneLeases {
  /** @param leaseS - A heartbeat older than this (s) is a dead process's (`queue.lease_s`). */
  constructor(
    private readonly store: SqliteStore,
    private readonly leaseS: number,
  ) {}

  /**
   * In one immediate transaction: the picture if `find` has it, else the lease for `jobId` if no
   * live job holds it, else `wait`. The painter saves its picture before it releases the lease, so
   * an asker never sees the lease free without the picture that was made under it.
   * @param find - Looks up the finished picture (runs inside the transaction).
   */
  take<P>(sceneKey: string, jobId: string, find: () => P | undefined): LeaseOutcome<P> {
    return this.store.sqlite
      .transaction((): LeaseOutcome<P> => {
        const picture = find();
        if (picture !== undefined) return { kind: 'picture', picture };
        const holder = this.store.db
          .select({ jobId: sceneLeases.jobId, status: jobs.status, heartbeatAt: jobs.heartbeatAt })
          .from(sceneLeases)
          .leftJoin(jobs, eq(jobs.id, sceneLeases.jobId))
          .where(eq(sceneLeases.sceneKey, sceneKey))
          .get();
        const staleBefore = new Date(Date.now() - this.leaseS * 1000).toISOString();
        const alive = holder && holder.status === 'running' && holder.heartbeatAt !== null && holder.heartbeatAt >= staleBefore;
        if (alive && holder.jobId !== jobId) return { kind: 'wait' };
        const takenAt = new Date().toISOString();
        this.store.db
          .insert(sceneLeases)
          .values({ sceneKey, jobId, takenAt })
          .onConflictDoUpdate({ target: sceneLeases.sceneKey, set: { jobId, takenAt } })
          .run();
        return { kind: 'leader' };
      })
      .immediate();
  }

  /** Gives the lease back, if `jobId` still holds it. */
  release(sceneKey: string, jobId: string): void {
    this.store.db
      .delete(sceneLeases)
      .where(and(eq(sceneLeases.sceneKey, sceneKey), eq(sceneLeases.jobId, jobId)))
      .run();
  }
}
