import type { Logger } from '../../src/platform/log.ts';

/**
 * Place-in-line edits the whole process makes per second, at most. discord.js holds every REST
 * request to Discord's global 50 a second, acknowledgements included; when a job ends every request
 * behind it moves up, and showing each move (200 waiting, a job ending every 250 ms) took the whole
 * budget and held acknowledgements back by up to a second (BENCHMARKS.md, figures 1 and 3).
 */
export const PLACE_EDITS_PER_SECOND = 10;

/**
 * Shares {@link PLACE_EDITS_PER_SECOND} between the replies waiting in line: a reply that never
 * showed its place goes first, then the one that has waited longest; each shows its newest place.
 */
class PlacePacer {
  private readonly fresh = new Map<ProgressReply, string>();
  private readonly stale = new Map<ProgressReply, string>();
  private timer: NodeJS.Timeout | undefined;

  offer(reply: ProgressReply, text: string, shownBefore: boolean): void {
    (shownBefore ? this.stale : this.fresh).set(reply, text);
    this.timer ??= setInterval(() => this.tick(), 1000 / PLACE_EDITS_PER_SECOND).unref();
  }

  withdraw(reply: ProgressReply): void {
    this.fresh.delete(reply);
    this.stale.delete(reply);
  }

  private tick(): void {
    const queue = this.fresh.size > 0 ? this.fresh : this.stale;
    const next = queue.entries().next();
    if (!next.done) {
      const [reply, text] = next.value;
      queue.delete(reply);
      reply.sendPlace(text);
    }
    if (this.fresh.size === 0 && this.stale.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

const pacer = new PlacePacer();

/**
 * Progress lines for one reply, sent one at a time in the order shown. A failed progress edit is
 * logged, never thrown: it is not worth failing the work for.
 */
export class ProgressReply {
  private chain: Promise<unknown> = Promise.resolve();
  private waiting: string | undefined;
  private placeShown = false;

  /** @param send - Edits the reply (or message) to show one line. */
  constructor(
    private readonly send: (text: string) => Promise<unknown>,
    private readonly log: Logger,
  ) {}

  /** Queues `text`; every line shown this way is sent. A place in line not yet shown is dropped. */
  show(text: string): void {
    pacer.withdraw(this);
    this.chain = this.chain.then(() => this.sendLogged(text));
  }

  /**
   * Queues `text` for lines that can come faster than Discord takes edits (scan passages,
   * packing): of the lines still waiting, only the newest is sent.
   */
  showLatest(text: string): void {
    if (this.waiting === undefined) {
      this.chain = this.chain.then(() => {
        const latest = this.waiting!;
        this.waiting = undefined;
        return this.sendLogged(latest);
      });
    }
    this.waiting = text;
  }

  /**
   * Shows a place in line when the process's pace of place edits allows ({@link PLACE_EDITS_PER_SECOND}):
   * the newest place offered is the one shown; {@link show} (the job started) withdraws it.
   */
  showPlace(text: string): void {
    pacer.offer(this, text, this.placeShown);
  }

  /** Drops a place in line not yet shown: the job has started. */
  dropPlace(): void {
    pacer.withdraw(this);
  }

  /** @internal The pacer's turn for this reply. */
  sendPlace(text: string): void {
    this.placeShown = true;
    this.showLatest(text);
  }

  /** Resolves once every queued line has been sent or has failed; a place not yet shown is dropped. */
  settled(): Promise<unknown> {
    pacer.withdraw(this);
    return this.chain;
  }

  private sendLogged(text: string): Promise<unknown> {
    return this.send(text).catch((err: unknown) => this.log.debug({ err }, 'progress edit failed'));
  }
}
