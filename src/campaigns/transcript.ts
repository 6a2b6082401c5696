import { CampaignFileError } from './errors.ts';
import { z } from 'zod';

/** One turn of a campaign's story. `turn` is 1-based, as users see it. */
export interface TranscriptEntry {
  readonly turn: number;
  readonly speaker: string;
  readonly text: string;
  /** ISO 8601 when the source has one. */
  readonly timestamp?: string;
  /** The Discord message (snowflake) this turn is, for play-by-post campaigns. */
  readonly messageId?: string;
}

/**
 * A campaign's story: entries in strictly increasing turn order. A transcript file is never empty;
 * a play-by-post channel's story is until its first story message (`firstTurn` and `lastTurn` are 0 then).
 */
export interface Transcript {
  /** Where it was read from: a file's absolute path, or a play-by-post channel's Discord URL. */
  readonly file: string;
  readonly entries: readonly TranscriptEntry[];
  readonly firstTurn: number;
  readonly lastTurn: number;
}

/** The transcript file names Limner reads, in the order it looks for them. */
export const TRANSCRIPT_FILES = ['transcript.jsonl', 'transcript.json'] as const;

const turnNumber = z.int().min(1);

/** autodungeon's `transcript.json` entry (seed 17-2's storage layout). */
const autodungeonEntry = z.strictObject({
  turn: turnNumber.optional(),
  timestamp: z.string().optional(),
  agent: z.string().min(1),
  content: z.string(),
});

/** One line of `transcript.jsonl`. */
const jsonlEntry = z.strictObject({
  turn: turnNumber.optional(),
  speaker: z.string().min(1),
  text: z.string(),
  timestamp: z.string().optional(),
});

type Raw = { turn?: number | undefined; speaker: string; text: string; timestamp?: string | undefined };

/**
 * Parses autodungeon's `transcript.json`: a JSON array of `{turn, timestamp, agent, content}`.
 * @param file - Path used in error messages.
 * @throws CampaignFileError naming the file and entry for bad JSON, unknown fields, bad turns or an empty array.
 */
export function parseTranscriptJson(text: string, file: string): Transcript {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CampaignFileError(file, [`not valid JSON (${(err as Error).message})`], { cause: err });
  }
  if (!Array.isArray(data)) throw new CampaignFileError(file, ['expected a JSON array of entries']);
  const raws = data.map((item, i): Raw => {
    const r = autodungeonEntry.safeParse(item);
    if (!r.success) throw new CampaignFileError(file, [`entry ${i + 1}: ${describeIssues(r.error)}`]);
    return { turn: r.data.turn, speaker: r.data.agent, text: r.data.content, timestamp: r.data.timestamp };
  });
  return finish(raws, file, (i) => `entry ${i + 1}`);
}

/**
 * Parses `transcript.jsonl`: one `{turn?, speaker, text, timestamp?}` object per line.
 * A last line without its newline that does not parse is a write in progress and is skipped;
 * any other bad line is an error.
 * @throws CampaignFileError naming the file and line.
 */
export function parseTranscriptJsonl(text: string, file: string): Transcript {
  const lines = text.split('\n');
  const complete = text.endsWith('\n');
  const raws: Raw[] = [];
  const lineOf: number[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const isPartialTail = i === lines.length - 1 && !complete;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      if (isPartialTail) return;
      throw new CampaignFileError(file, [`line ${i + 1}: not valid JSON (${(err as Error).message})`], { cause: err });
    }
    const r = jsonlEntry.safeParse(value);
    if (!r.success) throw new CampaignFileError(file, [`line ${i + 1}: ${describeIssues(r.error)}`]);
    raws.push(r.data);
    lineOf.push(i + 1);
  });
  return finish(raws, file, (i) => `line ${lineOf[i]}`);
}

/** Longest speaker name of a plain-text transcript line, characters. */
const MAX_TEXT_SPEAKER_CHARS = 100;

/**
 * Parses a plain-text transcript: one `Speaker: text` turn per line (the speaker is everything
 * before the first colon, at most 100 characters), numbered in order; blank lines are skipped,
 * a byte-order mark and Windows line ends are accepted.
 * @throws CampaignFileError naming the file and the line that is not `Speaker: text`, or saying there are no lines.
 */
export function parseTranscriptText(text: string, file: string): Transcript {
  const raws: Raw[] = [];
  const lineOf: number[] = [];
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((line, i) => {
      if (line.trim() === '') return;
      const colon = line.indexOf(':');
      const speaker = colon > 0 ? line.slice(0, colon).trim() : '';
      if (speaker === '' || speaker.length > MAX_TEXT_SPEAKER_CHARS) {
        throw new CampaignFileError(file, [
          `line ${i + 1}: expected "Speaker: text" (a name of at most ${MAX_TEXT_SPEAKER_CHARS} characters, a colon, then what they say or do)`,
        ]);
      }
      const said = line.slice(colon + 1).trim();
      if (said === '') throw new CampaignFileError(file, [`line ${i + 1}: nothing follows "${speaker}:"`]);
      raws.push({ speaker, text: said });
      lineOf.push(i + 1);
    });
  return finish(raws, file, (i) => `line ${lineOf[i]}`);
}

/**
 * Numbers entries without a turn (previous turn + 1, so the first is 1) and checks that
 * turns strictly increase.
 */
function finish(raws: readonly Raw[], file: string, where: (i: number) => string): Transcript {
  if (raws.length === 0) throw new CampaignFileError(file, ['the transcript has no entries']);
  let previous = 0;
  const entries = raws.map((raw, i): TranscriptEntry => {
    const turn = raw.turn ?? previous + 1;
    if (turn <= previous) {
      throw new CampaignFileError(file, [`${where(i)}: turn ${turn} does not follow turn ${previous}`]);
    }
    previous = turn;
    return raw.timestamp === undefined
      ? { turn, speaker: raw.speaker, text: raw.text }
      : { turn, speaker: raw.speaker, text: raw.text, timestamp: raw.timestamp };
  });
  return { file, entries, firstTurn: entries[0]!.turn, lastTurn: previous };
}

/** One line per zod issue: `field: message`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const at = i.path.join('.');
      return at ? `${at}: ${i.message}` : i.message;
    })
    .join('; ');
}

/** Serialises entries as `transcript.jsonl` text (one object per line, trailing newline). */
export function toJsonl(entries: readonly TranscriptEntry[]): string {
  return entries.map((e) => JSON.stringify(e)).join('\n') + '\n';
}
