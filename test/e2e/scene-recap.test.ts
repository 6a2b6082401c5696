import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { STYLE_REFERENCE_NOTE } from '../../src/scenes/recap.ts';
import type { InteractionResult } from '../emulators/discord/types.ts';
import type { RecordedRequest } from '../emulators/gemini/server.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';
import { SAMPLE_CAMPAIGN } from '../support/fixtures.ts';
import { isScanCall, scannerScript, scanPurpose } from '../support/scanner-script.ts';

// The sample campaign is CRD3's C1E001 (CC BY-SA 4.0; see campaigns/kraghammer/ATTRIBUTION.md): 2,160 turns.
const EPHEMERAL = 64;

const inlineImages = (q: RecordedRequest): string[] =>
  q.body.contents[0].parts.flatMap((p: { inlineData?: { data: string } }) => (p.inlineData ? [p.inlineData.data] : []));
const promptOf = (q: RecordedRequest): string => q.body.contents[0].parts.map((p: { text?: string }) => p.text ?? '').join('');

describe('/scene recap through the bot', () => {
  let h: BotHarness;
  const imageCalls = () => h.gemini.requests.filter((q) => q.model === h.limner.config.generation.image_model);
  /** The storyboard reply and one follow-up per panel. */
  const done = (panels: number) => (r: InteractionResult) => r.followUps.length === panels;

  beforeAll(async () => {
    // At 8,000 tokens 301 turns of the session are read in two passages, then chosen among.
    h = await startBotHarness({ generation: { scanner_token_limit: 8000 } });
    await (await h.scene('link', { campaign: SAMPLE_CAMPAIGN }, { user: h.users.gm })).waitUntil((r) => Boolean(r.original));
    h.gemini.onText(scannerScript());
  });
  afterAll(async () => h?.close());

  it('posts a storyboard of the requested panels in story order with captions, then each panel as a picture', async () => {
    h.gemini.reset();
    h.gemini.onText(scannerScript());
    const r = await (await h.scene('recap', { from: 1200, to: 1500, panels: 4 })).waitUntil(done(4), 30_000);

    expect(r.ephemeral).toBe(false);
    const lines = r.history.map((s) => s.content);
    expect(lines.some((l) => l.startsWith('Choosing the key moments of 301 turns…'))).toBe(true);
    expect(lines).toContain('Painting panel 1 of 4…');
    expect(lines).toContain('Painting panel 4 of 4…');
    expect(lines).toContain('Laying out the storyboard…');
    expect(h.gemini.requests.filter((q) => scanPurpose(q) === 'moments').length).toBeGreaterThan(1);
    expect(h.gemini.requests.filter((q) => scanPurpose(q) === 'storyboard')).toHaveLength(1);

    const board = r.original!;
    expect(board.attachments.map((a) => a.filename)).toEqual(['Arrival_at_Kraghammer_recap_turns_1200-1500.jpg']);
    const meta = await sharp(board.attachments[0]!.bytes).metadata();
    // Four panels make two rows of two, each 512 x 288 with three caption lines under it.
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 1072, 782]);
    const content = board.content.split('\n');
    expect(content[0]).toBe('**Recap of turns 1,200–1,500** · Arrival at Kraghammer');
    expect(content[1]).toMatch(/^The party pressed on from turn \d+ to turn \d+\./);
    const captions = content.slice(3);
    expect(captions).toHaveLength(4);
    const turns = captions.map((c) => Number(/\(turn ([\d,]+)\)$/.exec(c)![1]!.replace(',', '')));
    expect(turns).toEqual([...turns].sort((a, b) => a - b));
    expect(turns.every((t) => t >= 1200 && t <= 1500)).toBe(true);
    captions.forEach((c, i) => expect(c).toMatch(new RegExp(`^${i + 1}\\. [A-Z]+: .+ \\(turn `)));

    // Each panel is its own scene message, recorded against its stored picture (edit, reroll, gallery).
    expect(r.followUps.map((m) => m.embeds[0].title)).toEqual(turns.map((t, i) => `Turn ${t.toLocaleString('en-US')} · recap ${i + 1}/4`));
    const rows = (await h.limner.images.list(SAMPLE_CAMPAIGN as never)).filter((i) => i.mode === 'recap');
    expect(rows.map((i) => i.turn)).toEqual(turns);
    // The last follow-up is recorded just after it is posted.
    await vi.waitFor(async () =>
      expect(await Promise.all(r.followUps.map((m) => h.limner.links.imageOfMessage(m.id)))).toEqual(rows.map((i) => i.id)),
    );
    expect(r.followUps.every((m) => m.components.length > 0 && m.attachments[0]!.filename.endsWith('_recap.png'))).toBe(true);

    // The first panel goes with the others as a style reference, so the set reads as one work.
    const calls = imageCalls();
    expect(calls).toHaveLength(4);
    expect(inlineImages(calls[0]!)).toEqual([]);
    const first = readFileSync(h.limner.images.location(rows[0]!.imagePath)).toString('base64');
    for (const call of calls.slice(1)) {
      expect(inlineImages(call)).toEqual([first]);
      expect(promptOf(call)).toContain(STYLE_REFERENCE_NOTE);
    }
  });

  it('reads the unchanged range from the cache: no scanner call, the same moments', async () => {
    const before = (await h.limner.images.list(SAMPLE_CAMPAIGN as never)).filter((i) => i.mode === 'recap').map((i) => i.turn);
    h.gemini.reset();
    h.gemini.onText(scannerScript());
    const r = await (await h.scene('recap', { from: 1200, to: 1500, panels: 4 }, { user: h.users.bo })).waitUntil(done(4), 30_000);
    expect(h.gemini.requests.filter(isScanCall)).toEqual([]);
    expect(r.followUps.map((m) => m.embeds[0].title)).toEqual(before.map((t, i) => `Turn ${t.toLocaleString('en-US')} · recap ${i + 1}/4`));
    expect(imageCalls()).toHaveLength(4);
  });

  it('recaps from where the last recap of the channel ended by default', async () => {
    h.gemini.reset();
    h.gemini.onText(scannerScript());
    const r = await (await h.scene('recap', { panels: 3 })).waitUntil(done(3), 30_000);
    expect(r.original!.content.split('\n')[0]).toBe('**Recap of turns 1,501–2,160** · Arrival at Kraghammer');
    expect(r.original!.attachments[0]!.filename).toBe('Arrival_at_Kraghammer_recap_turns_1501-2160.jpg');
  });

  it('refuses a range with fewer turns than panels, privately, before any model call', async () => {
    h.gemini.reset();
    const r = await (await h.scene('recap', { from: 10, to: 12, panels: 4 })).waitUntil((x) => x.callbacks.length > 0);
    expect(r.ephemeral || Boolean((r.callbacks[0]?.data?.flags ?? 0) & EPHEMERAL)).toBe(true);
    expect(r.callbacks[0]!.data.content).toBe('Turns 10-12 cannot be recapped: they hold 3 turns and the recap has 4 panels.');
    expect(h.gemini.requests).toEqual([]);
  });
});

describe('/scene recap and budgets', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness({ budgets: { user_daily_images: 3 } });
    await (await h.scene('link', { campaign: SAMPLE_CAMPAIGN }, { user: h.users.gm })).waitUntil((r) => Boolean(r.original));
  });
  afterAll(async () => h?.close());

  it('counts a recap as its panels and refuses one the budget cannot cover, privately, before any model call', async () => {
    h.gemini.onText(scannerScript());
    const r = await (await h.scene('recap', { from: 1, to: 300, panels: 4 })).waitUntil((x) => x.callbacks.length > 0);
    expect(r.callbacks[0]!.type).toBe(4);
    expect(r.callbacks[0]!.data.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(r.callbacks[0]!.data.content).toMatch(/^This needs 4 pictures and you have 3 of your 3 left for today; your budget resets in /);
    expect(h.gemini.requests).toEqual([]);

    const fits = await (await h.scene('recap', { from: 1, to: 300, panels: 3 })).waitUntil((x) => x.followUps.length === 3, 30_000);
    expect(fits.original!.attachments).toHaveLength(1);
  });
});
