/**
 * `/scene best` scanner bench: for the sample campaign's episode and a synthetic 20,000-turn transcript,
 * at emulated model latency L, the scanner calls, tokens sent against the transcript's own tokens and
 * wall time in units of L, for Limner's scanner (concurrent passages) and for the seed's sequential
 * method (the same passages read one after another). Run alone with `npx tsx bench/scanner.ts`.
 *
 * Transcripts: CRD3 episode C1E001 as shipped in campaigns/kraghammer (Rameshkumar and Bailey, ACL 2020),
 * Critical Role content, CC BY-SA 4.0; see campaigns/kraghammer/ATTRIBUTION.md. The synthetic transcript
 * repeats its turns.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { eq } from 'drizzle-orm';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseTranscriptJsonl, type Transcript, type TranscriptEntry } from '../src/campaigns/transcript.ts';
import { loadConfig } from '../src/platform/config.ts';
import { formatEntries } from '../src/scenes/context.ts';
import { GeminiGateway } from '../src/platform/gemini.ts';
import { SceneScanner } from '../src/scenes/best/scanner.ts';
import { estimateTextTokens } from '../src/platform/tokens.ts';
import { silentLogger } from '../src/platform/log.ts';
import { openSqliteStore, type Store } from '../src/platform/db.ts';
import { ScanCache } from '../src/scenes/best/scan-cache.ts';
import { usage } from '../src/platform/schema.ts';
import { UsageLedger } from '../src/usage/ledger.ts';
import type { BenchSection } from './types.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** The whole of CRD3's C1E001, 2,160 turns. */
const EPISODE = { id: 'C1E001', file: path.join(ROOT, 'campaigns/kraghammer/transcript.jsonl') };
/** Emulated model latency L, ms; every figure below is in units of it, so only the run time depends on it. */
const LATENCY_MS = Number(process.env.LIMNER_BENCH_LATENCY_MS ?? 100);
const SYNTHETIC_TURNS = 20_000;
/** The target configuration: a 2,160-turn episode at an 8,000-token limit. */
const TARGET = { episode: 'C1E001', limit: 8000, maxWallL: 3, maxTokenRatio: 1.15 };

interface Measure {
  readonly calls: number;
  /** Of `calls`, those that read a passage (the rest compared candidates). */
  readonly scans: number;
  readonly tokensSent: number;
  readonly wallL: number;
  readonly passages: number;
}

/** One scanner over a fresh in-memory database; `concurrency` 1 is the sequential method. */
function scannerFor(emulatorUrl: string, limit: number, concurrency?: number): { scanner: SceneScanner; store: Store } {
  const { config, secrets } = loadConfig({
    env: { GEMINI_API_KEY: 'bench-key', LIMNER_GEMINI_BASE_URL: emulatorUrl },
    localFile: path.join(ROOT, 'test/support/test-config.yaml'),
    overrides: { generation: { scanner_token_limit: limit, ...(concurrency ? { scanner_concurrency: concurrency } : {}) } },
  });
  const store = openSqliteStore(':memory:');
  const scanner = new SceneScanner({
    config,
    gateway: new GeminiGateway(config, secrets, new UsageLedger(store)),
    cache: new ScanCache(store),
    log: silentLogger,
  });
  return { scanner, store };
}

async function measure({ scanner, store }: { scanner: SceneScanner; store: Store }, transcript: Transcript): Promise<Measure> {
  const scansBefore = scanRows(store);
  const started = performance.now();
  const result = await scanner.findBest(transcript, { userId: 'bench', campaignId: 'bench' });
  const wallL = (performance.now() - started) / LATENCY_MS;
  const tokensSent = result.calls.reduce((sum, c) => sum + c.inputTokens, 0);
  return { calls: result.calls.length, scans: scanRows(store) - scansBefore, tokensSent, wallL, passages: result.passages };
}

/** Rows of the usage ledger for passage calls. */
function scanRows(store: Store): number {
  return store.db.select().from(usage).where(eq(usage.purpose, 'scan')).all().length;
}

function transcriptOf(entries: readonly TranscriptEntry[], name: string): Transcript {
  return { file: name, entries, firstTurn: entries[0]!.turn, lastTurn: entries.at(-1)!.turn };
}

