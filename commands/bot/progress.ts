import type { Logger } from '../../src/log.ts';

/**
 * Least time between two edits showing a place in line, ms. When a job ends every request behind it
 * moves up: with 40 waiting and a job ending every 250 ms, showing each move would be 160 edits a
 * second, more than Discord lets a bot make and a busy main thread for nothing (BENCHMARKS.md, figure 1).
 */
export const PLACE_INTERVAL_MS = 2_000;

/**
 * Progress lines for one reply, sent one at a time in the order shown. A failed progress edit is
 * logged, never thrown: it is not worth failing the work for.
 */
export class ProgressReply {
  private chain: Promise<unknown> = Promise.resolve();
  private waiting: string | undefined;
  private place: { text: string; timer: NodeJS.Timeout } | undefined;
  private placeShownAt = -Infinity;

  /** @param send - Edits the reply (or message) to show one line. */
  constructor(
    private readonly send: (text: string) => Promise<unknown>,
    private readonly log: Logger,
  ) {}

  /** Queues `text`; every line shown this way is sent. A place in line not yet shown is dropped. */
  show(text: string): void {
    this.dropPlace();
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
   * Shows a place in line: at once when none was shown in the last {@link PLACE_INTERVAL_MS},
   * otherwise the newest one when that time is up, unless {@link show} (the job started) came first.
   */
  showPlace(text: string): void {
    if (this.place) {
      this.place.text = text;
      return;
    }
    const due = this.placeShownAt + PLACE_INTERVAL_MS - performance.now();
    if (due <= 0) {
      this.placeShownAt = performance.now();
      this.showLatest(text);
      return;
    }
    const timer = setTimeout(() => {
      const latest = this.place!.text;
      this.place = undefined;
      this.placeShownAt = performance.now();
      this.showLatest(latest);
    }, due);
    timer.unref();
    this.place = { text, timer };
  }

  /** Resolves once every queued line has been sent or has failed; a place not yet shown is dropped. */
  settled(): Promise<unknown> {
    this.dropPlace();
    return this.chain;
  }

  private dropPlace(): void {
    if (!this.place) return;
    clearTimeout(this.place.timer);
    this.place = undefined;
  }

  private sendLogged(text: string): Promise<unknown> {
    return this.send(text).catch((err: unknown) => this.log.debug({ err }, 'progress edit failed'));
  }
}
