import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InteractionResult } from '../emulators/discord/types.ts';
import { GeminiEmulator } from '../emulators/gemini/server.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';
import { ROOT, SAMPLE_CAMPAIGN, sampleCampaigns, sqliteOf } from '../support/fixtures.ts';
import { isScanCall, scannerScript, scanPurpose } from '../support/scanner-script.ts';

// The sample campaign is CRD3's C1E001 (CC BY-SA 4.0; see campaigns/kraghammer/ATTRIBUTION.md).
// Turn 1500 is LIAM's "While he is talking I take a flask..."; at an 8,000-token limit the transcript is 9 passages.
const PICK = 1500;

describe('/scene best through the bot', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness({ generation: { scanner_token_limit: 8000 } });
    await (await h.scene('link', { campaign: SAMPLE_CAMPAIGN }, { user: h.users.gm })).waitUntil((r) => Boolean(r.original));
  });
  afterAll(async () => {
    await h?.close();
  });

  const finished = (r: InteractionResult) => Boolean(r.original?.attachments.length) || r.followUps.length > 0;

  it('shows the scanning progress, then posts the picture of the chosen turn with its quote and the reason', async () => {
    h.gemini.reset();
    h.gemini.setLatency(20);
    h.gemini.onText(scannerScript((lines) => (lines.some((l) => l.turn === PICK) ? PICK : lines[0]!.turn)));
    const r = await (await h.scene('best')).waitUntil(finished, 15_000);

    expect(r.callbacks[0]!.type).toBe(5);
    expect(r.ephemeral).toBe(false);
    // Scan lines coming faster than edits are coalesced: only the newest waiting one is sent.
    const lines = r.history.map((s) => s.content);
    const scanning = lines.filter((l) => l.startsWith('Scanning'));
    expect(scanning[0]).toBe('Scanning 2,160 turns in 9 passages... 0/9');
    expect(scanning.every((l) => /^Scanning 2,160 turns in 9 passages\.\.\. \d\/9$/.test(l))).toBe(true);
    expect(lines).toEqual([...scanning, 'Comparing 9 candidate moments...', 'Writing the prompt…', 'Painting…', '']);

    const message = r.original!;
    expect(message.attachments[0]!.filename).toBe(`Arrival_at_Kraghammer_turn_${PICK}_best.png`);
    const embed = message.embeds[0];
    expect(embed.title).toBe('Turn 1,500 · best scene');
    expect(embed.fields).toEqual([
      { name: 'The moment', value: expect.stringMatching(/^> \*\*LIAM:\*\* While he is talking I take a flask/) },
      { name: 'Why this one', value: `Turn ${PICK} shows the most vivid action.` },
    ]);
    const row = (await h.limner.images.list(SAMPLE_CAMPAIGN as never)).at(-1)!;
    expect(row).toMatchObject({ turn: PICK, mode: 'best', requestedBy: h.users.ana.id });
    expect(h.gemini.requests.filter((q) => scanPurpose(q) === 'scan')).toHaveLength(9);
  });

  it('answers from the cache the second time: no scanner call, same turn', async () => {
    h.gemini.reset();
    const r = await (await h.scene('best', {}, { user: h.users.bo })).waitUntil(finished, 15_000);
    expect(r.original!.embeds[0].title).toBe('Turn 1,500 · best scene');
    expect(h.gemini.requests.filter(isScanCall)).toEqual([]);
    expect(r.history.some((s) => s.content.startsWith('Scanning'))).toBe(false);
  });

  it('answers an unusable scan privately with the reason', async () => {
    sqliteOf(h.limner.store).exec('DELETE FROM scan_cache');
    h.gemini.reset();
    h.gemini.onText(scannerScript(() => 'not json at all'));
    const r = await (await h.scene('best')).waitUntil((x) => x.followUps.length > 0, 15_000);
    expect(r.followUps.at(-1)!.content).toMatch(/^Gemini twice answered the session scan with something other than the requested JSON/);
    expect(r.followUps.at(-1)!.flags & 64).toBe(64);
  });
});

describe('limner scene best', () => {
  let emulator: GeminiEmulator;
  let campaigns: { dir: string; cleanup: () => void };
  beforeAll(async () => {
    emulator = await GeminiEmulator.start();
    campaigns = sampleCampaigns();
  });
  afterAll(async () => {
    await emulator.close();
    campaigns.cleanup();
  });

  it('--json prints the picture with the chosen turn, its quote and the reason; -v shows the scan', async () => {
    emulator.onText(scannerScript((lines) => (lines.some((l) => l.turn === PICK) ? PICK : lines[0]!.turn)));
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'scene', 'best', '--campaign', SAMPLE_CAMPAIGN, '--json', '-v'],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          GEMINI_API_KEY: 'test-key',
          LIMNER_GEMINI_BASE_URL: emulator.url,
          LIMNER_CAMPAIGNS_DIR: campaigns.dir,
          LIMNER_CONFIG: path.join(ROOT, 'test/support/test-config.yaml'),
        },
      },
    );
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result).toMatchObject({
      campaignId: SAMPLE_CAMPAIGN,
      turn: PICK,
      mode: 'best',
      best: { turn: PICK, speaker: 'LIAM', rationale: `Turn ${PICK} shows the most vivid action.`, cached: false, passages: 3 },
    });
    expect((result.best as { quote: string }).quote).toMatch(/^While he is talking I take a flask/);
    expect(stderr).toContain('reading the session: passage 3/3 (2,160 turns)\n');
  });
});
