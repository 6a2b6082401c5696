import { ScanReplyError, ScanTurnError } from '../errors.ts';
import { createHash } from 'node:crypto';
import type { ThinkingLevel } from '@google/genai';
import { z } from 'zod';
import type { Transcript, TranscriptEntry } from '../../campaigns/transcript.ts';
import type { Config } from '../../platform/config.ts';
import type { Logger } from '../../platform/log.ts';
import type { ScanCache, ScanPick } from './scan-cache.ts';
import { formatEntry } from '../context.ts';
import { candidateText, type CallOrigin, type CallUsage, type GeminiGateway } from '../../platform/gemini.ts';
import { readStructuredCandidate } from '../../platform/structured-answer.ts';
import pLimit, { type LimitFunction } from 'p-limit';
import { PASSAGE_OVERLAP, PASSAGE_SHARE, splitPassages, type Passage } from './passages.ts';
import { SingleFlight } from '../../jobs/single-flight.ts';
import { estimateTextTokens } from '../../platform/tokens.ts';

/**
 * The scanner's answer, for a passage and for the comparison alike. Sent to Gemini as
 * `responseJsonSchema` and used to parse the reply, so the two cannot drift apart.
 */
export const scanAnswerSchema = z.object({
  turn: z.int().min(1).describe('N of the chosen [Turn N] line'),
  rationale: z.string().min(1).max(600).describe('one sentence: what a picture of this moment would show'),
});

const SCAN_ANSWER_JSON_SCHEMA = z.toJSONSchema(scanAnswerSchema);

/**
 * Instruction for reading one passage. The categories to favour come from seed story 17-4's intent
 * (issue 4); kept short because it is sent once per passage and counts against the token target.
 */
export const SCAN_SYSTEM = `You pick moments to illustrate from a tabletop role-playing session.
Read the transcript passage and choose the single turn that would make the most striking picture.
Favour battles, revelations, striking places, emotional moments and magic.
Prefer turns with clear visual content (action, a place, a spectacle) over table talk, rules and plain dialogue.
Speakers are the players and the game master: illustrate the story, not the table.
Answer with the N of one [Turn N] line of the passage and a one-sentence rationale (at most 30 words) saying what the picture would show.`;

/** Instruction for choosing among the passages' candidates. */
export const COMPARE_SYSTEM = `You pick the moment to illustrate from a tabletop role-playing session.
Each candidate below is the best moment of one part of the session, with the reason it was chosen.
Choose the single candidate that would make the most striking picture: favour battles, revelations, striking places, emotional moments and magic, and clear visual content over dialogue.
Answer with the candidate's turn number and a one-sentence rationale (at most 30 words) saying what the picture would show.`;

/** Characters of a candidate's own text shown in the comparison: enough to recall the moment. */
const CANDIDATE_CHARS = 300;

/** How far a `/scene best` scan has got, for progress lines. */
export interface ScanProgress {
  /** Entries in the transcript. */
  readonly turns: number;
  /** Passages the transcript splits into. */
  readonly passages: number;
  /** Passages read so far, including those an earlier request read for the same text. */
  readonly scanned: number;
  /** `scanning` while passages are read, `comparing` while their candidates are compared. */
  readonly phase: 'scanning' | 'comparing';
  /** Candidates being compared (0 while scanning). */
  readonly candidates: number;
}

/** The scanner's choice. */
export interface BestTurn extends ScanPick {
  /** The transcript entry of `turn`. */
  readonly entry: TranscriptEntry;
  /**
   * True when no scanner call was made for this request: the transcript was unchanged since an
   * earlier scan, or another request was scanning the same transcript at the same time.
   */
  readonly cached: boolean;
  readonly passages: number;
  /** Every scanner call this request made, retries included, in the order they returned. */
  readonly calls: readonly CallUsage[];
}

/** Collaborators of {@link SceneScanner}. */
export interface ScannerDeps {
  readonly config: Config;
  readonly gateway: GeminiGateway;
  readonly cache: ScanCache;
  readonly log: Logger;
}

/**
 * Finds the most visually striking turn of a whole transcript for `/scene best`. The transcript is
 * split into passages ({@link splitPassages}) read concurrently by `generation.scanner_model`, each
 * naming a candidate; one more call compares the candidates. Results are cached per content, so an
 * unchanged transcript costs nothing and a grown one only its new passages plus one comparison with
 * the previous winner.
 */
