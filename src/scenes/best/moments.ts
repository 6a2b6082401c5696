import { ScanReplyError, ScanTurnError } from '../errors.ts';
import { createHash } from 'node:crypto';
import type { ThinkingLevel } from '@google/genai';
import pLimit, { type LimitFunction } from 'p-limit';
import { z } from 'zod';
import type { TranscriptEntry } from '../../campaigns/transcript.ts';
import type { Config } from '../../platform/config.ts';
import type { Logger } from '../../platform/log.ts';
import { candidateText, type CallOrigin, type CallUsage, type GeminiGateway } from '../../platform/gemini.ts';
import { readStructuredCandidate } from '../../platform/structured-answer.ts';
import { formatEntry } from '../context.ts';
import { PASSAGE_OVERLAP, PASSAGE_SHARE, splitPassages, type Passage } from './passages.ts';
import { shorten } from './scanner.ts';
import type { MomentCache, MomentsAnswer } from './moment-cache.ts';

/** Most moments one answer may name: the most panels a recap has. */
export const MAX_MOMENTS = 6;

/**
 * The scanner's answer for a recap, for a passage and for the final choice alike: key moments in
 * story order with a caption each, and a short recap of what was read. Sent to Gemini as
 * `responseJsonSchema` and used to parse the reply.
 */
export const momentsAnswerSchema = z.object({
  moments: z
    .array(
      z.object({
        turn: z.int().min(1).describe('N of the chosen [Turn N] line'),
        caption: z.string().min(1).max(200).describe('one line (at most 15 words) saying what happens, for under the picture'),
      }),
    )
    .min(1)
    .max(MAX_MOMENTS)
    .describe('the key moments, in story order'),
  recap: z.string().min(1).max(1200).describe('what happened, in at most 3 sentences, past tense'),
});

const MOMENTS_JSON_SCHEMA = z.toJSONSchema(momentsAnswerSchema);

/** Instruction for a range that fits one call, and for each passage of a longer one. */
export const MOMENTS_SYSTEM = `You storyboard a tabletop role-playing session.
Read the transcript and choose the key moments that tell its story as a sequence of pictures: turning points, battles, revelations, striking places, emotional moments and magic.
Prefer turns with clear visual content over table talk, rules and plain dialogue. Speakers are the players and the game master: tell the story, not the table.
Answer with the moments in story order, each the N of one [Turn N] line and a one-line caption (at most 15 words, present tense, naming who acts), and a recap of what happened in at most 3 sentences.`;

/** Instruction for choosing among the passages' moments. */
export const STORYBOARD_SYSTEM = `You storyboard a tabletop role-playing session.
Below are candidate key moments of the session, in story order, each with its caption, and the summaries of its parts.
Choose the moments that together tell the whole story best, keep them in story order, and write a recap of the whole session in at most 3 sentences from the summaries.`;

/** How far a recap's scan has got, for progress lines. */
export interface MomentsProgress {
  readonly turns: number;
  readonly passages: number;
  /** Passages read so far (cached ones included). */
  readonly scanned: number;
}

/** The scanner's storyboard of a range. */
export interface Storyboard extends MomentsAnswer {
  /** True when no scanner call was made: the same range was scanned before for the same count. */
  readonly cached: boolean;
  readonly passages: number;
  /** Every scanner call this request made, retries included. */
  readonly calls: readonly CallUsage[];
}

/** Collaborators of {@link MomentScanner}. */
export interface MomentScannerDeps {
  readonly config: Config;
  readonly gateway: GeminiGateway;
  readonly cache: MomentCache;
  readonly log: Logger;
}

/**
 * Picks a range's key moments for a recap with `generation.scanner_model` (structured output). A
 * range that fits one passage ({@link splitPassages}, 80% of `scanner_token_limit`) takes one call;
 * a longer one is read in passages (concurrently, `scanner_concurrency`), each naming its moments
 * and a summary, and one more call chooses among them. The answer is cached by the range's content,
 * the count and the scanner settings, and each passage's answer by its own content.
 */
export class MomentScanner {
  private readonly limit: LimitFunction;

