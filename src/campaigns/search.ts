import type { Transcript, TranscriptEntry } from './transcript.ts';

/** A turn offered to a user picking one, e.g. in Discord autocomplete. */
export interface TurnChoice {
  readonly turn: number;
  /** `Turn 1503 · MATT: The dragon rears back…`, at most `maxLength` characters. */
  readonly label: string;
}

/**
 * Turns matching what a user typed: digits match turn numbers by prefix (`15` gives 15, 150-159,
 * 1500-1599...), nearest first; other text matches speakers and words case-insensitively;
 * empty input gives the latest turns, newest first.
 * @param limit - At most this many choices (Discord allows 25).
 * @param maxLength - Label length in characters (Discord allows 100).
 */
export function findTurns(transcript: Transcript, typed: string, limit = 25, maxLength = 100): TurnChoice[] {
  const query = typed.trim().toLowerCase();
  const entries = transcript.entries;
  let picked: TranscriptEntry[];
  if (query === '') {
    picked = entries.slice(-limit).reverse();
  } else if (/^\d+$/.test(query)) {
    picked = entries.filter((e) => String(e.turn).startsWith(query)).slice(0, limit);
  } else {
    picked = [];
    for (const e of entries) {
      if (e.speaker.toLowerCase().includes(query) || e.text.toLowerCase().includes(query)) picked.push(e);
      if (picked.length === limit) break;
    }
  }
  return picked.map((e) => ({ turn: e.turn, label: turnLabel(e, maxLength) }));
}

/** `Turn N · SPEAKER: text…` cut to `maxLength` characters with an ellipsis. */
export function turnLabel(entry: TranscriptEntry, maxLength = 100): string {
  const full = `Turn ${entry.turn} · ${entry.speaker}: ${entry.text.replace(/\s+/g, ' ')}`;
  return full.length <= maxLength ? full : `${full.slice(0, maxLength - 1).trimEnd()}…`;
}
