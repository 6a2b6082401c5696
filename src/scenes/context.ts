import { TurnMissingError, TurnOutOfRangeError } from './errors.ts';
import type { Transcript, TranscriptEntry } from '../campaigns/transcript.ts';
import { estimateTextTokens } from '../platform/tokens.ts';

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

/** A {@link SceneContext} cut to a token budget by {@link boundContext}. */
export interface BoundedContext extends SceneContext {
  /** Entries left out, before and after the focus turn together. */
  readonly dropped: number;
  /** True when the focus entry alone was over the budget and its text was shortened. */
  readonly shortened: boolean;
}

/** Marks where a shortened entry's text was cut. */
const CUT_MARK = ' [...]';

/** Longest speaker name kept in an entry shortened by {@link boundContext}, characters. */
const MAX_SPEAKER_CHARS = 100;

/**
 * The entries of `context` that fit `maxTokens` estimated tokens once formatted ({@link formatEntries}):
 * the focus turn (`context.turn`, else the last entry) first, then its neighbours, nearest first and
 * alternating before and after, each whole. A side stops at its first entry that does not fit, so
 * what is kept is a run of consecutive entries around the focus. A focus entry over the budget on
 * its own is shortened to fit, its text cut at the end.
 * @param maxTokens - Estimated tokens (see {@link estimateTextTokens}), at least 1.
 */
export function boundContext(context: SceneContext, maxTokens: number): BoundedContext {
  const { entries } = context;
  if (entries.length === 0) return { ...context, dropped: 0, shortened: false };
  const found = entries.findIndex((e) => e.turn === context.turn);
  const focus = found < 0 ? entries.length - 1 : found;
  // Each entry after the first also costs its line break.
  const cost = (entry: TranscriptEntry) => estimateTextTokens(formatEntry(entry)) + 1;
  let first = entries[focus]!;
  let shortened = false;
  if (cost(first) > maxTokens) {
    // A speaker name is short in any real transcript; a huge one is cut too so that the text keeps some room.
    const speaker = first.speaker.slice(0, MAX_SPEAKER_CHARS);
    const room = Math.max(0, (maxTokens - 1) * 4 - formatEntry({ ...first, speaker, text: '' }).length - CUT_MARK.length);
    first = { ...first, speaker, text: `${first.text.slice(0, room)}${CUT_MARK}` };
    shortened = true;
  }
  let used = cost(first);
  let lo = focus;
  let hi = focus;
  let before = focus > 0;
  let after = focus < entries.length - 1;
  for (let side = 0; before || after; side++) {
    const takeBefore = before && (!after || side % 2 === 0);
    const next = entries[takeBefore ? lo - 1 : hi + 1]!;
    if (used + cost(next) > maxTokens) {
      if (takeBefore) before = false;
      else after = false;
      continue;
    }
    used += cost(next);
    if (takeBefore) before = --lo > 0;
    else after = ++hi < entries.length - 1;
  }
  const kept = [...entries.slice(lo, focus), first, ...entries.slice(focus + 1, hi + 1)];
  return { turn: context.turn, entries: kept, dropped: entries.length - kept.length, shortened };
}

/** `[Turn N] Speaker: text`, one line per entry: how transcripts are shown to models. */
export function formatEntries(entries: readonly TranscriptEntry[]): string {
  return entries.map(formatEntry).join('\n');
}

/** One entry as `[Turn N] Speaker: text` (see {@link formatEntries}). */
export function formatEntry(entry: TranscriptEntry): string {
  return `[Turn ${entry.turn}] ${entry.speaker}: ${entry.text}`;
}
