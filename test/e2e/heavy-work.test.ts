import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { heavyWork } from '../../commands/bot/heavy-work.ts';
import { parseCampaignId } from '../../src/campaigns/id.ts';
import type { NewImage } from '../../src/images/store.ts';
import type { ImageRow } from '../../src/platform/schema.ts';
import type { InteractionResult } from '../emulators/discord/types.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';

const kraghammer = parseCampaignId('kraghammer');
let h: BotHarness;
/** The one picture larger than the small upload limits used below. */
let big: ImageRow;

/** A PNG of random pixels (about width x height x 3 bytes: noise does not compress). */
async function noise(width: number, height: number) {
  const png = await sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  return { png, width, height };
}

/** Takes every slot of the bot's heavy-work queue until `release` is called. */
function occupyHeavyWork(): { release: () => void } {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  for (let i = 0; i < heavyWork.concurrency; i++) void heavyWork(() => held);
  return { release };
}

const drawn = (r: InteractionResult) => Boolean(r.original?.attachments.length);

beforeAll(async () => {
  h = await startBotHarness();
  await (await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.gm })).waitUntil((r) => Boolean(r.original));
  const base: NewImage = {
    campaignId: kraghammer,
    turn: 1,
    mode: 'specific',
    prompt: 'A lantern-lit hall.',
    provider: 'gemini',
    model: 'gemini-3.1-flash-image',
    textModel: 'gemini-3.5-flash',
    inputTokens: 10,
    outputTokens: 1120,
    costUsd: 0.04,
    requestedBy: h.users.ana.id,
  };
  for (let turn = 1; turn <= 13; turn++) await h.limner.images.save(await noise(64, 36), { ...base, turn });
  big = await h.limner.images.save(await noise(300, 200), { ...base, turn: 14 });
}, 30_000);
afterAll(async () => {
  await h?.close();
});

describe('the shared heavy-work queue', () => {
  it('holds gallery pages, pager clicks and export parts back while it is full, after acknowledging them', async () => {
    const first = await (await h.scene('gallery')).waitUntil(drawn, 15_000);
    const message = first.original!;

    const busy = occupyHeavyWork();
    const gallery = await h.scene('gallery');
    const next = await h.discord.clickButton({
      guildId: h.guildId,
      channelId: h.channels.campaign,
      user: h.users.bo,
      messageId: message.id,
      customId: 'gallery:kraghammer::2',
    });
    const exported = await h.scene('export');
    // Each waits its turn in the queue once Discord has its acknowledgement.
    await vi.waitFor(() => expect(heavyWork.pendingCount).toBe(3));
    expect([
      (await gallery.acknowledged()).callbacks[0]!.type,
      (await next.acknowledged()).callbacks[0]!.type,
      (await exported.acknowledged()).callbacks[0]!.type,
    ]).toEqual([5, 6, 5]);
    expect(gallery.result.original).toBeUndefined();
    expect(next.result.history).toEqual([]);
    expect(exported.result.followUps).toEqual([]);

    busy.release();
    await gallery.waitUntil(drawn, 15_000);
    await next.waitUntil((r) => r.history.some((s) => s.content.endsWith('page 2 of 2')), 15_000);
    const done = await exported.waitUntil((r) => Boolean(r.original?.content.startsWith('Exported')), 15_000);
    expect(done.followUps.flatMap((m) => m.attachments.map((a) => a.filename))).toEqual(['Arrival_at_Kraghammer_images.zip']);
    expect(heavyWork.activeCount + heavyWork.pendingCount).toBe(0);
  });
});

describe('what pictures too large for the channel are said to become', () => {
  it('the lightbox says export here has a JPEG of it, not the PNG', async () => {
    const limit = Math.floor(big.bytes / 2);
    const page = await (await h.scene('gallery', { page: 2 })).waitUntil(drawn, 15_000);
    const open = await h.discord.selectMenu({
      guildId: h.guildId,
      channelId: h.channels.campaign,
      user: h.users.bo,
      messageId: page.original!.id,
      customId: 'gallery-open',
      values: [big.id],
      attachmentSizeLimit: limit,
    });
    const box = await open.waitUntil((r) => Boolean(r.original?.embeds.length), 15_000);
    expect(box.original!.content).toBe(
      "Showing a compressed preview (WEBP): the PNG is over this channel's upload limit, so `/scene export` here includes it as a high-quality JPEG. The PNG stays on the server.",
    );
    expect(box.original!.attachments[0]!.size).toBeLessThanOrEqual(limit);

    const exported = await (
      await h.scene('export', {}, { attachmentSizeLimit: limit })
    ).waitUntil((r) => Boolean(r.original?.content.startsWith('Exported')), 15_000);
    const note = exported.original!.content.split('\n')[1];
    expect(note).toBe(
      "1 picture is larger than Discord's upload limit here, so the zip has a high-quality JPEG; the original PNG stays on the server with the bot's operator.",
    );
    expect(exported.original!.content).not.toMatch(/limner|CLI/);
  });

  it('an empty campaign has no pictures to download', async () => {
    await h.limner.campaigns.create('empty-vault', { name: 'Empty Vault' }, [{ turn: 1, speaker: 'GM', text: 'Silence.' }]);
    const r = await (await h.scene('export', { campaign: 'empty-vault' })).waitUntil((x) => Boolean(x.original));
    expect([r.ephemeral, r.original!.content]).toEqual([true, 'No pictures to download.']);
  });
});
