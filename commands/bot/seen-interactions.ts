/**
 * Interaction ids already handled by this process, so an interaction delivered twice (a gateway
 * replay, a forged resend) is handled once: a second run would check again, answer an
 * interaction that is already acknowledged and could start a second paid picture.
 *
 * The memory is bounded two ways. By time: an id is kept for `keepMs` (default 15 minutes, the
 * lifetime of an interaction's token), after which Discord accepts no answer to it anyway, so a
 * later replay can do nothing visible. By size: at most `maxIds` ids (default 50,000, about 4 MB),
 * the oldest dropped first, so a flood of distinct forged ids cannot grow the set without end;
 * that is far more interactions than one process receives in 15 minutes.
 */
export class SeenInteractions {
  /** Id → when it was first seen (ms); a Map iterates in insertion order, so the oldest come first. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly keepMs = 15 * 60 * 1000,
    private readonly maxIds = 50_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True the first time `id` is offered (and remembers it); false for an id seen within `keepMs`. */
  firstSight(id: string): boolean {
    const now = this.now();
    for (const [old, at] of this.seen) {
      if (now - at < this.keepMs && this.seen.size < this.maxIds) break;
      this.seen.delete(old);
    }
    if (this.seen.has(id)) return false;
    this.seen.set(id, now);
    return true;
  }
}