export class SceneScanner {
  /** Shared by every request, so `scanner_concurrency` bounds the process, not one request. */
  private readonly limit: LimitFunction;
  /** Scans running now, by final cache key: the same transcript asked for twice at once is read once. */
  private readonly scans = new SingleFlight<BestTurn>();

  constructor(private readonly deps: ScannerDeps) {
    this.limit = pLimit(deps.config.generation.scanner_concurrency);
  }

  /** Estimated tokens one passage (or one comparison's candidates) may take: 80% of `scanner_token_limit`. */
  get passageTokens(): number {
    return Math.floor(this.deps.config.generation.scanner_token_limit * PASSAGE_SHARE);
  }

  /**
   * Chooses the best turn of `transcript`. Scanner calls (retries included) are recorded in the usage
   * ledger under `origin` with purpose `scan` or `compare` as they return, and each result is cached
   * as soon as it is known, so a failed request still saves the next one the passages it read. A
   * request for a transcript that another request is scanning right now waits for that scan.
   * @param options.onProgress - Called when scanning starts, after each passage and before comparing;
   *   not called when the answer is cached or another request's scan is awaited.
   * @param options.signal - Abandons the scan; in-flight calls are cancelled.
   * @throws ScanTurnError / ScanReplyError when a call's answer was unusable twice; the
   *   {@link GeminiGateway.generate} errors and PromptBlockedError. The first failure cancels every
   *   other call of the request and is the one thrown.
   */
  async findBest(
    transcript: Transcript,
    origin: CallOrigin & { readonly campaignId: string },
    options: { onProgress?: (progress: ScanProgress) => void; signal?: AbortSignal } = {},
  ): Promise<BestTurn> {
    const started = performance.now();
    const { entries } = transcript;
    const passages = splitPassages(entries, this.passageTokens);
    const report = (scanned: number, phase: ScanProgress['phase'] = 'scanning', candidates = 0) =>
      options.onProgress?.({ turns: entries.length, passages: passages.length, scanned, phase, candidates });
    const indexOfTurn = new Map(entries.map((e, i) => [e.turn, i]));
    const entryOf = (turn: number): TranscriptEntry => entries[indexOfTurn.get(turn)!]!;

    const keys = await this.transcriptKeys(transcript, origin.campaignId);
    const hit = await this.deps.cache.get(keys.final);
    if (hit) {
      return { ...hit, entry: entryOf(hit.turn), cached: true, passages: passages.length, calls: [] };
    }
    const { value, leader } = await this.scans.run(
      keys.final,
      async () => {
        // The previous winner stands for every passage inside the transcript it was chosen from.
        const previous = keys.previous;
        const pending = passages.filter((p) => p.end > (previous?.entries ?? 0));
        let scanned = passages.length - pending.length;
        report(scanned);

        const run = new ScanRun(this.limit, this.deps, origin, options.signal);
        const found = await run.all(
          pending.map((passage) => async () => {
            const pick = await this.scanPassage(run, passage, indexOfTurn);
            report(++scanned);
            return pick;
          }),
        );
        const candidates = uniqueByTurn([...(previous ? [previous.pick] : []), ...found]);
        if (candidates.length > 1) report(scanned, 'comparing', candidates.length);
        const winner = await this.compare(run, candidates, entryOf);
        await this.deps.cache.put(keys.final, origin.campaignId, winner);
        this.deps.log.info(
          {
            campaign: origin.campaignId,
            turn: winner.turn,
            passages: passages.length,
            scannedPassages: pending.length,
            reusedWinner: Boolean(previous),
            calls: run.calls.length,
            ms: Math.round(performance.now() - started),
          },
          'best scene chosen',
        );
        return { ...winner, entry: entryOf(winner.turn), cached: false, passages: passages.length, calls: run.calls };
      },
      options.signal,
    );
    return leader ? value : { ...value, cached: true, calls: [] };
  }

