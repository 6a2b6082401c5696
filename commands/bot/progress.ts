import type { Logger } from '../../src/log.ts';

/**
 * Progress lines for one reply, sent one at a time in the order shown. A failed progress edit is
 * logged, never thrown: it is not worth failing the work for.
 */
export class ProgressReply {
  private chain: Promise<unknown> = Promise.resolve();
  private waiting: string | undefined;

  /** @param send - Edits the reply (or message) to show one line. */
  constructor(
    private readonly send: (text: string) => Promise<unknown>,
    private readonly log: Logger,
  ) {}

  /** Queues `text`; every line shown this way is sent. */
  show(text: string): void {
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

  /** Resolves once every queued line has been sent or has failed. */
  settled(): Promise<unknown> {
    return this.chain;
  }

  private sendLogged(text: string): Promise<unknown> {
    return this.send(text).catch((err: unknown) => this.log.debug({ err }, 'progress edit failed'));
  }
}
