import type { Transcript, TranscriptEntry } from '../campaigns/transcript.ts';
import { TurnMissingError, TurnOutOfRangeError } from '../errors.ts';

/** Most entries of context a request may ask for (`current` with an explicit count), as every door offers. */
export const MAX_CONTEXT_ENTRIES = 50;

/** The entries shown to the prompt writer and the turn the picture is filed under. */
export interface SceneContext {
  /** 1-based turn the picture illustrates. */
  readonly turn: number;
  /** Entries in transcript order; the focus turn is among them. */
  readonly entries: readonly TranscriptEntry[];
}

/**
 * `current`: the last `count` entries; the picture is filed under the last entry's turn.
 * @param count - Entries to include, at least 1.
 */
export function currentContext(transcript: Transcript, count: number): SceneContext {
  const entries = transcript.entries.slice(-Math.max(1, count));
  return { turn: transcript.lastTurn, entries };
}

/**
 * `turn N`: every entry whose turn lies within `radius` turns of N (N - radius .. N + radius).
 * @throws TurnOutOfRangeError when N is outside the transcript's first..last turn; TurnMissingError
 *   when no entry has turn N, naming the nearest turns that exist.
 */
export function turnContext(transcript: Transcript, turn: number, radius: number): SceneContext {
  if (!Number.isInteger(turn) || turn < transcript.firstTurn || turn > transcript.lastTurn) {
    throw new TurnOutOfRangeError(turn, transcript.firstTurn, transcript.lastTurn);
  }
  const at = lowerBound(transcript.entries, turn);
  if (transcript.entries[at]?.turn !== turn) {
    const nearest = [transcript.entries[at - 1], transcript.entries[at]].flatMap((e) => (e ? [e.turn] : []));
    throw new TurnMissingError(turn, nearest);
  }
  return { turn, entries: entriesAround(transcript, turn, radius) };
}

/** The entries whose turn lies within `radius` turns of `turn`, whether or not `turn` itself exists. */
export function entriesAround(transcript: Transcript, turn: number, radius: number): readonly TranscriptEntry[] {
  return transcript.entries.slice(lowerBound(transcript.entries, turn - radius), lowerBound(transcript.entries, turn + radius + 1));
}

/** Index of the first entry with `entry.turn >= turn` (entries are sorted by turn). */
function lowerBound(entries: readonly TranscriptEntry[], turn: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.turn < turn) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** `[Turn N] Speaker: text`, one line per entry: how transcripts are shown to models. */
export function formatEntries(entries: readonly TranscriptEntry[]): string {
  return entries.map(formatEntry).join('\n');
}

/** One entry as `[Turn N] Speaker: text` (see {@link formatEntries}). */
export function formatEntry(entry: TranscriptEntry): string {
  return `[Turn ${entry.turn}] ${entry.speaker}: ${entry.text}`;
}