  /** One passage's candidate, from the cache or from one scanner call (two when the first answer is unusable). */
  private async scanPassage(run: ScanRun, passage: Passage, indexOfTurn: ReadonlyMap<number, number>): Promise<ScanPick> {
    const request = `Transcript passage, turns ${passage.firstTurn}-${passage.lastTurn}:\n${passage.text}`;
    const key = `passage:${this.hash(SCAN_SYSTEM, request)}`;
    const cached = await this.deps.cache.get(key);
    if (cached) return cached;
    const inPassage = (turn: number) => {
      const index = indexOfTurn.get(turn);
      return index !== undefined && index >= passage.start && index < passage.end;
    };
    const shown = `turns ${passage.firstTurn}-${passage.lastTurn}`;
    const pick = await run.ask('scan', SCAN_SYSTEM, request, inPassage, shown);
    await this.deps.cache.put(key, run.origin.campaignId, pick);
    return pick;
  }

  /**
   * The best of `candidates`: one call when they fit in a passage's budget, else a knockout of
   * groups that fit (run concurrently), then of the group winners.
   */
  private async compare(run: ScanRun, candidates: readonly ScanPick[], entryOf: (turn: number) => TranscriptEntry): Promise<ScanPick> {
    if (candidates.length === 1) return candidates[0]!;
    const blocks = candidates.map((c) => ({ pick: c, text: candidateBlock(c, entryOf(c.turn)) }));
    const groups = groupWithin(blocks, this.passageTokens);
    if (groups.length > 1) {
      const winners = await run.all(
        groups.map(
          (group) => () =>
            this.compare(
              run,
              group.map((b) => b.pick),
              entryOf,
            ),
        ),
      );
      return this.compare(run, winners, entryOf);
    }
    const request = `Candidates, each the best moment of one part of the session:\n\n${blocks.map((b) => b.text).join('\n\n')}`;
    const turns = new Set(candidates.map((c) => c.turn));
    return run.ask('compare', COMPARE_SYSTEM, request, (turn) => turns.has(turn), `candidate turns ${[...turns].join(', ')}`);
  }

  /**
   * `final` keys the winner of this exact transcript under these scanner settings, as
   * `final:<entries>:<sha256>`; `previous` is the winner of the longest earlier transcript of the
   * campaign that this one extends, and how many entries that transcript had. The entry count in the key means only those
   * prefix lengths need a digest, so the check costs one hashing pass however long the transcript.
   */
  private async transcriptKeys(
    transcript: Transcript,
    campaignId: string,
  ): Promise<{ final: string; previous?: { pick: ScanPick; entries: number } }> {
    const { entries } = transcript;
    const stored = new Set(await this.deps.cache.keys(campaignId, 'final:'));
    const lengths = new Set([...stored].map((key) => Number(key.split(':')[1])).filter((n) => n < entries.length));
    const { generation } = this.deps.config;
    const hash = createHash('sha256').update(
      JSON.stringify([generation.scanner_model, SCAN_SYSTEM, COMPARE_SYSTEM, SCAN_ANSWER_JSON_SCHEMA, this.passageTokens, PASSAGE_OVERLAP]),
    );
    let previous: { key: string; entries: number } | undefined;
    for (const [i, entry] of entries.entries()) {
      hash.update(`${formatEntry(entry)}\n`);
      if (lengths.has(i + 1)) {
        const key = `final:${i + 1}:${hash.copy().digest('hex')}`;
        if (stored.has(key)) previous = { key, entries: i + 1 };
      }
    }
    const final = `final:${entries.length}:${hash.digest('hex')}`;
    const pick = previous ? await this.deps.cache.get(previous.key) : undefined;
    return previous && pick ? { final, previous: { pick, entries: previous.entries } } : { final };
  }

  private hash(system: string, request: string): string {
    return createHash('sha256')
      .update(JSON.stringify([this.deps.config.generation.scanner_model, system, SCAN_ANSWER_JSON_SCHEMA, request]))
      .digest('hex');
  }
}

/** The calls of one `findBest` request: shared cancellation, usage records and call list. */
class ScanRun {
  readonly calls: CallUsage[] = [];
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();

  constructor(
    private readonly limit: LimitFunction,
    private readonly deps: ScannerDeps,
    readonly origin: CallOrigin & { readonly campaignId: string },
    outer: AbortSignal | undefined,
  ) {
    this.signal = outer ? AbortSignal.any([outer, this.controller.signal]) : this.controller.signal;
  }

  /**
   * Runs `tasks` concurrently. The first failure aborts the request's other calls, and is thrown once
   * every task has settled so no call outlives the request.
   */
  async all<T>(tasks: ReadonlyArray<() => Promise<T>>): Promise<T[]> {
    let failure: { error: unknown } | undefined;
    const settled = await Promise.allSettled(
      tasks.map((task) =>
        task().catch((error: unknown) => {
          failure ??= { error };
          this.controller.abort(error);
          throw error;
        }),
      ),
    );
    if (failure) throw failure.error;
    return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
  }

