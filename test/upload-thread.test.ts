import {
  Events,
  GatewayIntentBits,
  AttachmentBuilder,
  Client,
  DiscordAPIError,
  EmbedBuilder,
  InteractionWebhook,
  REST,
  Routes,
  type RepliableInteraction,
} from 'discord.js';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UploadThread } from '../commands/bot/upload-thread.ts';
import { startsBelowMainThread } from './support/threads.ts';
import { DiscordEmulator } from './emulators/discord/server.ts';

/**
 * The upload thread against the Discord emulator: discord.js' `MessagePayload` on this side,
 * `@discordjs/rest` on the worker, the emulator's REST v10 on loopback.
 */
describe('UploadThread', () => {
  let discord: DiscordEmulator;
  let client: Client;
  let channelId: string;
  let guildId: string;
  const user = { id: '310000000000000002', username: 'ana' };

  beforeAll(async () => {
    discord = await DiscordEmulator.start();
    const guild = discord.addGuild({ channels: [{ name: 'campaign' }] });
    guildId = guild.id;
    channelId = guild.channels[0]!.id;
    // A logged-in client with no handlers: the emulator dispatches interactions only to a connected bot.
    client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: discord.apiBase } });
    await new Promise<void>((resolve, reject) => {
      client.once(Events.ClientReady, () => resolve());
      client.login(discord.token).catch(reject);
    });
  });
  afterAll(async () => {
    await client.destroy();
    await discord.close();
  });

  /** An interaction as the upload thread reads it: its webhook and token. */
  async function interaction(defer: boolean, on = discord): Promise<{ fake: RepliableInteraction; id: string }> {
    const handle = await on.sendCommand({ guildId, channelId, user, name: 'scene' });
    const { interactionId: id, token } = handle.result;
    if (defer) await new REST({ api: on.apiBase }).post(Routes.interactionCallback(id, token), { body: { type: 5 }, auth: false });
    const webhook = new InteractionWebhook(client as Client<true>, on.applicationId, token);
    return { fake: { webhook, token } as unknown as RepliableInteraction, id };
  }

  it("fills a deferred reply with the picture, its embed and content, as discord.js' editReply would", async () => {
    const png = await sharp({ create: { width: 64, height: 36, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    const { fake } = await interaction(true);
    const thread = UploadThread.for({ api: discord.apiBase, version: '10' });
    const message = await thread.editReply(fake, {
      content: 'Here it is',
      embeds: [new EmbedBuilder().setTitle('Turn 1').setImage('attachment://turn_1.png')],
      files: [new AttachmentBuilder(png, { name: 'turn_1.png' })],
      components: [],
    });
    expect(message.content).toBe('Here it is');
    expect(message.channel_id).toBe(channelId);
    const stored = discord.message(message.id)!;
    expect(stored.attachments.map((a) => a.filename)).toEqual(['turn_1.png']);
    const served = Buffer.from(await (await fetch(stored.attachments[0]!.url)).arrayBuffer());
    expect(served.equals(png)).toBe(true);
    expect(stored.embeds[0].image.url).toBe(stored.attachments[0]!.url);
    // The bytes were copied to the worker, not moved: the caller's picture is intact.
    expect(png.byteLength).toBeGreaterThan(0);
  });

  it.runIf(process.platform === 'linux')('runs at a lower CPU priority once the bot asks for it', async () => {
    const { fake } = await interaction(true);
    // Options of their own: a thread of its own, started now.
    const thread = UploadThread.for({ api: discord.apiBase, version: '10', timeout: 14_000 });
    expect(await startsBelowMainThread(() => thread.editReply(fake, { content: 'x', embeds: [], files: [], components: [] }))).toBe(true);
  });

  it("waits out a 429 and tells onRateLimited, as discord.js' rateLimited event would", async () => {
    const { fake } = await interaction(true);
    // Options of their own: a thread of its own, so only this test's waits are heard.
    const thread = UploadThread.for({ api: discord.apiBase, version: '10', timeout: 13_000 });
    const heard: Array<{ global: boolean }> = [];
    thread.onRateLimited((info) => heard.push({ global: info.global }));
    discord.failNext({
      method: 'PATCH',
      route: '/webhooks/:app/:token/messages/:message',
      status: 429,
      body: { message: 'You are being rate limited.', retry_after: 0.2, global: false },
      headers: {
        'retry-after': '0.2',
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset-after': '0.2',
        'x-ratelimit-bucket': 'upload-test',
        'x-ratelimit-scope': 'user',
      },
    });
    const message = await thread.editReply(fake, { content: 'after the wait', embeds: [], files: [], components: [] });
    expect(message.content).toBe('after the wait');
    expect(heard).toEqual([{ global: false }]);
  });

  it("rejects with Discord's error, rebuilt as a DiscordAPIError", async () => {
    const { fake } = await interaction(false);
    const thread = UploadThread.for({ api: discord.apiBase, version: '10' });
    const err = await thread.editReply(fake, { content: 'never shown', embeds: [], files: [], components: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscordAPIError);
    expect((err as DiscordAPIError).code).toBe(10015);
    expect((err as DiscordAPIError).status).toBe(404);
  });

  it('against an emulator that keeps no upload bytes (the whole-bot bench), the file still has its size and dimensions', async () => {
    const lean = await DiscordEmulator.start({
      keepUploadBytes: false,
      applicationId: discord.applicationId,
      botUser: discord.botUser,
      token: discord.token,
    });
    const g = lean.addGuild({ id: guildId, channels: [{ id: channelId, name: 'campaign' }] });
    const bot = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: lean.apiBase } });
    try {
      await new Promise<void>((resolve, reject) => {
        bot.once(Events.ClientReady, () => resolve());
        bot.login(lean.token).catch(reject);
      });
      const png = await sharp({
        create: { width: 800, height: 450, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } },
      })
        .png()
        .toBuffer();
      const { fake } = await interaction(true, lean);
      const message = await UploadThread.for({ api: lean.apiBase, version: '10' }).editReply(fake, {
        content: '',
        embeds: [],
        files: [new AttachmentBuilder(png, { name: 'big.png' })],
        components: [],
      });
      const [file] = message.attachments;
      expect([file?.size, file?.width, file?.height, g.channels[0]!.id]).toEqual([png.byteLength, 800, 450, channelId]);
      expect(lean.message(message.id)!.attachments[0]!.bytes.byteLength).toBeLessThan(png.byteLength);
    } finally {
      await bot.destroy();
      await lean.close();
    }
  });
});
