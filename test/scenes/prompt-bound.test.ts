import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { boundContext, formatEntries } from '../../src/scenes/context.ts';
import { estimateTextTokens } from '../../src/platform/tokens.ts';
import { GeminiEmulator } from '../emulators/gemini/server.ts';
import { limnerCli } from '../support/cli.ts';
import { tempDir } from '../support/fixtures.ts';

/** `generation.prompt_token_limit` in config/defaults.yaml. */
const DEFAULT_LIMIT = 32_000;

let emulator: GeminiEmulator;
let tmp: { dir: string; cleanup: () => void };
beforeAll(async () => {
  emulator = await GeminiEmulator.start();
  tmp = tempDir('limner-bound-');
});
afterAll(async () => {
  await emulator.close();
  tmp.cleanup();
});
beforeEach(() => emulator.reset());

/** A campaign `id` whose transcript is `entries` (speaker, text), turns 1..n. */
function campaign(id: string, entries: ReadonlyArray<[string, string]>): void {
  const dir = path.join(tmp.dir, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'campaign.yaml'), `name: ${id}\n`);
  writeFileSync(path.join(dir, 'transcript.jsonl'), entries.map(([speaker, text]) => `${JSON.stringify({ speaker, text })}\n`).join(''));
}

/** The text sent to the prompt writer (the text model) by the one run. */
function promptWriterText(): string {
  const calls = emulator.requests.filter((r) => r.model === 'gemini-3.5-flash');
  expect(calls).toHaveLength(1);
  return calls[0]!.body.contents[0].parts[0].text as string;
}

describe('the text sent to the prompt writer is bounded by generation.prompt_token_limit', () => {
  it('a 5 MB entry is shortened, its neighbours dropped, and a human-readable warning logged', async () => {
    const huge = 'The dragon roars. '.repeat((5 * 1024 * 1024) / 18);
    campaign('huge', [
      ['MATT', 'You enter the cave.'],
      ['GROG', huge],
      ['VEX', 'I nock an arrow.'],
    ]);
    const out = await limnerCli(['scene', 'turn', '2', '--campaign', 'huge'], { campaignsDir: tmp.dir, geminiUrl: emulator.url });
    expect(out.code).toBe(0);
    const text = promptWriterText();
    expect(estimateTextTokens(text)).toBeLessThanOrEqual(DEFAULT_LIMIT);
    expect(text).toContain('[Turn 2] GROG: The dragon roars.');
    expect(text).toContain(' [...]');
    expect(text).toContain('Illustrate the moment of turn 2');
    expect(out.stderr).toMatch(
      /^limner: warning: context cut to the prompt token limit \(.*droppedEntries: 2, shortenedFocus: true.*maxInputTokens: 32000\)\n$/,
    );
  });

  it('--context 50 of long turns keeps the latest turns that fit, whole, and drops the older ones', async () => {
    const turns: Array<[string, string]> = Array.from({ length: 60 }, (_, i) => ['MATT', `Turn text ${i + 1}: ${'x'.repeat(8000)}`]);
    campaign('long', turns);
    const out = await limnerCli(['scene', 'current', '--campaign', 'long', '--context', '50'], {
      campaignsDir: tmp.dir,
      geminiUrl: emulator.url,
    });
    expect(out.code).toBe(0);
    const text = promptWriterText();
    expect(estimateTextTokens(text)).toBeLessThanOrEqual(DEFAULT_LIMIT);
    const sent = [...text.matchAll(/\[Turn (\d+)\]/g)].map((m) => Number(m[1]));
    expect(sent.at(-1)).toBe(60);
    expect(sent.length).toBeGreaterThan(5);
    expect(sent.length).toBeLessThan(50);
    expect(sent).toEqual(Array.from({ length: sent.length }, (_, i) => 61 - sent.length + i));
    expect(text).not.toContain('[...]');
    expect(out.stderr).toMatch(/^limner: warning: context cut to the prompt token limit \(.*shortenedFocus: false/);
  });
});

describe('boundContext', () => {
  const entries = Array.from({ length: 9 }, (_, i) => ({ turn: i + 1, speaker: 'GM', text: `${'y'.repeat(36)}${i + 1}` }));

  it('keeps a run of whole entries around the focus turn, alternating sides, within the budget', () => {
    const one = estimateTextTokens(formatEntries([entries[4]!])) + 1;
    const bounded = boundContext({ turn: 5, entries }, one * 3);
    expect(bounded.entries.map((e) => e.turn)).toEqual([4, 5, 6]);
    expect([bounded.dropped, bounded.shortened]).toEqual([6, false]);
    const atEnd = boundContext({ turn: 9, entries }, one * 3);
    expect(atEnd.entries.map((e) => e.turn)).toEqual([7, 8, 9]);
  });

  it('leaves a context that fits as it is, and shortens a lone focus entry over the budget', () => {
    expect(boundContext({ turn: 5, entries }, 100_000)).toEqual({ turn: 5, entries, dropped: 0, shortened: false });
    const lone = boundContext({ turn: 1, entries: [{ turn: 1, speaker: 'S'.repeat(10_000), text: 'z'.repeat(100_000) }] }, 1000);
    expect(lone.shortened).toBe(true);
    expect(estimateTextTokens(formatEntries(lone.entries))).toBeLessThanOrEqual(1000);
    expect(lone.entries[0]!.text.endsWith(' [...]')).toBe(true);
  });
});