/** Runs the bench against a loopback Gemini emulator and returns its BENCHMARKS.md section. */
export async function run(): Promise<BenchSection> {
  const emulator = await startEmulator();
  try {
    const pool = parseTranscriptJsonl(await readFile(EPISODE.file, 'utf8'), EPISODE.file).entries;
    const synthetic = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => ({ ...pool[(from + i) % pool.length]!, turn: from + i + 1 }));
    const transcripts = [
      { name: EPISODE.id, entries: pool },
      { name: `synthetic ${SYNTHETIC_TURNS.toLocaleString('en-US')}`, entries: synthetic(0, SYNTHETIC_TURNS) },
    ];
    const defaults = loadConfig({ env: {}, localFile: path.join(ROOT, 'test/support/test-config.yaml') }).config.generation;

    // Warm-up, not measured: the first scan of a process also pays for compiling the SDK's and emulator's code.
    const warmUp = scannerFor(emulator.url, TARGET.limit);
    await measure(warmUp, transcriptOf(pool.slice(0, 1000), 'warm-up'));
    warmUp.store.close();

    const rows: string[] = [];
    const reuse: string[] = [];
    const verdicts: string[] = [];
    for (const t of transcripts) {
      const transcript = transcriptOf(t.entries, t.name);
      const ownTokens = estimateTextTokens(formatEntries(t.entries));
      for (const limit of [defaults.scanner_token_limit, TARGET.limit]) {
        for (const method of ['Limner', 'sequential'] as const) {
          await emulator.reset();
          const subject = scannerFor(emulator.url, limit, method === 'sequential' ? 1 : undefined);
          const m = await measure(subject, transcript);
          const ratio = m.tokensSent / ownTokens;
          rows.push(
            `| ${t.name} | ${t.entries.length.toLocaleString('en-US')} | ${ownTokens.toLocaleString('en-US')} | ${limit.toLocaleString('en-US')} | ${method} | ${m.passages} | ${m.calls} | ${m.tokensSent.toLocaleString('en-US')} | ${ratio.toFixed(3)} | ${m.wallL.toFixed(2)} L |`,
          );
          if (method === 'Limner') {
            verdicts.push(
              `- ${t.name}, limit ${limit.toLocaleString('en-US')}: tokens sent ${ratio.toFixed(3)}× the transcript's (target ≤ ${TARGET.maxTokenRatio}): ${ratio <= TARGET.maxTokenRatio ? 'met' : 'MISSED'}.`,
            );
            if (t.name === TARGET.episode && limit === TARGET.limit) {
              verdicts.unshift(
                `- **Target**: ${t.name} (${t.entries.length.toLocaleString('en-US')} turns) at an 8,000-token limit: wall time ${m.wallL.toFixed(2)} L (target ≤ ${TARGET.maxWallL} L): ${m.wallL <= TARGET.maxWallL ? 'met' : 'MISSED'}; tokens ${ratio.toFixed(3)}× (target ≤ ${TARGET.maxTokenRatio}): ${ratio <= TARGET.maxTokenRatio ? 'met' : 'MISSED'}.`,
              );
            }
            const again = await measure(subject, transcript);
            const grownEntries = [...t.entries, ...synthetic(t.entries.at(-1)!.turn, Math.ceil(t.entries.length * 0.05))];
            const grown = await measure(subject, transcriptOf(grownEntries, `${t.name}+5%`));
            reuse.push(
              `| ${t.name} | ${limit.toLocaleString('en-US')} | ${again.calls} (${again.wallL.toFixed(2)} L) | ${grown.scans} of ${grown.passages} passages + ${grown.calls - grown.scans} compare | ${grown.tokensSent.toLocaleString('en-US')} (${(grown.tokensSent / estimateTextTokens(formatEntries(grownEntries))).toFixed(3)}) | ${grown.wallL.toFixed(2)} L |`,
            );
          }
          subject.store.close();
        }
      }
    }

    const markdown = [
      `What \`/scene best\` costs to read a whole session, against the Gemini emulator answering every call after L = ${LATENCY_MS} ms (set \`LIMNER_BENCH_LATENCY_MS\` to change it).`,
      `The emulator stands in for the model: it picks the turn with the most action words, and counts input tokens as characters / 4, as Limner's own estimate does. It runs in a process of its own, as a remote model would; one unmeasured warm-up scan runs first.`,
      '',
      `- **Limner**: passages of at most 80% of the limit, 20 entries overlapping, read ${defaults.scanner_concurrency} at a time (default \`scanner_concurrency\`), then one comparison call (a knockout of comparisons when the candidates exceed a passage's budget).`,
      "- **sequential**: the seed's method: the same passages read one after another, then the comparison.",
      "- Both start from an empty cache. Limner's floor is one L per round of passages (⌈passages ÷ concurrency⌉) plus one per level of comparison; the rest is the time to build, send and parse the requests.",
      `- The default \`scanner_token_limit\` is ${defaults.scanner_token_limit.toLocaleString('en-US')}; the issue's target is stated at 8,000.`,
      '- *tokens sent*: sum of `usageMetadata.promptTokenCount` over the scanner calls (instructions, passages, candidates); *transcript tokens*: the transcript formatted as `[Turn N] Speaker: text`, estimated.',
      '',
      '| transcript | turns | transcript tokens | limit | method | passages | scanner calls | tokens sent | sent / transcript | wall time |',
      '|---|---:|---:|---:|---|---:|---:|---:|---:|---:|',
      ...rows,
      '',
      "Cache and growth, Limner's method: the same transcript again, then 5% more turns appended.",
      '',
      '| transcript | limit | unchanged: calls | grown 5%: calls (passages read + comparisons) | grown: tokens sent (÷ transcript) | grown: wall time |',
      '|---|---:|---:|---:|---:|---:|',
      ...reuse,
      '',
      'Targets:',
      '',
      ...verdicts,
      '',
      "Transcript: CRD3's C1E001 as shipped in `campaigns/kraghammer` (R. Rameshkumar and P. Bailey, ACL 2020), Critical Role content, CC BY-SA 4.0; the synthetic transcript repeats its turns.",
    ].join('\n');
    return { title: 'Best-scene scanner (/scene best)', markdown, command: 'npx tsx bench/scanner.ts' };
  } finally {
    emulator.close();
  }
}

/** bench/scanner-emulator.ts in a child process, so its CPU time is not the scanner's wall time. */
async function startEmulator(): Promise<{ url: string; reset(): Promise<void>; close(): void }> {
  const child: ChildProcess = fork(fileURLToPath(new URL('./scanner-emulator.ts', import.meta.url)), [String(LATENCY_MS)], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
  });
  const [ready] = (await once(child, 'message')) as [{ url: string }];
  return {
    url: ready.url,
    async reset() {
      child.send('reset');
      await once(child, 'message');
    },
    close: () => child.disconnect(),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const section = await run();
  console.log(`## ${section.title}\n\n${section.markdown}`);
}
