import { randomBytes } from 'node:crypto';
import { REST, Routes } from 'discord.js';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CHOOSE_CAMPAIGN } from '../../commands/errors.ts';
import { NOT_LINKED } from '../../commands/scene.ts';
import { channelCampaignId } from '../../src/campaigns/channel.ts';
import { parseCampaignId, type CampaignId } from '../../src/campaigns/id.ts';
import type { NewImage } from '../../src/images/store.ts';
import type { ImageRow } from '../../src/platform/schema.ts';
import type { EmulatorUser, InteractionResult, StoredMessage } from '../emulators/discord/types.ts';
import { MANAGE_GUILD, startBotHarness, type BotHarness } from '../support/bot-harness.ts';

const EPHEMERAL = 64;

let h: BotHarness;
/** A second server: its GM may link channels there, and must never reach the first server's play-by-post campaign. */
let other: { guildId: string; tavern: string; hall: string };
const rival: EmulatorUser = { id: '320000000000000001', username: 'rival', global_name: 'Rival GM' };
/** The first server's play-by-post campaign (`ch-<#campaign id>`) and one of its pictures. */
let secret: CampaignId;
let secretPicture: ImageRow;

const answered = (r: InteractionResult) => r.callbacks[0]?.type === 4 || r.followUps.length > 0 || Boolean(r.original?.content);
const lastText = (r: InteractionResult) => (r.followUps.at(-1) ?? r.original)?.content ?? '';
const privately = (r: InteractionResult) => r.ephemeral || Boolean((r.followUps.at(-1)?.flags ?? 0) & EPHEMERAL);
const notFound = () => `No campaign named "${secret}".`;

/** `/scene <sub>` in the other server (the harness's own helper only reaches the first). */
async function otherScene(
  sub: string,
  options: Record<string, string | number> = {},
  channelId = other.tavern,
): Promise<InteractionResult> {
  const handle = await h.discord.sendCommand({
    guildId: other.guildId,
    channelId,
    user: rival,
    name: 'scene',
    options: [
      {
        type: 1,
        name: sub,
        options: Object.entries(options).map(([name, value]) => ({ name, value, type: typeof value === 'number' ? 4 : 3 })),
      },
    ],
  });
  return handle.waitUntil(answered, 15_000);
}

/** Autocomplete choices for `/scene <sub>` while `value` is typed into `option`, in either server. */
async function choices(sub: string, option: string, value: string, where: { guildId: string; channelId: string; user: EmulatorUser }) {
  const handle = await h.discord.sendAutocomplete({
    ...where,
    name: 'scene',
    options: [{ type: 1, name: sub, options: [{ name: option, value, type: 3, focused: true }] }],
  });
  return ((await handle.acknowledged()).autocompleteChoices ?? []).map((c) => c.value);
}

beforeAll(async () => {
  h = await startBotHarness({ discord: { message_content_intent: true } });
  const guild = h.discord.addGuild({ name: 'Other Table', ownerId: rival.id, channels: [{ name: 'tavern' }, { name: 'hall' }] });
  h.discord.addMember(guild.id, rival, { permissions: (1n << 10n) | (1n << 11n) | MANAGE_GUILD });
  other = { guildId: guild.id, tavern: guild.channels[0]!.id, hall: guild.channels[1]!.id };
  await vi.waitFor(() => expect(h.bot.client.guilds.cache.has(other.guildId)).toBe(true));

  await (
    await h.scene('link', { source: 'channel' }, { user: h.users.gm })
  ).waitUntil((r) => /turns so far/.test(r.original?.content ?? ''), 15_000);
  secret = channelCampaignId(h.channels.campaign);
  const base: NewImage = {
    campaignId: secret,
    turn: 1,
    mode: 'specific',
    prompt: 'Private: the party hides the stolen crown under the floorboards.',
    provider: 'gemini',
    model: 'gemini-3.1-flash-image',
    textModel: 'gemini-3.5-flash',
    inputTokens: 10,
    outputTokens: 1120,
    costUsd: 0.04,
    requestedBy: h.users.ana.id,
  };
  const png = async () => ({
    png: await sharp(randomBytes(64 * 36 * 3), { raw: { width: 64, height: 36, channels: 3 } })
      .png()
      .toBuffer(),
    width: 64,
    height: 36,
  });
  secretPicture = await h.limner.images.save(await png(), base);
  for (let turn = 2; turn <= 13; turn++) await h.limner.images.save(await png(), { ...base, turn });
  await h.limner.images.save(await png(), { ...base, campaignId: parseCampaignId('kraghammer') });
}, 30_000);
afterAll(async () => {
  await h?.close();
});

