import { LimnerError } from '../errors.ts';

/** The queue's limits, shared by every process on the database. */
export interface QueueLimits {
  /** Jobs running at once across everyone (model calls in flight). */
  readonly concurrency: number;
  /** Jobs one user may have running at once; their further jobs wait. */
  readonly perUser: number;
}

/** A job as the fair order sees it. */
export interface QueuedJob {
  readonly id: string;
  /** Discord guild id, `cli`, or `none`. */
  readonly guild: string;
  readonly userId: string;
  /** Jobs sharing a key run one after another in arrival order (an edit session); null: no order. */
  readonly sessionKey: string | null;
}

/** A job holding a slot. */
export interface RunningJob {
  readonly userId: string;
  readonly sessionKey: string | null;
}

/** The queue is closing (shutdown) and takes no new work. */
export class QueueClosedError extends LimnerError {
  readonly code = 'queue_closed';
  constructor() {
    super('Limner is restarting and not taking new requests right now. Please try again in a minute.');
  }
}

/**
 * The job to start next, or undefined when the slots are full or every waiting job is held: the
 * first startable job of the least recently served guild that has one, so one busy guild cannot
 * starve the others. A job is held while its user has `perUser` jobs running, or while an earlier
 * job of its session is queued or running.
 * @param queued - Waiting jobs in arrival order.
 * @param served - When each guild was last served (higher: more recently); absent: never.
 */
export function nextToStart(
  queued: readonly QueuedJob[],
  running: readonly RunningJob[],
  served: ReadonlyMap<string, number>,
  limits: QueueLimits,
): QueuedJob | undefined {
  if (running.length >= limits.concurrency) return undefined;
  const byUser = new Map<string, number>();
  for (const job of running) byUser.set(job.userId, (byUser.get(job.userId) ?? 0) + 1);
  const held = sessionHeld(queued, running);
  const byGuild = groupByGuild(queued);
  for (const guild of rotation(byGuild, served)) {
    const job = byGuild.get(guild)!.find((j) => (byUser.get(j.userId) ?? 0) < limits.perUser && !held.has(j.id));
    if (job) return job;
  }
  return undefined;
}

/** Where a waiting job stands: its 1-based place, or held behind an earlier job of its session. */
export type Place = { readonly place: number } | { readonly session: true };

/**
 * Places in line by simulated round-robin between guilds (per-user caps only delay, so they are
 * ignored); a job waiting behind an earlier job of its session says so instead.
 * @param queued - Waiting jobs in arrival order.
 */
export function placesInLine(
  queued: readonly QueuedJob[],
  running: readonly RunningJob[],
  served: ReadonlyMap<string, number>,
): Map<string, Place> {
  const places = new Map<string, Place>();
  const held = sessionHeld(queued, running);
  const byGuild = groupByGuild(queued.filter((j) => !held.has(j.id)));
  const lists = rotation(byGuild, served).map((g) => byGuild.get(g)!);
  let place = 0;
  for (let depth = 0; lists.some((l) => l.length > depth); depth++) {
    for (const list of lists) {
      const job = list[depth];
      if (job) places.set(job.id, { place: ++place });
    }
  }
  for (const id of held) places.set(id, { session: true });
  return places;
}

/** Ids of waiting jobs with an earlier job of their session queued or running. */
function sessionHeld(queued: readonly QueuedJob[], running: readonly RunningJob[]): Set<string> {
  const busy = new Set(running.map((j) => j.sessionKey).filter((k) => k !== null));
  const held = new Set<string>();
  for (const job of queued) {
    if (job.sessionKey === null) continue;
    if (busy.has(job.sessionKey)) held.add(job.id);
    else busy.add(job.sessionKey);
  }
  return held;
}

/** Waiting jobs per guild, in arrival order; guilds in the order of their first job. */
function groupByGuild(queued: readonly QueuedJob[]): Map<string, QueuedJob[]> {
  const byGuild = new Map<string, QueuedJob[]>();
  for (const job of queued) {
    const list = byGuild.get(job.guild);
    if (list) list.push(job);
    else byGuild.set(job.guild, [job]);
  }
  return byGuild;
}

/** Guilds least recently served first; never served ones first of all, by arrival. */
function rotation(byGuild: ReadonlyMap<string, readonly QueuedJob[]>, served: ReadonlyMap<string, number>): string[] {
  // Map keys keep first-arrival order and sort is stable, so ties stay in arrival order.
  return [...byGuild.keys()].sort((a, b) => (served.get(a) ?? -1) - (served.get(b) ?? -1));
}
