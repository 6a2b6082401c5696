/** The formats an uploaded transcript may be in, as an option's description (at most 100 characters). */
export const TRANSCRIPT_FORMATS = 'transcript.json(l), a CRD3 episode .json, or text with one "Speaker: text" per line';

/** `2,160 turns`, `1 turn`. */
export function turnsText(turns: number): string {
  return `${turns.toLocaleString('en-US')} ${turns === 1 ? 'turn' : 'turns'}`;
}
