import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { channelCampaignId } from '../../src/campaigns/channel.ts';
import type { EmulatorUser, InteractionResult, StoredMessage, UploadFile } from '../emulators/discord/types.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';

let h: BotHarness;
/** A server outside Discord that a hostile attachment URL or redirect points at; `hits` counts its requests. */
let elsewhere: { server: Server; url: string; hits: number };
let png: Buffer;
/** Ana's picture in #general (campaign kraghammer): her edit session, and the picture replies go to. */
let picture: StoredMessage;

const drawn = (r: InteractionResult) => Boolean(r.original?.attachments.length);
const answered = (r: InteractionResult) => r.callbacks[0]?.type === 4 || r.followUps.length > 0 || Boolean(r.original?.content);
const lastText = (r: InteractionResult) => (r.followUps.at(-1) ?? r.original)?.content ?? '';
const botAnswersTo = (m: StoredMessage) =>
  h.discord.messages(m.channel_id).filter((x) => x.author.id === h.discord.botUser.id && x.message_reference?.message_id === m.id);
/** The bot's reply to a user message once `done` holds for it. */
const botReply = (m: StoredMessage, done: (x: StoredMessage) => boolean) =>
  h.discord.waitFor(() => botAnswersTo(m).find(done), { timeoutMs: 15_000, label: `bot reply to ${m.id}` });

/** A new picture's message, once the bot has recorded it (just after the upload's answer): replies to it ask for edits. */
async function generate(user: EmulatorUser, channelId: string): Promise<StoredMessage> {
  const r = await (await h.scene('current', { context: 3 }, { user, channelId })).waitUntil(drawn, 15_000);
  await h.discord.waitFor(() => h.limner.links.imageOfMessage(r.original!.id), { label: 'scene message recorded' });
  return r.original!;
}

function sceneEditWith(reference: UploadFile) {
  return h.discord.sendCommand({
    guildId: h.guildId,
    channelId: h.channels.general,
    user: h.users.ana,
    name: 'scene',
    options: [
      {
        type: 1,
        name: 'edit',
        options: [
          { type: 3, name: 'prompt', value: 'add this banner' },
          { type: 11, name: 'reference', value: 0 },
        ],
      },
    ],
    attachments: [reference],
  });
}

beforeAll(async () => {
  png = await sharp({ create: { width: 16, height: 16, channels: 3, background: { r: 200, g: 30, b: 30 } } })
    .png()
    .toBuffer();
  const server = createServer((_req, res) => {
    elsewhere.hits++;
    res.writeHead(200, { 'content-type': 'image/png' }).end(png);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  elsewhere = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: 0 };

  h = await startBotHarness({ discord: { message_content_intent: true } });
  await (await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.gm, channelId: h.channels.general })).waitUntil(answered);
  picture = await generate(h.users.ana, h.channels.general);
}, 30_000);
afterAll(async () => {
  await h?.close();
  elsewhere?.server.closeAllConnections();
  await new Promise((resolve) => elsewhere?.server.close(resolve));
});

describe('reference downloads', () => {
  it("refuses an attachment that is not on Discord's attachment hosts without fetching it", async () => {
    const r = await (
      await sceneEditWith({ filename: 'banner.png', bytes: png, url: `${elsewhere.url}/banner.png` })
    ).waitUntil(answered, 15_000);
    expect(r.ephemeral).toBe(true);
    expect(lastText(r)).toBe(
      `"banner.png" is not stored on Discord's attachment servers, so Limner did not download it. Attach the image to your message instead.`,
    );
    expect(elsewhere.hits).toBe(0);
  });

  it('follows no redirect from an attachment host', async () => {
    const reply = await h.discord.postUserMessage({
      channelId: h.channels.general,
      user: h.users.ana,
      content: 'add this banner',
      replyTo: picture.id,
      attachments: [{ filename: 'hop.png', bytes: png, redirectTo: `${elsewhere.url}/banner.png` }],
    });
    const answer = await botReply(reply, (m) => m.content.startsWith('"hop.png"'));
    expect(answer.content).toBe('"hop.png" could not be downloaded from Discord. Please try again.');
    expect(elsewhere.hits).toBe(0);
  });

  it('counts the references of a reply before downloading any', async () => {
    const before = h.discord.fileRequests.length;
    const reply = await h.discord.postUserMessage({
      channelId: h.channels.general,
      user: h.users.ana,
      content: 'use all of these',
      replyTo: picture.id,
      attachments: Array.from({ length: 14 }, (_, i) => ({ filename: `ref${i}.png`, bytes: png })),
    });
    const answer = await botReply(reply, (m) => m.content.startsWith('Too many'));
    expect(answer.content).toMatch(/^Too many reference images \(14\)/);
    expect(h.discord.fileRequests.slice(before)).toEqual([]);
  });
});

describe('forwards', () => {
  it('a forward of a scene picture is not a reply: it asks for no edit', async () => {
    const forward = await h.discord.postUserMessage({
      channelId: h.channels.general,
      user: h.users.bo,
      content: '',
      forwardOf: picture.id,
    });
    expect(forward.message_reference).toMatchObject({ type: 1, message_id: picture.id });
    // A reply posted after it is answered, so the forward was seen and passed over by then.
    const reply = await h.discord.postUserMessage({
      channelId: h.channels.general,
      user: h.users.bo,
      content: 'make it night',
      replyTo: picture.id,
    });
    await botReply(reply, (m) => m.attachments.length > 0);
    expect(botAnswersTo(forward)).toEqual([]);
  });

  it('in a play-by-post channel, a forward of a picture is not taken for an edit request either', async () => {
    await (
      await h.scene('link', { source: 'channel' }, { user: h.users.gm })
    ).waitUntil((r) => /turns so far/.test(r.original?.content ?? ''), 15_000);
    const campaign = channelCampaignId(h.channels.campaign);
    const story = await h.discord.postUserMessage({
      channelId: h.channels.campaign,
      user: h.users.ana,
      content: 'The bridge gives way under the troll.',
    });
    await vi.waitFor(async () =>
      expect((await h.limner.campaigns.load(campaign)).transcript.entries.map((e) => e.messageId)).toEqual([story.id]),
    );
    const shown = await generate(h.users.ana, h.channels.campaign);

    const forward = await h.discord.postUserMessage({ channelId: h.channels.campaign, user: h.users.bo, content: '', forwardOf: shown.id });
    const menu = await h.discord.sendCommand({
      guildId: h.guildId,
      channelId: h.channels.campaign,
      user: h.users.bo,
      name: 'Illustrate this message',
      commandType: 3,
      targetId: forward.id,
    });
    const r = await menu.waitUntil(answered, 15_000);
    expect(lastText(r)).toBe('That message is not part of the story: it has no text to read.');
    expect(botAnswersTo(forward)).toEqual([]);
  });
});
