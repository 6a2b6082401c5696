import { CampaignFileError } from './errors.ts';
import { crd3Entries, CRD3_ATTRIBUTION } from './crd3.ts';
import { parseTranscriptJson, parseTranscriptJsonl, parseTranscriptText, type TranscriptEntry } from './transcript.ts';

/** The transcript formats an upload may be in. */
export type TranscriptFormat = 'jsonl' | 'autodungeon' | 'crd3' | 'text';

/** An uploaded transcript, read. */
export interface UploadedTranscript {
  readonly format: TranscriptFormat;
  readonly entries: readonly TranscriptEntry[];
  /** A CRD3 episode's title, when it has one. */
  readonly title?: string;
  /** Credit to keep with the campaign (CRD3's licence notice). */
  readonly attribution?: string;
}

/**
 * Reads an uploaded transcript by its file name: `*.jsonl` is `transcript.jsonl`'s format, `*.json`
 * autodungeon's `transcript.json` (an array) or a CRD3 episode (an object with `TURNS`), anything
 * else plain text with one `Speaker: text` turn per line.
 * @param fileName - The upload's name, also used in error messages.
 * @throws CampaignFileError naming the file and the line, entry or turn at fault (or that it is not UTF-8 text).
 */
export function parseUploadedTranscript(fileName: string, bytes: Uint8Array): UploadedTranscript {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new CampaignFileError(fileName, ['not UTF-8 text'], { cause: err });
  }
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.jsonl')) return { format: 'jsonl', entries: parseTranscriptJsonl(text, fileName).entries };
  if (!lower.endsWith('.json')) return { format: 'text', entries: parseTranscriptText(text, fileName).entries };
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  if (trimmed.startsWith('[')) return { format: 'autodungeon', entries: parseTranscriptJson(trimmed, fileName).entries };
  let data: unknown;
  try {
    data = JSON.parse(trimmed);
  } catch (err) {
    throw new CampaignFileError(fileName, [`not valid JSON (${(err as Error).message})`], { cause: err });
  }
  if (typeof data !== 'object' || data === null || !('TURNS' in data)) {
    throw new CampaignFileError(fileName, ["expected autodungeon's transcript.json (an array of entries) or a CRD3 episode (an object with TURNS)"]);
  }
  const episode = crd3Entries(data, fileName);
  return { format: 'crd3', entries: episode.entries, attribution: CRD3_ATTRIBUTION, ...(episode.title ? { title: episode.title } : {}) };
}
