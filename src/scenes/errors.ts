import { LimnerError } from '../errors.ts';

/** A requested turn is outside the transcript. Turns are 1-based. */
export class TurnOutOfRangeError extends LimnerError {
  readonly code = 'turn_out_of_range';
  constructor(
    readonly turn: number,
    readonly first: number,
    readonly last: number,
  ) {
    super(`Turn ${turn} is out of range: this campaign has turns ${first}-${last}.`);
  }
}

/**
 * A turn inside the transcript's range that no entry has (transcripts may skip numbers); `nearest`
 * are the closest turns that exist, the one before and the one after (one of them at an end).
 */
export class TurnMissingError extends LimnerError {
  readonly code = 'turn_missing';
  constructor(
    readonly turn: number,
    readonly nearest: readonly number[],
  ) {
    super(`This campaign's story has no turn ${turn}; the nearest are ${nearest.map((t) => `turn ${t}`).join(' and ')}.`);
  }
}

/**
 * The scanner (`/scene best`) named a turn it was not shown, on its first answer and on the retry.
 * `turn` is the last turn it named; `shown` describes what it read, e.g. `turns 1-340`.
 */
export class ScanTurnError extends LimnerError {
  readonly code = 'scan_turn_invalid';
  /** @param chosen - What was not chosen, for the message (`best scene`, `recap`). */
  constructor(
    readonly turn: number,
    readonly shown: string,
    chosen = 'best scene',
  ) {
    super(`Gemini twice picked a turn it had not read (turn ${turn}; it read ${shown}), so no ${chosen} was chosen. Please try again.`);
  }
}

/** The scanner's structured output (`/scene best`) was not the requested JSON, on its first answer and on the retry. */
export class ScanReplyError extends LimnerError {
  readonly code = 'scan_reply_malformed';
  constructor(
    readonly detail: string,
    options?: { cause?: unknown; chosen?: string },
  ) {
    super(
      `Gemini twice answered the session scan with something other than the requested JSON, so no ${options?.chosen ?? 'best scene'} was chosen. Please try again.`,
      options,
    );
  }
}

/** A director's note longer than `limit` characters. */
export class NoteTooLongError extends LimnerError {
  readonly code = 'note_too_long';
  constructor(
    readonly length: number,
    readonly limit: number,
  ) {
    super(`A director's note has at most ${limit} characters; this one has ${length}.`);
  }
}

/** A recap range that cannot be recapped: outside the story, reversed, or with fewer turns than panels. */
export class RecapRangeError extends LimnerError {
  readonly code = 'recap_range_invalid';
  constructor(
    readonly from: number,
    readonly to: number,
    /** Why, as a clause: `it has 2 turns and the recap has 4 panels`. */
    readonly reason: string,
  ) {
    super(`Turns ${from}-${to} cannot be recapped: ${reason}.`);
  }
}