  constructor(private readonly deps: MomentScannerDeps) {
    this.limit = pLimit(deps.config.generation.scanner_concurrency);
  }

  private get passageTokens(): number {
    return Math.floor(this.deps.config.generation.scanner_token_limit * PASSAGE_SHARE);
  }

  /**
   * The `count` key moments of `entries` in story order, and a recap of them. Calls are recorded in
   * the usage ledger under `origin` (purposes `scan` and `compare`).
   * @param entries - The range, in transcript order, at least `count` of them.
   * @param count - Moments wanted, 1-{@link MAX_MOMENTS}.
   * @param options.onProgress - Called when reading starts and after each passage; not called on a cache hit.
   * @param options.signal - Abandons the scan; in-flight calls are cancelled.
   * @throws ScanTurnError / ScanReplyError when an answer was unusable twice; the gateway's errors.
   *   The first failure cancels the request's other calls and is the one thrown.
   */
  async storyboard(
    entries: readonly TranscriptEntry[],
    count: number,
    origin: CallOrigin & { readonly campaignId: string },
    options: { onProgress?: (progress: MomentsProgress) => void; signal?: AbortSignal } = {},
  ): Promise<Storyboard> {
    const passages = splitPassages(entries, this.passageTokens);
    const key = `moments:${count}:${this.hash(JSON.stringify([MOMENTS_SYSTEM, STORYBOARD_SYSTEM, this.passageTokens, PASSAGE_OVERLAP]), entries.map(formatEntry).join('\n'))}`;
    const hit = await this.deps.cache.get(key);
    if (hit) return { ...hit, cached: true, passages: passages.length, calls: [] };

    const calls: CallUsage[] = [];
    // The first failed call cancels the request's other calls.
    const failed = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, failed.signal]) : failed.signal;
    const report = (scanned: number) => options.onProgress?.({ turns: entries.length, passages: passages.length, scanned });
    let scanned = 0;
    report(0);
    const read = (passage: Passage, wanted: number) =>
      this.readPassage(passage, wanted, entries, origin, calls, signal).then(
        (answer) => {
          report(++scanned);
          return answer;
        },
        (err: unknown) => {
          failed.abort(err);
          throw err;
        },
      );
    let answer: MomentsAnswer;
    if (passages.length === 1) answer = await read(passages[0]!, count);
    else {
      const parts = await Promise.all(passages.map((p) => read(p, count)));
      answer = await this.choose(parts, count, entries, origin, calls, signal);
    }
    await this.deps.cache.put(key, origin.campaignId, answer);
    this.deps.log.info(
      { campaign: origin.campaignId, moments: answer.moments.map((m) => m.turn), calls: calls.length },
      'recap moments chosen',
    );
    return { ...answer, cached: false, passages: passages.length, calls };
  }

  /** One passage's moments (exactly `wanted`, or fewer when the passage is shorter) and summary. */
  private async readPassage(
    passage: Passage,
    wanted: number,
    entries: readonly TranscriptEntry[],
    origin: CallOrigin & { readonly campaignId: string },
    calls: CallUsage[],
    signal?: AbortSignal,
  ): Promise<MomentsAnswer> {
    const exactly = Math.min(wanted, passage.end - passage.start);
    const request = `Choose exactly ${exactly} key moments.\n\nTranscript, turns ${passage.firstTurn}-${passage.lastTurn}:\n${passage.text}`;
    const key = `moments-passage:${this.hash(MOMENTS_SYSTEM, request)}`;
    const hit = await this.deps.cache.get(key);
    if (hit) return hit;
    const turns = new Set(entries.slice(passage.start, passage.end).map((e) => e.turn));
    const answer = await this.ask(
      'scan',
      MOMENTS_SYSTEM,
      request,
      turns,
      exactly,
      `turns ${passage.firstTurn}-${passage.lastTurn}`,
      origin,
      calls,
      signal,
    );
    await this.deps.cache.put(key, origin.campaignId, answer);
    return answer;
  }

  /** The final `count` moments among the passages' candidates, and a recap of the whole range. */
  private choose(
    parts: readonly MomentsAnswer[],
    count: number,
    entries: readonly TranscriptEntry[],
    origin: CallOrigin & { readonly campaignId: string },
    calls: CallUsage[],
    signal?: AbortSignal,
  ): Promise<MomentsAnswer> {
    const byTurn = new Map(entries.map((e) => [e.turn, e]));
    const candidates = [...new Map(parts.flatMap((p) => p.moments).map((m) => [m.turn, m])).values()].sort((a, b) => a.turn - b.turn);
    const request = [
      `Choose exactly ${count} of these moments.`,
      'Candidates:',
      ...candidates.map((m) => `${shorten(formatEntry(byTurn.get(m.turn)!), 240)}\nCaption: ${m.caption}`),
      '',
      'Summaries of the parts, in order:',
      ...parts.map((p, i) => `${i + 1}. ${p.recap}`),
    ].join('\n');
    const turns = new Set(candidates.map((m) => m.turn));
    return this.ask('compare', STORYBOARD_SYSTEM, request, turns, count, `candidate turns ${[...turns].join(', ')}`, origin, calls, signal);
  }

  /** One structured call, asked again once with a correction when the answer is unusable. */
  private async ask(
    purpose: 'scan' | 'compare',
    system: string,
    request: string,
    allowed: ReadonlySet<number>,
    exactly: number,
    shown: string,
    origin: CallOrigin & { readonly campaignId: string },
    calls: CallUsage[],
    signal?: AbortSignal,
  ): Promise<MomentsAnswer> {
    let correction: string | undefined;
    for (let attempt = 1; ; attempt++) {
      const parts = [{ text: request }, ...(correction ? [{ text: correction }] : [])];
      const { candidate, usage } = await this.limit(() => {
        signal?.throwIfAborted();
        return this.deps.gateway.generate(
          {
            model: this.deps.config.generation.scanner_model,
            contents: [{ role: 'user', parts }],
            config: {
              systemInstruction: system,
              responseMimeType: 'application/json',
              responseJsonSchema: MOMENTS_JSON_SCHEMA,
              thinkingConfig: { thinkingLevel: 'LOW' as ThinkingLevel },
            },
          },
          { record: { origin, purpose }, ...(signal ? { signal } : {}) },
        );
      });
      calls.push(usage);
      const parsed = parseMoments(candidate, this.deps.log);
      if ('problem' in parsed) {
        if (attempt === 2) throw new ScanReplyError(parsed.problem, { chosen: 'recap' });
        correction = `Your previous answer was not the requested JSON object (${parsed.problem}). Answer again with {"moments": [{"turn": <number>, "caption": "<one line>"}], "recap": "<at most 3 sentences>"}.`;
      } else {
        const stray = parsed.moments.find((m) => !allowed.has(m.turn));
        if (!stray && parsed.moments.length === exactly) return parsed;
        if (stray && attempt === 2) throw new ScanTurnError(stray.turn, shown, 'recap');
        if (attempt === 2) throw new ScanReplyError(`${parsed.moments.length} distinct moments instead of ${exactly}`, { chosen: 'recap' });
        correction = stray
          ? `Your previous answer named turn ${stray.turn}, which is not among the ${shown}. Answer again with turns among those.`
          : `Your previous answer named ${parsed.moments.length} distinct moments; answer again with exactly ${exactly}.`;
      }
      this.deps.log.warn({ purpose, problem: correction }, 'unusable recap scanner answer, asking again');
    }
  }

  private hash(system: string, request: string): string {
    return createHash('sha256')
      .update(JSON.stringify([this.deps.config.generation.scanner_model, system, MOMENTS_JSON_SCHEMA, request]))
      .digest('hex');
  }
}

/** The answer's moments (distinct turns, story order) and recap, or what is wrong with it. @throws PromptBlockedError */
function parseMoments(candidate: Parameters<typeof candidateText>[0], log: Logger): MomentsAnswer | { problem: string } {
  const read = readStructuredCandidate(candidate, momentsAnswerSchema, log);
  if ('problem' in read) return read;
  const byTurn = new Map(read.value.moments.map((m) => [m.turn, { turn: m.turn, caption: m.caption.trim() }]));
  return { moments: [...byTurn.values()].sort((a, b) => a.turn - b.turn), recap: read.value.recap.trim() };
}