  /**
   * One structured-output call, retried once with a correction when the answer is not the schema's
   * JSON or names a turn `allowed` refuses.
   * @param shown - What the model read, for the error message (e.g. `turns 1-340`).
   * @throws ScanReplyError, ScanTurnError, and the gateway's errors.
   */
  async ask(
    purpose: 'scan' | 'compare',
    system: string,
    request: string,
    allowed: (turn: number) => boolean,
    shown: string,
  ): Promise<ScanPick> {
    let correction: string | undefined;
    for (let attempt = 1; ; attempt++) {
      const parts = [{ text: request }, ...(correction ? [{ text: correction }] : [])];
      const { candidate, usage } = await this.limit(() => {
        // A call whose scan was cancelled while it waited for a slot is not started.
        this.signal?.throwIfAborted();
        return this.deps.gateway.generate(
          {
            model: this.deps.config.generation.scanner_model,
            contents: [{ role: 'user', parts }],
            config: {
              systemInstruction: system,
              responseMimeType: 'application/json',
              responseJsonSchema: SCAN_ANSWER_JSON_SCHEMA,
              // Choosing a moment needs little deliberation; thought tokens would cost more than the reading.
              thinkingConfig: { thinkingLevel: 'LOW' as ThinkingLevel },
            },
          },
          { record: { origin: this.origin, purpose }, signal: this.signal },
        );
      });
      this.calls.push(usage);
      const answer = parseAnswer(candidate, this.deps.log);
      if ('pick' in answer && allowed(answer.pick.turn)) return answer.pick;
      if ('pick' in answer) {
        if (attempt === 2) throw new ScanTurnError(answer.pick.turn, shown);
        correction = `Your previous answer named turn ${answer.pick.turn}, which is not among the ${shown}. Answer again with one of those turns.`;
      } else {
        if (attempt === 2) throw new ScanReplyError(answer.problem);
        correction = `Your previous answer was not the requested JSON object (${answer.problem}). Answer again with {"turn": <number>, "rationale": "<one sentence>"}.`;
      }
      this.deps.log.warn({ purpose, problem: correction }, 'unusable scanner answer, asking again');
    }
  }
}

/** The schema's object from a candidate's text, or what is wrong with it. @throws PromptBlockedError */
function parseAnswer(candidate: Parameters<typeof candidateText>[0], log: Logger): { pick: ScanPick } | { problem: string } {
  const read = readStructuredCandidate(candidate, scanAnswerSchema, log);
  if ('problem' in read) return read;
  return { pick: { turn: read.value.turn, rationale: read.value.rationale.trim() } };
}

/** A candidate as the comparison shows it: its line, cut, and the passage's reason. */
function candidateBlock(pick: ScanPick, entry: TranscriptEntry): string {
  return `${shorten(formatEntry(entry), CANDIDATE_CHARS)}\nWhy: ${pick.rationale}`;
}

/** Consecutive groups of blocks whose estimated tokens fit `maxTokens`, at least two blocks each. */
function groupWithin<T extends { text: string }>(blocks: readonly T[], maxTokens: number): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let tokens = 0;
  for (const block of blocks) {
    const cost = estimateTextTokens(block.text) + 1;
    if (group.length >= 2 && tokens + cost > maxTokens) {
      groups.push(group);
      group = [];
      tokens = 0;
    }
    group.push(block);
    tokens += cost;
  }
  // A lone last block cannot be compared with anything: it joins the group before it.
  if (group.length === 1 && groups.length > 0) groups.at(-1)!.push(group[0]!);
  else groups.push(group);
  return groups;
}

/** The first pick of each turn: adjacent passages share entries and may both name one of them. */
function uniqueByTurn(picks: readonly ScanPick[]): ScanPick[] {
  const byTurn = new Map<number, ScanPick>();
  for (const pick of picks) if (!byTurn.has(pick.turn)) byTurn.set(pick.turn, pick);
  return [...byTurn.values()];
}

/**
 * `text` with runs of whitespace collapsed, cut at a word boundary to at most `max` characters
 * (ending with `…` when cut).
 */
export function shorten(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}
