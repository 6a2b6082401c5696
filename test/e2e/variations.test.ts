import sharp from 'sharp';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sheetMessages } from '../../src/platform/schema.ts';
import type { EmulatorUser, InteractionResult, StoredMessage } from '../emulators/discord/types.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';
import { isScanCall, scannerScript } from '../support/scanner-script.ts';

const EPHEMERAL = 64;
const finished = (r: InteractionResult) => Boolean(r.original?.attachments.length) || r.followUps.length > 0 || r.callbacks[0]?.type === 4;
const lastText = (r: InteractionResult) => (r.followUps.at(-1) ?? r.original)?.content ?? '';
const privately = (r: InteractionResult) => r.ephemeral || Boolean((r.followUps.at(-1)?.flags ?? 0) & EPHEMERAL);
const buttons = (m: StoredMessage): Array<{ label: string; custom_id: string }> => m.components.flatMap((row) => row.components);

function helpers(get: () => BotHarness) {
  const imageCalls = () => get().gemini.requests.filter((q) => q.model === get().limner.config.generation.image_model);
  const textCalls = () => get().gemini.requests.filter((q) => q.model === get().limner.config.generation.text_model);
  async function variations(user: EmulatorUser, sub: string, options: Record<string, string | number>) {
    const r = await (await get().scene(sub, options, { user })).waitUntil(finished, 20_000);
    if (!r.original?.attachments.length) throw new Error(`variations failed: ${lastText(r)}`);
    const messageId = r.original.id;
    // Recorded just after the sheet is posted.
    const ids = await get().discord.waitFor(async () => {
      const found = await get().limner.links.sheetImages(messageId);
      return found.length > 0 && found;
    });
    return { r, message: r.original, ids };
  }
  async function click(user: EmulatorUser, message: StoredMessage, customId: string) {
    return get().discord.clickButton({ guildId: get().guildId, channelId: message.channel_id, user, messageId: message.id, customId });
  }
  return { imageCalls, textCalls, variations, click };
}

