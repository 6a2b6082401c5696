import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { humanLine } from '../../src/platform/log.ts';
import { GeminiEmulator } from '../emulators/gemini/server.ts';
import { limnerCli } from '../support/cli.ts';
import { tempDir } from '../support/fixtures.ts';
import { isRetry, scannerScript } from '../support/scanner-script.ts';

let emulator: GeminiEmulator;
let tmp: { dir: string; cleanup: () => void };
beforeAll(async () => {
  emulator = await GeminiEmulator.start();
  tmp = tempDir('limner-log-');
  const dir = path.join(tmp.dir, 'cave');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'campaign.yaml'), 'name: Cave\n');
  writeFileSync(
    path.join(dir, 'transcript.jsonl'),
    ['You enter the cave.', 'A dragon breathes fire!', 'We run.'].map((text) => `${JSON.stringify({ speaker: 'MATT', text })}\n`).join(''),
  );
});
afterAll(async () => {
  await emulator.close();
  tmp.cleanup();
});

describe('warnings the CLI logs while it works', () => {
  it('a scanner answer asked again is one human-readable line on stderr, not JSON', async () => {
    const script = scannerScript();
    emulator.onText((r) => (isRetry(r) ? script(r) : script(r) === undefined ? undefined : 'not json at all'));
    const out = await limnerCli(['scene', 'best', '--campaign', 'cave'], { campaignsDir: tmp.dir, geminiUrl: emulator.url });
    emulator.onText(undefined);
    expect(out.code).toBe(0);
    const lines = out.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^limner: warning: unusable scanner answer, asking again \(.*purpose: scan.*\)$/);
    expect(out.stderr).not.toContain('{"level"');
  });

  it('without -v only warnings and errors show; with -v progress and info lines are plain text too', async () => {
    const quiet = await limnerCli(['scene', 'turn', '2', '--campaign', 'cave'], { campaignsDir: tmp.dir, geminiUrl: emulator.url });
    expect([quiet.code, quiet.stderr]).toEqual([0, '']);
    const verbose = await limnerCli(['-v', 'scene', 'turn', '2', '--campaign', 'cave'], { campaignsDir: tmp.dir, geminiUrl: emulator.url });
    expect(verbose.code).toBe(0);
    expect(verbose.stderr).toMatch(/^limner: info: scene illustrated \(campaign: cave, .*turn: 2.*\)$/m);
    expect(verbose.stderr).not.toContain('{"');
  });
});

describe('humanLine', () => {
  it('shows the level, the message and the fields, an error by its message; other text passes through', () => {
    const line = JSON.stringify({
      level: 50,
      time: 1,
      pid: 2,
      hostname: 'h',
      msg: 'failed',
      err: { type: 'Error', message: 'boom', stack: 'at x' },
      n: 3,
    });
    expect(humanLine(line)).toBe('limner: error: failed (err: boom, n: 3)\n');
    expect(humanLine('plain text')).toBe('plain text\n');
  });
});