describe("another server's play-by-post campaign", () => {
  it('cannot be linked: refused privately, word for word as a campaign that does not exist', async () => {
    const r = await otherScene('link', { campaign: secret });
    expect(privately(r)).toBe(true);
    expect(lastText(r)).toBe(notFound());
    expect(await h.limner.links.get(other.tavern)).toBeUndefined();
    const missing = await otherScene('link', { campaign: 'ch-123456789012345678' });
    expect(lastText(missing)).toBe('No campaign named "ch-123456789012345678".');
  });

  it('is offered by no autocomplete there, and still is at home', async () => {
    const there = { guildId: other.guildId, channelId: other.tavern, user: rival };
    const home = { guildId: h.guildId, channelId: h.channels.general, user: h.users.gm };
    expect(await choices('link', 'campaign', '', there)).toEqual(['kraghammer']);
    expect(await choices('link', 'campaign', '', home)).toEqual([secret, 'kraghammer']);
    for (const sub of ['gallery', 'export']) {
      expect(await choices(sub, 'campaign', '', there)).toEqual(['kraghammer']);
      expect(await choices(sub, 'campaign', '', home)).toEqual([secret, 'kraghammer']);
    }
  });

  it('cannot be browsed or exported by name there, and can at home', async () => {
    for (const sub of ['gallery', 'export']) {
      const r = await otherScene(sub, { campaign: secret });
      expect([privately(r), lastText(r)]).toEqual([true, notFound()]);
      expect(r.original?.attachments ?? []).toEqual([]);
    }
    const home = await (
      await h.scene('gallery', { campaign: secret }, { channelId: h.channels.general })
    ).waitUntil((r) => Boolean(r.original?.attachments.length), 15_000);
    expect(home.original!.content).toBe('**#campaign** · 13 pictures · page 1 of 2');
  });

  it('a link made to it before links were checked counts as no link', async () => {
    await h.limner.links.link({ channelId: other.hall, guildId: other.guildId, campaignId: secret, linkedBy: rival.id });
    for (const sub of ['gallery', 'export']) expect(lastText(await otherScene(sub, {}, other.hall))).toBe(notFound());
    for (const [sub, options] of [
      ['current', {}],
      ['character', { name: 'Spy', description: 'a hooded figure' }],
    ] as const) {
      const r = await otherScene(sub, options, other.hall);
      expect([privately(r), lastText(r)]).toEqual([true, NOT_LINKED]);
    }
    const turns = await h.discord.sendAutocomplete({
      guildId: other.guildId,
      channelId: other.hall,
      user: rival,
      name: 'scene',
      options: [{ type: 1, name: 'turn', options: [{ name: 'number', value: '', type: 4, focused: true }] }],
    });
    expect((await turns.acknowledged()).autocompleteChoices).toEqual([]);
    const said = await h.discord.postUserMessage({ channelId: other.hall, user: rival, content: 'What are they up to?' });
    const menu = await h.discord.sendCommand({
      guildId: other.guildId,
      channelId: other.hall,
      user: rival,
      name: 'Illustrate this message',
      commandType: 3,
      targetId: said.id,
    });
    expect(lastText(await menu.waitUntil(answered))).toBe(NOT_LINKED);
    expect(h.gemini.requests).toEqual([]);
    await h.limner.links.unlink(other.hall);
    expect(lastText(await otherScene('gallery', {}, other.hall))).toBe(CHOOSE_CAMPAIGN);
  });

  it('is not reached through the pager or the lightbox of a gallery message posted before links were checked', async () => {
    const posted = (await new REST({ api: h.discord.apiBase }).setToken(h.discord.token).post(Routes.channelMessages(other.tavern), {
      body: {
        content: `**#campaign** · 13 pictures · page 1 of 2`,
        components: [
          {
            type: 1,
            components: [{ type: 3, custom_id: 'gallery-open', options: [{ label: 'Turn 1 · specific', value: secretPicture.id }] }],
          },
          { type: 1, components: [{ type: 2, style: 2, custom_id: `gallery:${secret}::2`, label: 'Next' }] },
        ],
      },
    })) as { id: string };
    const message = h.discord.message(posted.id) as StoredMessage;
    const at = { guildId: other.guildId, channelId: other.tavern, user: rival, messageId: message.id };

    const next = await (await h.discord.clickButton({ ...at, customId: `gallery:${secret}::2` })).waitUntil(answered);
    expect(next.callbacks.map((c) => c.type)).toEqual([4]);
    expect([privately(next), lastText(next)]).toEqual([true, notFound()]);
    expect(h.discord.message(message.id)!.edits).toBe(0);

    const open = await (await h.discord.selectMenu({ ...at, customId: 'gallery-open', values: [secretPicture.id] })).waitUntil(answered);
    expect([privately(open), lastText(open)]).toEqual([true, 'That picture is no longer available.']);
    expect(open.original!.embeds).toEqual([]);
    expect(open.original!.attachments).toEqual([]);
  });
});
