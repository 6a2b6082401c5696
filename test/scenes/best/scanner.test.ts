import { ScanReplyError, ScanTurnError } from '../../../src/scenes/errors.ts';
import { PromptBlockedError } from '../../../src/platform/errors.ts';
import { by } from '../../support/requests.ts';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLimner, type Limner } from '../../../src/app.ts';
import { parseTranscriptJsonl, toJsonl, type TranscriptEntry } from '../../../src/campaigns/transcript.ts';
import { formatEntry } from '../../../src/scenes/context.ts';
import { splitPassages } from '../../../src/scenes/best/passages.ts';
import { scanAnswerSchema, SCAN_SYSTEM, type ScanProgress } from '../../../src/scenes/best/scanner.ts';
import type { SceneProgress } from '../../../src/scenes/illustrate.ts';
import { estimateTextTokens } from '../../../src/platform/tokens.ts';
import { silentLogger } from '../../../src/platform/log.ts';
import { scanCache, usage } from '../../../src/platform/schema.ts';
import { GeminiEmulator, type AnswerLog } from '../../emulators/gemini/server.ts';
import { SAMPLE_CAMPAIGN, sampleCampaigns, testConfig } from '../../support/fixtures.ts';
import { isRetry, isScanCall, mostVisual, requestText, scannerScript, scanPurpose, shownLines } from '../../support/scanner-script.ts';

// The sample campaign is CRD3's C1E001 (CC BY-SA 4.0; see campaigns/kraghammer/ATTRIBUTION.md):
// 2,160 turns, about 51,000 estimated tokens, so a limit of 8,000 gives 9 passages and 80,000 gives one.
const SMALL_LIMIT = { generation: { scanner_token_limit: 8000 } };
const ONE_PASS = { generation: { scanner_token_limit: 80000 } };

let emulator: GeminiEmulator;
const answers: AnswerLog[] = [];
let campaigns: { dir: string; cleanup: () => void };
let limner: Limner | undefined;

beforeAll(async () => {
  emulator = await GeminiEmulator.start({ onLog: (entry) => answers.push(entry) });
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
  answers.length = 0;
  campaigns = sampleCampaigns();
});
afterEach(async () => {
  await limner?.close();
  limner = undefined;
  campaigns.cleanup();
});

async function start(overrides: Record<string, unknown>): Promise<Limner> {
  await limner?.close();
  const { config, secrets } = testConfig(campaigns.dir, emulator.url, overrides);
  limner = await createLimner(config, secrets, silentLogger);
  return limner;
}

async function best(l: Limner, onProgress?: (stage: SceneProgress['stage'], scan?: ScanProgress) => void) {
  return l.scenes.run(
    { kind: 'best', campaignId: SAMPLE_CAMPAIGN, requester: by('cli') },
    { onProgress: (p) => onProgress?.(p.stage, p.stage === 'scanning' ? p.scan : undefined) },
  );
}

/** The scan's progress as `scanned/passages` (`compare n` while comparing). */
const scanText = (p: ScanProgress) => (p.phase === 'comparing' ? `compare ${p.candidates}` : `${p.scanned}/${p.passages} of ${p.turns}`);

const scanCalls = () => emulator.requests.filter(isScanCall);
const ledger = (l: Limner) => l.store.db.select().from(usage).all();

async function sampleEntries(): Promise<TranscriptEntry[]> {
  const l = limner ?? await start({});
  return [...(await l.campaigns.load(SAMPLE_CAMPAIGN)).transcript.entries];
}

