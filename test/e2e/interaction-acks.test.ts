import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, afterEach, describe, expect, it, vi } from 'vitest';
import { channelCampaignId } from '../../src/campaigns/channel.ts';
import { parseCampaignId } from '../../src/campaigns/id.ts';
import type { NewImage } from '../../src/images/store.ts';
import type { InteractionHandle, InteractionResult } from '../emulators/discord/types.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';

const EPHEMERAL = 64;
const UNEXPECTED = /^Something went wrong on Limner's side \(error id `[0-9a-f]{8}`\)/;
/** The emulator's route of the webhook edits behind `editReply`. */
const EDIT_REPLY = { method: 'PATCH', route: '/webhooks/:app/:token/messages/:message' };
/** A REST error discord.js does not retry, so the command fails at once. */
const REFUSED = { status: 400, body: { message: 'Invalid Form Body', code: 50035 } };

let h: BotHarness;

const answered = (r: InteractionResult) => r.callbacks[0]?.type === 4 || r.followUps.length > 0 || Boolean(r.original?.content);
const lastText = (r: InteractionResult) => (r.followUps.at(-1) ?? r.original)?.content ?? '';
const privately = (r: InteractionResult) => r.ephemeral || Boolean((r.followUps.at(-1)?.flags ?? 0) & EPHEMERAL);

/** Index in the emulator's REST log of the first callback (acknowledgement) of an interaction. */
function ackIndex(handle: InteractionHandle): number {
  return h.discord.restCalls.findIndex((c) => c.path.startsWith(`/interactions/${handle.result.interactionId}/`));
}

/**
 * Records, for each `campaigns.load` (which reads a whole transcript or play-by-post story), how
 * long the emulator's REST log was then: compared with {@link ackIndex} it tells whether Discord had
 * its acknowledgement before the slow part began.
 */
function watchLoads(): number[] {
  const repository = h.limner.campaigns;
  const load = repository.load.bind(repository);
  const marks: number[] = [];
  vi.spyOn(repository, 'load').mockImplementation((id) => {
    marks.push(h.discord.restCalls.length);
    return load(id);
  });
  return marks;
}

