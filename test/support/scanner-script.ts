import { COMPARE_SYSTEM, SCAN_SYSTEM } from '../../src/scenes/best/scanner.ts';
import { MOMENTS_SYSTEM, STORYBOARD_SYSTEM } from '../../src/scenes/best/moments.ts';
import type { RecordedRequest } from '../emulators/gemini/server.ts';

/** A `[Turn N] Speaker: text` line as the scanner showed it to the model. */
export interface ShownLine {
  readonly turn: number;
  readonly speaker: string;
  readonly text: string;
}

type Parts = Array<{ text?: string }>;

/** The scanner's calls ask for JSON; the prompt writer asks for plain text. */
export function isScanCall(r: RecordedRequest): boolean {
  return r.body?.generationConfig?.responseMimeType === 'application/json';
}

/**
 * `scan` for a passage, `compare` for the candidates (`/scene best`), `moments` and `storyboard` for
 * a recap's passage and final choice, undefined for any other call.
 */
export function scanPurpose(r: RecordedRequest): 'scan' | 'compare' | 'moments' | 'storyboard' | undefined {
  const system = ((r.body?.systemInstruction?.parts ?? []) as Parts).map((p) => p.text ?? '').join('');
  if (system === SCAN_SYSTEM) return 'scan';
  if (system === COMPARE_SYSTEM) return 'compare';
  if (system === MOMENTS_SYSTEM) return 'moments';
  if (system === STORYBOARD_SYSTEM) return 'storyboard';
  return undefined;
}

/** True when the request carries a correction after an unusable answer. */
export function isRetry(r: RecordedRequest): boolean {
  return ((r.body?.contents?.[0]?.parts ?? []) as Parts).length > 1;
}

/** The request's own text (the passage or the candidates), without any correction. */
export function requestText(r: RecordedRequest): string {
  return ((r.body?.contents?.[0]?.parts ?? []) as Parts)[0]?.text ?? '';
}

/** The transcript lines (or candidates) the request showed, in order. */
export function shownLines(r: RecordedRequest): ShownLine[] {
  return [...requestText(r).matchAll(/^\[Turn (\d+)\] ([^:\n]+): (.*)$/gm)].map((m) => ({
    turn: Number(m[1]),
    speaker: m[2]!,
    text: m[3]!,
  }));
}

/** What a script answers for one scanner request: a turn (wrapped in valid JSON) or raw reply text. */
export type Pick = (lines: ShownLine[], request: RecordedRequest) => number | string;

/** Words that mark visual action in the CRD3 transcripts; a stand-in for the model's judgement. */
const VISUAL =
  /\b(fire|flames?|blood|sword|axe|arrows?|spell|magic|glow\w*|light|dragon|explod\w*|dark\w*|cave|door|statue|temple|crystal|lightning|smoke|stone|fall\w*|attack\w*|strikes?|beast|giant|roar\w*)\b/gi;

/** Deterministic pick: the line with the most visual words, the longer one on a tie. */
export function mostVisual(lines: readonly ShownLine[]): number {
  let best = lines[0]!;
  let bestScore = -1;
  for (const line of lines) {
    const score = (line.text.match(VISUAL)?.length ?? 0) * 1000 + Math.min(line.text.length, 999);
    if (score > bestScore) [best, bestScore] = [line, score];
  }
  return best.turn;
}

/**
 * A recap scanner's answer: the `Choose exactly N` most visual lines shown, in story order, each
 * captioned with its speaker and the start of its text, and a recap naming the turns read.
 */
export function momentsReply(r: RecordedRequest): string {
  const count = Number(/Choose exactly (\d+)/.exec(requestText(r))?.[1] ?? 1);
  const left = [...shownLines(r)];
  const chosen: ShownLine[] = [];
  while (chosen.length < count && left.length > 0) {
    const turn = mostVisual(left);
    chosen.push(
      ...left.splice(
        left.findIndex((l) => l.turn === turn),
        1,
      ),
    );
  }
  chosen.sort((a, b) => a.turn - b.turn);
  const caption = (l: ShownLine) => `${l.speaker}: ${l.text.split(/\s+/).slice(0, 8).join(' ')}`;
  const turns = shownLines(r).map((l) => l.turn);
  return JSON.stringify({
    moments: chosen.map((l) => ({ turn: l.turn, caption: caption(l) })),
    recap: `The party pressed on from turn ${Math.min(...turns)} to turn ${Math.max(...turns)}.`,
  });
}

/**
 * An `onText` script for the Gemini emulator that answers the scanner's calls like a model would:
 * `{"turn": N, "rationale": "..."}` for the turn `pick` chooses among the lines shown. Other text
 * calls keep the emulator's default answer.
 */
export function scannerScript(pick: Pick = (lines) => mostVisual(lines)): (r: RecordedRequest) => string | undefined {
  return (r) => {
    if (!isScanCall(r)) return undefined;
    const purpose = scanPurpose(r);
    if (purpose === 'moments' || purpose === 'storyboard') return momentsReply(r);
    const chosen = pick(shownLines(r), r);
    return typeof chosen === 'string' ? chosen : JSON.stringify({ turn: chosen, rationale: `Turn ${chosen} shows the most vivid action.` });
  };
}