describe('variations: count on /scene current, turn and best', () => {
  let h: BotHarness;
  const t = helpers(() => h);
  beforeAll(async () => {
    h = await startBotHarness();
    await (await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.gm })).waitUntil((r) => Boolean(r.original));
  }, 30_000);
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(() => h.gemini.reset());

  it('count:4 writes one prompt, paints four pictures and shows them 2×2 with Use 1-4', async () => {
    const { r, message, ids } = await t.variations(h.users.ana, 'current', { context: 3, count: 4 });
    expect(t.textCalls()).toHaveLength(1);
    expect(t.imageCalls()).toHaveLength(4);
    expect(r.ephemeral).toBe(false);
    expect(r.history.some((s) => /^Painting… [0-4]\/4$/.test(s.content))).toBe(true);
    expect(message.embeds[0].title).toBe('Turn 2,160 · 4 variations');
    expect(message.attachments.map((a) => a.filename)).toEqual(['variations.jpg']);
    const sheet = await sharp(message.attachments[0]!.bytes).metadata();
    expect([sheet.width, sheet.height]).toEqual([2 * 640 + 3 * 12, 2 * (360 + 30) + 3 * 12]);
    expect(message.components).toHaveLength(1);
    expect(buttons(message).map((b) => b.label)).toEqual(['Use 1', 'Use 2', 'Use 3', 'Use 4']);
    expect(buttons(message).every((b) => b.custom_id.length <= 100)).toBe(true);

    // Stored like any other picture: one prompt, each its own row, in the gallery; no session moved yet.
    expect(ids).toHaveLength(4);
    const rows = await Promise.all(ids.map(async (id) => (await h.limner.images.get(id))!));
    expect(new Set(rows.map((row) => row.prompt)).size).toBe(1);
    expect(rows.every((row) => row.requestedBy === h.users.ana.id && row.mode === 'current' && row.turn === 2160)).toBe(true);
    expect((await h.limner.images.list((await h.limner.images.get(ids[0]!))!.campaignId as never)).map((row) => row.id)).toEqual(
      expect.arrayContaining(ids),
    );
    expect(await h.limner.sessions.get(h.users.ana.id, 'kraghammer')).toBeUndefined();
    // Each picture's painting is in the usage ledger, so budgets count all four.
    expect((await h.limner.usage.totals({ since: '1970-01-01T00:00:00.000Z', userId: h.users.ana.id })).images).toBe(4);
  });

  it('Use n: only the requester picks; the pick is posted full size and becomes their edit session', async () => {
    const { message, ids } = await t.variations(h.users.ana, 'current', { context: 2, count: 2 });
    const sheet = await sharp(message.attachments[0]!.bytes).metadata();
    expect([sheet.width, sheet.height]).toEqual([2 * 640 + 3 * 12, 360 + 30 + 2 * 12]);

    const refused = await (await t.click(h.users.bo, message, `scene-use:${ids[1]}:2`)).acknowledged();
    expect(privately(refused)).toBe(true);
    expect(lastText(refused)).toMatch(/Only the person who asked for these variations can pick one/);
    expect(await h.limner.sessions.get(h.users.bo.id, 'kraghammer')).toBeUndefined();

    const picked = await (await t.click(h.users.ana, message, `scene-use:${ids[1]}:2`)).waitUntil(finished, 15_000);
    expect(picked.ephemeral).toBe(false);
    expect(picked.original?.embeds[0].title).toBe('Turn 2,160 · variation 2');
    expect(picked.original?.attachments[0]!.filename).toMatch(/\.png$/);
    expect(buttons(picked.original!).map((b) => b.label)).toEqual(['Edit', 'Reroll', 'Undo', 'Edit prompt', 'Delete']);
    expect(await h.discord.waitFor(() => h.limner.links.imageOfMessage(picked.original!.id))).toBe(ids[1]);
    expect((await h.limner.sessions.get(h.users.ana.id, 'kraghammer'))?.currentImageId).toBe(ids[1]);
    expect(t.imageCalls()).toHaveLength(2);
  });

  it('count:3 on /scene turn lays three out in one row', async () => {
    const { message, ids } = await t.variations(h.users.bo, 'turn', { number: 1500, count: 3 });
    expect(ids).toHaveLength(3);
    expect(t.textCalls()).toHaveLength(1);
    const sheet = await sharp(message.attachments[0]!.bytes).metadata();
    expect([sheet.width, sheet.height]).toEqual([3 * 640 + 4 * 12, 360 + 30 + 2 * 12]);
    expect(message.embeds[0].title).toBe('Turn 1,500 · 3 variations');
    expect(buttons(message).map((b) => b.label)).toEqual(['Use 1', 'Use 2', 'Use 3']);
    expect(h.limner.store.db.select().from(sheetMessages).where(eq(sheetMessages.messageId, message.id)).all()).toHaveLength(3);
  });

  it('count:2 on /scene best scans once, writes one prompt and paints two', async () => {
    h.gemini.onText(scannerScript((lines) => (lines.some((l) => l.turn === 1500) ? 1500 : lines[0]!.turn)));
    const { message, ids } = await t.variations(h.users.gm, 'best', { count: 2 }).finally(() => h.gemini.onText(undefined));
    expect(ids).toHaveLength(2);
    expect(t.imageCalls()).toHaveLength(2);
    expect(t.textCalls().filter((q) => !isScanCall(q))).toHaveLength(1);
    expect((await h.limner.images.get(ids[0]!))!.mode).toBe('best');
    expect(buttons(message).map((b) => b.label)).toEqual(['Use 1', 'Use 2']);
  });

  it('keeps the variations that were painted when one fails', async () => {
    h.gemini.enqueue({ kind: 'finish', finishReason: 'IMAGE_SAFETY' }, { model: /image/ });
    const { message, ids } = await t.variations(h.users.ana, 'turn', { number: 20, count: 3 });
    expect(ids).toHaveLength(2);
    expect(message.content).toMatch(/^1 of the 3 variations could not be painted\./);
  });
});

describe('variations and budgets', () => {
  let h: BotHarness;
  const t = helpers(() => h);
  beforeAll(async () => {
    h = await startBotHarness({ budgets: { guild_daily_images: 3 } });
    await (await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.gm })).waitUntil((r) => Boolean(r.original));
  }, 30_000);
  afterAll(async () => {
    await h?.close();
  });

  it('a guild budget of 3 refuses count:4 privately before any model call, allows count:3, then refuses more', async () => {
    const refused = await (await h.scene('current', { count: 4 }, { user: h.users.ana })).acknowledged();
    expect(privately(refused)).toBe(true);
    expect(lastText(refused)).toMatch(/This needs 4 pictures and this server has 3 of its 3 left for today/);
    expect(h.gemini.requests).toHaveLength(0);

    const { ids } = await t.variations(h.users.ana, 'current', { count: 3 });
    expect(ids).toHaveLength(3);
    expect(t.imageCalls()).toHaveLength(3);

    const again = await (await h.scene('current', { count: 2 }, { user: h.users.bo })).acknowledged();
    expect(privately(again)).toBe(true);
    expect(lastText(again)).toMatch(/This server has used its 3 pictures for today/);
    expect(t.imageCalls()).toHaveLength(3);
  });
});
