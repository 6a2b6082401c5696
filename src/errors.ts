/**
 * A failure Limner expects (after Sapphire's `UserError`: an identifier plus context): a stable
 * `code`, the context as readonly fields of each subclass, and a plain sentence as `message` for logs.
 * Each door words codes in its own messages module (`commands/messages.ts` for Discord,
 * `src/cli/messages.ts` for the terminal) and falls back to `message`, which therefore names no
 * slash command, button or flag. Anything that is not a LimnerError is unexpected and is logged
 * with an error id that the user sees.
 */
export abstract class LimnerError extends Error {
  /** Stable machine-readable code, e.g. `turn_out_of_range`. */
  abstract readonly code: string;

  /**
   * @param message - Safe to show to anyone: no secrets, no stack, no door's vocabulary.
   * @param options.cause - The underlying error, kept for logs.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