describe('splitPassages', () => {
  const entries = (n: number, text = 'The dwarf raises his axe.') =>
    Array.from({ length: n }, (_, i) => ({ turn: i + 1, speaker: 'MATT', text }));

  it('packs entries greedily within the budget, adjacent passages sharing 20 entries, covering every entry', async () => {
    const all = await sampleEntries();
    const passages = splitPassages(all, 6400);
    expect(passages).toHaveLength(9);
    for (const p of passages) {
      expect(p.tokens).toBeLessThanOrEqual(6400);
      expect(estimateTextTokens(p.text)).toBeLessThanOrEqual(p.tokens);
      expect(p.text.split('\n')).toEqual(all.slice(p.start, p.end).map(formatEntry));
    }
    for (let i = 1; i < passages.length; i++) expect(passages[i]!.start).toBe(passages[i - 1]!.end - 20);
    expect([passages[0]!.start, passages.at(-1)!.end]).toEqual([0, all.length]);
    // Greedy: one more entry would not have fitted.
    const first = passages[0]!;
    expect(first.tokens + estimateTextTokens(formatEntry(all[first.end]!))).toBeGreaterThan(6400);
  });

  it('keeps every passage but the last when entries are appended', () => {
    const before = splitPassages(entries(500), 1000);
    const after = splitPassages(entries(700), 1000);
    expect(after.slice(0, before.length - 1)).toEqual(before.slice(0, -1));
    expect(after[before.length - 1]!.start).toBe(before.at(-1)!.start);
  });

  it('cuts an entry longer than the budget and still moves on when entries are long', () => {
    const long = [
      { turn: 1, speaker: 'MATT', text: 'x'.repeat(10_000) },
      ...entries(3, 'y'.repeat(1000)).map((e) => ({ ...e, turn: e.turn + 1 })),
    ];
    const passages = splitPassages(long, 400);
    expect(passages[0]).toMatchObject({ start: 0, end: 1, tokens: 400 });
    expect(passages[0]!.text.endsWith('…')).toBe(true);
    expect(passages.map((p) => [p.start, p.end])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
    expect(splitPassages([], 400)).toEqual([]);
  });
});

describe('/scene best through the Gemini emulator', () => {
  it('single pass: reads the whole transcript in one structured-output call and illustrates the pick like /scene turn', async () => {
    const l = await start(ONE_PASS);
    emulator.onText(scannerScript(() => 1500));
    const stages: string[] = [];
    const result = await best(l, (stage, scan) => stages.push(scan ? scanText(scan) : stage));

    const [scan, ...others] = scanCalls();
    expect(others).toEqual([]);
    expect(scan!.model).toBe('gemini-3.5-flash');
    expect(scanPurpose(scan!)).toBe('scan');
    expect(scan!.body.generationConfig).toMatchObject({
      responseMimeType: 'application/json',
      responseJsonSchema: z.toJSONSchema(scanAnswerSchema),
      thinkingConfig: { thinkingLevel: 'LOW' },
    });
    expect(SCAN_SYSTEM).toMatch(/battles, revelations, striking places, emotional moments and magic/);
    const lines = shownLines(scan!);
    expect(lines).toHaveLength(2160);
    expect(lines[1499]).toMatchObject({ turn: 1500, speaker: 'LIAM' });
    expect(requestText(scan!)).toContain('[Turn 1500] LIAM: While he is talking I take a flask');

    expect(stages).toEqual(['reading', '0/1 of 2160', '1/1 of 2160', 'writing-prompt', 'painting', 'saving']);
    expect(result.image).toMatchObject({ turn: 1500, mode: 'best' });
    expect(result.best).toMatchObject({
      turn: 1500,
      speaker: 'LIAM',
      rationale: 'Turn 1500 shows the most vivid action.',
      cached: false,
      passages: 1,
    });
    expect(result.best!.quote).toMatch(/^While he is talking I take a flask/);
    expect(result.best!.quote.length).toBeLessThanOrEqual(200);
    // The picture gets the same context window as /scene turn 1500.
    const writer = emulator.requests.find((r) => r.model === 'gemini-3.5-flash' && !isScanCall(r))!;
    expect(JSON.stringify(writer.body).match(/\[Turn \d+\]/g)).toEqual(Array.from({ length: 11 }, (_, i) => `[Turn ${1495 + i}]`));
    expect(JSON.stringify(writer.body)).toContain('Illustrate the moment of turn 1500');

    const rows = ledger(l);
    expect(rows.map((r) => r.purpose)).toEqual(['scan', 'prompt', 'image']);
    const scanRow = rows[0]!;
    expect(scanRow.estimatedInputTokens).toBeGreaterThan(50_000);
    expect(Math.abs(scanRow.estimatedInputTokens! - scanRow.inputTokens) / scanRow.inputTokens).toBeLessThan(0.01);
    expect(result.calls).toHaveLength(3);
    expect(result.image.inputTokens).toBe(rows.reduce((s, r) => s + r.inputTokens, 0));
  });

  it('multi-passage: reads 9 overlapping passages at once, drops the duplicate from a boundary, and compares the candidates', async () => {
    const l = await start(SMALL_LIMIT);
    emulator.setLatency(100);
    const passages = splitPassages(await sampleEntries(), 6400);
    // A turn in the 20 entries the first two passages share: both passages see it and pick it.
    const boundary = passages[1]!.firstTurn + 5;
    emulator.onText(
      scannerScript((lines, r) => {
        if (scanPurpose(r) === 'compare') return boundary;
        return lines.some((x) => x.turn === boundary) ? boundary : mostVisual(lines);
      }),
    );
    const progress: ScanProgress[] = [];
    const result = await best(l, (_stage, scan) => scan && progress.push(scan));

    const scans = scanCalls().filter((r) => scanPurpose(r) === 'scan');
    expect(scans).toHaveLength(9);
    const shown = scans.map((r) => shownLines(r).map((x) => x.turn)).sort((a, b) => a[0]! - b[0]!);
    expect(shown.map((turns) => [turns[0], turns.at(-1)])).toEqual(passages.map((p) => [p.firstTurn, p.lastTurn]));
    for (let i = 1; i < shown.length; i++) expect(shown[i]!.slice(0, 20)).toEqual(shown[i - 1]!.slice(-20));
    expect(new Set(shown.flat()).size).toBe(2160);
    // Concurrent: every passage call arrived before the first one was answered.
    const arrivals = scans.map((r) => r.receivedAt);
    expect(Math.max(...arrivals) - Math.min(...arrivals)).toBeLessThan(100);

    const compares = scanCalls().filter((r) => scanPurpose(r) === 'compare');
    expect(compares).toHaveLength(1);
    const candidates = shownLines(compares[0]!).map((x) => x.turn);
    expect(candidates).toHaveLength(8);
    expect(candidates.filter((t) => t === boundary)).toHaveLength(1);
    expect(requestText(compares[0]!)).toMatch(/Why: Turn \d+ shows the most vivid action\./);

    expect(result.best).toMatchObject({ turn: boundary, passages: 9 });
    expect(result.image).toMatchObject({ turn: boundary, mode: 'best' });
    expect(progress.map(scanText)).toEqual([...Array.from({ length: 10 }, (_, i) => `${i}/9 of 2160`), 'compare 8']);
    expect(
      ledger(l)
        .map((r) => r.purpose)
        .sort(),
    ).toEqual([...Array(9).fill('scan'), 'compare', 'image', 'prompt'].sort());
  });

  it('never has more than scanner_concurrency calls in flight', async () => {
    const l = await start({ generation: { scanner_token_limit: 8000, scanner_concurrency: 3 } });
    emulator.setLatency(60);
    const answeredAt = new Map<unknown, number>();
    const script = scannerScript();
    // The emulator runs the script when it answers, after the latency.
    emulator.onText((r) => (answeredAt.set(r, Date.now()), script(r)));
    await best(l);
    const spans = scanCalls().map((r) => ({ from: r.receivedAt, to: answeredAt.get(r)! }));
    const peak = Math.max(...spans.map((s) => spans.filter((o) => o.from <= s.from && s.from < o.to).length));
    expect(peak).toBe(3);
  });

  it('asks again when the model names a turn outside the passage it was shown, then accepts a valid one', async () => {
    const l = await start(SMALL_LIMIT);
    const first = splitPassages(await sampleEntries(), 6400)[0]!;
    emulator.onText(
      scannerScript((lines, r) => {
        if (lines[0]!.turn === first.firstTurn && !isRetry(r) && scanPurpose(r) === 'scan') return 2000;
        return mostVisual(lines);
      }),
    );
    const result = await best(l);
    const retried = scanCalls().filter(isRetry);
    expect(retried).toHaveLength(1);
    const correction = retried[0]!.body.contents[0].parts[1].text as string;
    expect(correction).toBe(
      `Your previous answer named turn 2000, which is not among the turns ${first.firstTurn}-${first.lastTurn}. Answer again with one of those turns.`,
    );
    expect(result.best!.turn).toBeGreaterThan(0);
    expect(ledger(l).filter((r) => r.purpose === 'scan')).toHaveLength(10);
  });

  it('fails with a clear error when the turn is outside the passage twice, and stores nothing', async () => {
    const l = await start(ONE_PASS);
    emulator.onText(scannerScript(() => 9999));
    const err = await best(l).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScanTurnError);
    expect((err as ScanTurnError).message).toBe(
      'Gemini twice picked a turn it had not read (turn 9999; it read turns 1-2160), so no best scene was chosen. Please try again.',
    );
    expect(scanCalls()).toHaveLength(2);
    expect(emulator.requests.filter((r) => !isScanCall(r))).toEqual([]);
    expect(await l.images.list(SAMPLE_CAMPAIGN as never)).toEqual([]);
    expect(l.store.db.select().from(scanCache).all()).toEqual([]);
  });

  it('asks again after malformed structured output, and fails clearly when it is malformed twice', async () => {
    let l = await start(ONE_PASS);
    emulator.onText(scannerScript((_lines, r) => (isRetry(r) ? 42 : 'Sure! The best moment is turn 42.')));
    const result = await best(l);
    expect(result.best!.turn).toBe(42);
    const retry = scanCalls()[1]!;
    expect(retry.body.contents[0].parts[1].text).toMatch(
      /^Your previous answer was not the requested JSON object \(not JSON: Sure! The best moment is turn 42\.\)/,
    );

    emulator.reset();
    campaigns.cleanup();
    campaigns = sampleCampaigns();
    l = await start(ONE_PASS);
    emulator.onText(scannerScript(() => '{"turn": "forty-two", "rationale": "a fight"}'));
    const err = await best(l).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScanReplyError);
    expect((err as ScanReplyError).message).toMatch(/twice answered the session scan with something other than the requested JSON/);
    expect((err as ScanReplyError).detail).toMatch(/^turn: /);
    expect(scanCalls()).toHaveLength(2);
  });

  it('cache hit: an unchanged campaign makes no scanner call the second time', async () => {
    const l = await start(SMALL_LIMIT);
    emulator.onText(scannerScript());
    const first = await best(l);
    expect(scanCalls()).toHaveLength(10);
    emulator.reset();
    const stages: string[] = [];
    const second = await best(l, (stage) => stages.push(stage));
    expect(scanCalls()).toEqual([]);
    expect(stages).toEqual(['reading', 'writing-prompt', 'painting', 'saving']);
    expect(second.best).toEqual({ ...first.best, cached: true });
    expect(second.image.turn).toBe(first.image.turn);
    expect(second.calls).toHaveLength(2);
  });

  it('incremental: after turns are appended, scans only the new passages and compares them with the previous winner', async () => {
    const l = await start(SMALL_LIMIT);
    const original = await sampleEntries();
    const previousWinner = 1200;
    emulator.onText(scannerScript((lines) => (lines.some((x) => x.turn === previousWinner) ? previousWinner : mostVisual(lines))));
    expect((await best(l)).best!.turn).toBe(previousWinner);

    // 400 more turns, as an engine appending to transcript.jsonl would write them.
    const added = original.slice(100, 500).map((e, i) => ({ turn: 2161 + i, speaker: e.speaker, text: e.text }));
    appendFileSync(path.join(campaigns.dir, SAMPLE_CAMPAIGN, 'transcript.jsonl'), toJsonl(added));
    const grown = parseTranscriptJsonl(toJsonl([...original, ...added]), 'grown');
    const passages = splitPassages(grown.entries, 6400);
    const fresh = passages.filter((p) => p.end > original.length);
    expect(fresh.length).toBeLessThan(passages.length);

    emulator.reset();
    const newest = 2400;
    emulator.onText(
      scannerScript((lines, r) =>
        scanPurpose(r) === 'compare' ? newest : lines.some((x) => x.turn === newest) ? newest : mostVisual(lines),
      ),
    );
    const progress: ScanProgress[] = [];
    const result = await best(l, (_s, scan) => scan && progress.push(scan));
    const scans = scanCalls().filter((r) => scanPurpose(r) === 'scan');
    expect(scans.map((r) => shownLines(r)[0]!.turn).sort((a, b) => a - b)).toEqual(fresh.map((p) => p.firstTurn));
    const compare = scanCalls().filter((r) => scanPurpose(r) === 'compare');
    expect(compare).toHaveLength(1);
    expect(shownLines(compare[0]!)[0]!.turn).toBe(previousWinner);
    expect(result.best).toMatchObject({ turn: newest, cached: false, passages: passages.length });
    expect(progress[0]).toMatchObject({ turns: 2560, passages: passages.length, scanned: passages.length - fresh.length });

    emulator.reset();
    expect((await best(l)).best).toMatchObject({ turn: newest, cached: true });
    expect(scanCalls()).toEqual([]);
  });

  it('cancels the other passage calls when one fails, and reports that failure', async () => {
    const l = await start(SMALL_LIMIT);
    emulator.onText(scannerScript());
    const firstPassage = (r: Parameters<typeof isScanCall>[0]) => isScanCall(r) && shownLines(r)[0]?.turn === 1;
    emulator.enqueue({ kind: 'blocked', blockReason: 'PROHIBITED_CONTENT' }, { when: firstPassage });
    for (let i = 0; i < 8; i++) emulator.enqueue({ kind: 'latency', ms: 5000 }, { when: (r) => isScanCall(r) && !firstPassage(r) });
    const started = performance.now();
    const err = await best(l).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromptBlockedError);
    expect((err as PromptBlockedError).blockReason).toBe('PROHIBITED_CONTENT');
    expect(performance.now() - started).toBeLessThan(2000);
    expect(scanCalls()).toHaveLength(9);
    await vi.waitFor(() => expect(answers.filter((a) => a.answer === 'client gone before answer')).toHaveLength(8), { timeout: 2000 });
    expect(
      scanCalls()
        .filter((r) => r.answer !== undefined)
        .map((r) => r.answer),
    ).toEqual(['blocked PROHIBITED_CONTENT']);
    expect(await l.images.list(SAMPLE_CAMPAIGN as never)).toEqual([]);
    // The blocked call is billed for its input and recorded; the cancelled ones never answered.
    expect(ledger(l).map((r) => [r.purpose, r.inputTokens > 0, r.outputTokens])).toEqual([['scan', true, 0]]);
  });
});
