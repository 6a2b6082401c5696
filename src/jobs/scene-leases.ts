import { and, eq } from 'drizzle-orm';
import { writeTransaction, type Db, type Store } from '../platform/db.ts';

/** What {@link SceneLeases.take} found: the picture, the lease (paint it), or another job painting it. */
export type LeaseOutcome<P> = { readonly kind: 'picture'; readonly picture: P } | { readonly kind: 'leader' } | { readonly kind: 'wait' };

/**
 * Single flight of identical pictures across every process on the database: the job that holds a
 * key's lease paints it (a scene's `sceneKey`, or `portrait <member id>` for a cast portrait); the
 * others wait for its picture. A lease is held while its job is
 * running with a fresh heartbeat, so a painter that failed, or whose process died, leaves the
 * lease to the next asker.
 */
export class SceneLeases {
  /** @param leaseS - A heartbeat older than this (s) is a dead process's (`queue.lease_s`). */
  constructor(
    private readonly store: Store,
    private readonly leaseS: number,
  ) {}

  /**
   * `wait` while a live job other than `jobId` holds the lease; else the lease for `jobId`, then the
   * picture if `find` has one (the lease is given back at once) or `leader` (paint it). The painter
   * saves its picture before it releases the lease, so `find`, asked once the lease is taken, sees
   * every picture made under an earlier lease: identical requests paint once. `find` runs outside
   * the lease's transaction, which therefore holds no other store's statements.
   * @param find - Looks up the finished picture.
   */
  async take<P>(sceneKey: string, jobId: string, find: () => P | undefined | Promise<P | undefined>): Promise<LeaseOutcome<P>> {
    const { jobs, sceneLeases } = this.store.tables;
    const holderQuery = (tx: Db) =>
      tx
        .select({ jobId: sceneLeases.jobId, status: jobs.status, heartbeatAt: jobs.heartbeatAt })
        .from(sceneLeases)
        .leftJoin(jobs, eq(jobs.id, sceneLeases.jobId))
        .where(eq(sceneLeases.sceneKey, sceneKey))
        .limit(1);
    const takeQuery = (tx: Db) => {
      const takenAt = new Date().toISOString();
      return tx
        .insert(sceneLeases)
        .values({ sceneKey, jobId, takenAt })
        .onConflictDoUpdate({ target: sceneLeases.sceneKey, set: { jobId, takenAt } });
    };
    const held = (holder: { jobId: string; status: string | null; heartbeatAt: string | null } | undefined) => {
      const staleBefore = new Date(Date.now() - this.leaseS * 1000).toISOString();
      const alive = holder && holder.status === 'running' && holder.heartbeatAt !== null && holder.heartbeatAt >= staleBefore;
      return Boolean(alive && holder.jobId !== jobId);
    };
    // A lock per scene key: on PostgreSQL unrelated scenes do not wait for each other.
    const taken = await writeTransaction(this.store, `scene ${sceneKey}`, {
      sqlite: (tx) => {
        if (held(holderQuery(tx).get())) return false;
        takeQuery(tx).run();
        return true;
      },
      postgres: async (tx) => {
        if (held((await holderQuery(tx))[0])) return false;
        await takeQuery(tx);
        return true;
      },
    });
    if (!taken) return { kind: 'wait' };
    const picture = await find();
    if (picture === undefined) return { kind: 'leader' };
    await this.release(sceneKey, jobId);
    return { kind: 'picture', picture };
  }

  /** Gives the lease back, if `jobId` still holds it. */
  async release(sceneKey: string, jobId: string): Promise<void> {
    const { sceneLeases } = this.store.tables;
    await this.store.db.delete(sceneLeases).where(and(eq(sceneLeases.sceneKey, sceneKey), eq(sceneLeases.jobId, jobId)));
  }
}
