import type { TranscriptEntry } from '../../campaigns/transcript.ts';
import { formatEntry } from '../context.ts';
import { estimateTextTokens } from '../../platform/tokens.ts';

/**
 * Share of `generation.scanner_token_limit` one passage may fill; the rest leaves room for the
 * instructions, the response schema and the error of the 4-characters-per-token estimate.
 */
export const PASSAGE_SHARE = 0.8;

/** Entries adjacent passages share, so a moment at a boundary is read with its lead-up at least once. */
export const PASSAGE_OVERLAP = 20;

/** A run of consecutive transcript entries shown to the scanner in one call. */
export interface Passage {
  /** Index of its first entry in the transcript's `entries`. */
  readonly start: number;
  /** Index after its last entry. */
  readonly end: number;
  /** 1-based turns of its first and last entries. */
  readonly firstTurn: number;
  readonly lastTurn: number;
  /** `[Turn N] Speaker: text` lines; an entry longer than the whole budget is cut to fit, ending with `…`. */
  readonly text: string;
  /** Estimated tokens of `text` (the sum of its lines' estimates). */
  readonly tokens: number;
}

/**
 * Splits entries into passages of at most `maxTokens` estimated tokens, cut on entry boundaries
 * and packed greedily from the start. Packing from the start keeps every passage but the last
 * unchanged when entries are appended, which is what lets a grown transcript reuse earlier scans.
 * Adjacent passages share `overlap` entries, or half the earlier passage when that is fewer (very
 * long entries), so each passage still brings new ones.
 * @param maxTokens - Budget per passage in estimated tokens, at least 1.
 * @returns Passages in order, covering every entry; none for no entries.
 */
export function splitPassages(entries: readonly TranscriptEntry[], maxTokens: number, overlap = PASSAGE_OVERLAP): Passage[] {
  const lines = entries.map((entry) => fitLine(formatEntry(entry), maxTokens));
  const costs = lines.map((line) => estimateTextTokens(line));
  const passages: Passage[] = [];
  let start = 0;
  while (start < entries.length) {
    let end = start;
    let tokens = 0;
    while (end < entries.length && (end === start || tokens + costs[end]! <= maxTokens)) tokens += costs[end++]!;
    passages.push({
      start,
      end,
      firstTurn: entries[start]!.turn,
      lastTurn: entries[end - 1]!.turn,
      text: lines.slice(start, end).join('\n'),
      tokens,
    });
    if (end === entries.length) break;
    start = end - Math.min(overlap, Math.floor((end - start) / 2));
  }
  return passages;
}

/** The line itself, or its first `maxTokens` tokens' worth of characters ending with `…`. */
function fitLine(line: string, maxTokens: number): string {
  return estimateTextTokens(line) <= maxTokens ? line : `${line.slice(0, maxTokens * 4 - 1)}…`;
}
