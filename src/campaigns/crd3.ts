import { CampaignFileError } from './errors.ts';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { describeIssues, type TranscriptEntry } from './transcript.ts';

/**
 * Credit line kept next to anything made from CRD3 (the dataset's CC BY-SA 4.0 terms).
 * Source: ../shared/data/crd3/README.md.
 */
export const CRD3_ATTRIBUTION =
  'Transcript from the Critical Role Dungeons and Dragons Dataset (CRD3): R. Rameshkumar and P. Bailey, ' +
  '"Storytelling with Dialogue: A Critical Role Dungeons and Dragons Dataset", ACL 2020. ' +
  'Critical Role content; licensed CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/).';

/** One CRD3 turn: `NUMBER` is 0-based and dense; utterances are line-broken pieces of one spoken turn. */
const crd3Turn = z.object({
  NAMES: z.array(z.string()).min(1),
  UTTERANCES: z.array(z.string()),
  NUMBER: z.int().min(0),
});

const crd3Episode = z.object({
  TURNS: z.array(z.unknown()).min(1),
  METADATA: z.unknown().optional(),
});

/** A CRD3 episode turned into Limner transcript entries. */
export interface Crd3Import {
  readonly entries: TranscriptEntry[];
  /** The episode's title from the wiki blurb when it has one (e.g. "Arrival at Kraghammer"). */
  readonly title?: string;
}

/**
 * Converts a CRD3 episode file: one entry per CRD3 turn, speakers joined with `, `,
 * utterances joined with spaces, turn = NUMBER + 1 (Limner's turns are 1-based).
 * Format source: ../shared/data/crd3/README.md.
 * @throws CampaignFileError naming the file and turn for malformed input.
 */
export async function readCrd3Episode(file: string): Promise<Crd3Import> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const problem = code === 'EISDIR' ? 'expected a CRD3 episode file, but this is a folder' : `cannot read a CRD3 episode (${code ?? (err as Error).message})`;
    throw new CampaignFileError(file, [problem], { cause: err });
  }
  return crd3Entries(data, file);
}

/**
 * {@link readCrd3Episode} for an episode already parsed from JSON (e.g. an upload).
 * @param file - Name used in error messages.
 * @throws CampaignFileError naming the file and turn for malformed input.
 */
export function crd3Entries(data: unknown, file: string): Crd3Import {
  const episode = crd3Episode.safeParse(data);
  if (!episode.success) throw new CampaignFileError(file, [describeIssues(episode.error)]);
  const entries = episode.data.TURNS.map((item, i): TranscriptEntry => {
    const t = crd3Turn.safeParse(item);
    if (!t.success) throw new CampaignFileError(file, [`TURNS[${i}]: ${describeIssues(t.error)}`]);
    return {
      turn: t.data.NUMBER + 1,
      speaker: t.data.NAMES.join(', '),
      text: t.data.UTTERANCES.map((u) => u.trim()).join(' ').replace(/\s+/g, ' ').trim(),
    };
  });
  entries.forEach((e, i) => {
    const prev = entries[i - 1];
    if (prev && e.turn <= prev.turn) {
      throw new CampaignFileError(file, [`TURNS[${i}]: NUMBER ${e.turn - 1} does not follow ${prev.turn - 1}`]);
    }
  });
  const title = titleOf(episode.data.METADATA);
  return title === undefined ? { entries } : { entries, title };
}

/** The quoted title at the start of the wiki blurb: `" Arrival at Kraghammer"(1x01) is ...`. */
function titleOf(metadata: unknown): string | undefined {
  const blurb = (metadata as { 'Wiki Blurb'?: Array<{ content?: unknown }> } | undefined)?.['Wiki Blurb']?.[0]?.content;
  if (typeof blurb !== 'string') return undefined;
  const m = /^\s*"\s*([^"]+?)\s*"/.exec(blurb);
  return m?.[1];
}