beforeAll(async () => {
  h = await startBotHarness({ discord: { message_content_intent: true } });
}, 30_000);
afterAll(async () => {
  await h?.close();
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('slow work starts after the acknowledgement', () => {
  it('/scene link source:channel defers before reading the channel, and refuses privately after', async () => {
    const from = h.discord.restCalls.length;
    h.discord.failNext({
      method: 'GET',
      route: '/channels/:channel/messages',
      status: 403,
      body: { message: 'Missing Access', code: 50001 },
    });
    const handle = await h.scene('link', { source: 'channel' }, { user: h.users.gm });
    const r = await handle.waitUntil(answered);
    const firstRead = h.discord.restCalls.findIndex((c, i) => i >= from && c.method === 'GET' && c.route === '/channels/:channel/messages');
    expect(r.callbacks[0]!.type).toBe(5);
    expect(ackIndex(handle)).toBeLessThan(firstRead);
    expect(privately(r)).toBe(true);
    expect(lastText(r)).toMatch(/^Limner cannot read this channel's message history/);
    expect(await h.limner.links.get(h.channels.campaign)).toBeUndefined();
  });

  it('/scene link campaign:<id> defers before parsing the transcript', async () => {
    const loads = watchLoads();
    const handle = await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.gm, channelId: h.channels.general });
    const r = await handle.waitUntil(answered);
    expect(r.original!.content).toMatch(/^This channel now illustrates \*\*Arrival at Kraghammer\*\*/);
    expect(r.ephemeral).toBe(false);
    expect(loads.length).toBeGreaterThan(0);
    expect(ackIndex(handle)).toBeLessThan(loads[0]!);
  });

  it('"Illustrate this message" defers before reading the story, and refuses privately after', async () => {
    await (
      await h.scene('link', { source: 'channel' }, { user: h.users.gm })
    ).waitUntil((r) => /turns so far/.test(r.original?.content ?? ''), 15_000);
    const ooc = await h.discord.postUserMessage({ channelId: h.channels.campaign, user: h.users.ana, content: '((back in five))' });
    const loads = watchLoads();
    const handle = await h.discord.sendCommand({
      guildId: h.guildId,
      channelId: h.channels.campaign,
      user: h.users.bo,
      name: 'Illustrate this message',
      commandType: 3,
      targetId: ooc.id,
    });
    const r = await handle.waitUntil(answered);
    expect(r.callbacks[0]!.type).toBe(5);
    expect(ackIndex(handle)).toBeLessThan(loads[0]!);
    expect(privately(r)).toBe(true);
    expect(lastText(r)).toBe('That message is not part of the story: it starts with `((`, which marks it out of character.');
  });

  it('/scene character defers privately before reading the story, and a refusal fills in that private reply', async () => {
    const loads = watchLoads();
    const handle = await h.scene('character', { name: 'Grog', description: 'a goliath' }, { channelId: h.channels.general });
    const r = await handle.waitUntil(answered);
    expect(r.callbacks.map((c) => c.type)).toEqual([5]);
    expect(ackIndex(handle)).toBeLessThan(loads[0]!);
    // The deferred private reply itself says it: no follow-up, nothing left "thinking".
    expect(r.ephemeral).toBe(true);
    expect(r.followUps).toEqual([]);
    // In a campaign read from a transcript file it changes the cast, which needs Manage Server.
    expect(r.original!.content).toBe('Only members with **Manage Server** can manage the cast.');

    const registered = await (await h.scene('character', { name: 'Thorn', description: 'a half-elf ranger' })).waitUntil(answered);
    expect([registered.ephemeral, registered.followUps.length]).toEqual([true, 0]);
    expect(registered.original!.content).toMatch(/^You play \*\*Thorn\*\*/);
    expect((await h.limner.stories.characters(channelCampaignId(h.channels.campaign))).map((c) => c.name)).toEqual(['Thorn']);
  });
});

describe('failures after a component was acknowledged', () => {
  let gallery: NonNullable<InteractionResult['original']>;
  let pictureId: string;

  beforeAll(async () => {
    const base: NewImage = {
      campaignId: parseCampaignId('kraghammer'),
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
    for (let turn = 1; turn <= 13; turn++) {
      const png = await sharp(randomBytes(64 * 36 * 3), { raw: { width: 64, height: 36, channels: 3 } })
        .png()
        .toBuffer();
      pictureId = (await h.limner.images.save({ png, width: 64, height: 36 }, { ...base, turn })).id;
    }
    const r = await (
      await h.scene('gallery', {}, { channelId: h.channels.general })
    ).waitUntil((x) => Boolean(x.original?.attachments.length), 15_000);
    gallery = r.original!;
  }, 30_000);

  it('a gallery page that fails after deferUpdate keeps the gallery message and answers privately', async () => {
    h.discord.failNext({ ...EDIT_REPLY, ...REFUSED });
    const click = await h.discord.clickButton({
      guildId: h.guildId,
      channelId: h.channels.general,
      user: h.users.bo,
      messageId: gallery.id,
      customId: 'gallery:kraghammer::2',
    });
    const r = await click.waitUntil((x) => x.followUps.length > 0, 15_000);
    expect(r.callbacks.map((c) => c.type)).toEqual([6]);
    expect(r.followUps[0]!.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(r.followUps[0]!.content).toMatch(UNEXPECTED);
    const still = h.discord.message(gallery.id)!;
    expect(still.deleted).toBeFalsy();
    expect(still.content).toMatch(/page 1 of 2$/);
  });

  it('a lightbox that fails after its private defer says so in that reply', async () => {
    h.discord.failNext({ ...EDIT_REPLY, ...REFUSED });
    const open = await h.discord.selectMenu({
      guildId: h.guildId,
      channelId: h.channels.general,
      user: h.users.bo,
      messageId: gallery.id,
      customId: 'gallery-open',
      values: [pictureId],
    });
    const r = await open.waitUntil(answered, 15_000);
    expect(r.callbacks.map((c) => c.type)).toEqual([5]);
    expect([r.ephemeral, r.followUps.length]).toEqual([true, 0]);
    expect(r.original!.content).toMatch(UNEXPECTED);
  });
});
