/**
 * Drives an unmodified discord.js Client against the loopback Discord emulator: every flow here goes
 * over real HTTP and WebSocket, so a pass means the emulator speaks enough Discord for the bot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  ChannelType,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  LabelBuilder,
  MessageFlags,
  ModalBuilder,
  REST,
  Routes,
  TextInputBuilder,
  TextInputStyle,
  type Interaction,
  type Message,
} from 'discord.js';
import { DiscordEmulator, type EmulatorUser } from './discord/server.ts';

/** A valid 1×1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const gm: EmulatorUser = { id: '300000000000000001', username: 'gm', global_name: 'Game Master' };

let emu: DiscordEmulator;
let client: Client;
let guildId: string;
let channelId: string;
/** What the bot observed inside its handlers. */
const seen: Record<string, unknown> = {};
const handlerErrors: unknown[] = [];
const userMessages: Message[] = [];

/** A tiny bot exercising the interaction API surface Limner uses. */
async function onInteraction(i: Interaction): Promise<void> {
  if (i.isAutocomplete()) {
    const typed = String(i.options.getFocused()).toLowerCase();
    await i.respond(
      ['Tavern', 'Harbour', 'Tower'].filter((s) => s.toLowerCase().startsWith(typed)).map((s) => ({ name: s, value: s.toLowerCase() })),
    );
  } else if (i.isButton()) {
    await i.update({ content: `Approved by ${i.user.username}`, components: [] });
  } else if (i.isModalSubmit()) {
    await i.reply(`Prompt: ${i.fields.getTextInputValue('prompt')}`);
  } else if (i.isChatInputCommand()) {
    switch (i.commandName) {
      case 'illustrate':
        Object.assign(seen, {
          limit: i.attachmentSizeLimit,
          sub: i.options.getSubcommand(),
          turn: i.options.getInteger('number'),
          commandId: i.commandId,
        });
        await i.deferReply();
        await i.editReply('Rendering… 1/2');
        await i.editReply('Rendering… 2/2');
        await i.editReply({ content: 'Done', files: [new AttachmentBuilder(PNG, { name: 'scene.png' })] });
        break;
      case 'secret':
        await i.reply({ content: 'only you', flags: MessageFlags.Ephemeral });
        break;
      case 'upload': {
        seen.transcript = await (await fetch(i.options.getAttachment('transcript', true).url)).text();
        await i.deferReply();
        await i.editReply({ files: [new AttachmentBuilder(Buffer.alloc(2048), { name: 'big.bin' })] }).catch((err: unknown) => {
          seen.uploadError = err;
        });
        await i.followUp('File too large');
        break;
      }
      case 'panel':
        await i.reply({
          content: 'Approve?',
          components: [
            new ActionRowBuilder<ButtonBuilder>().addComponents(
              new ButtonBuilder().setCustomId('approve').setLabel('Approve').setStyle(ButtonStyle.Success),
            ),
          ],
        });
        break;
      case 'describe':
        await i.showModal(
          new ModalBuilder()
            .setCustomId('describe')
            .setTitle('Describe the scene')
            .addLabelComponents(
              new LabelBuilder()
                .setLabel('Prompt')
                .setTextInputComponent(new TextInputBuilder().setCustomId('prompt').setStyle(TextInputStyle.Paragraph)),
            ),
        );
        break;
    }
  }
}

async function login(intents: number[]): Promise<Client> {
  const c = new Client({ intents, rest: { api: emu.apiBase } });
  // Ready can fire before login() resolves, so listen first.
  const ready = new Promise<void>((resolve) => c.once(Events.ClientReady, () => resolve()));
  await c.login(emu.token);
  await ready;
  return c;
}

beforeAll(async () => {
  emu = await DiscordEmulator.start();
  const g = emu.addGuild({ name: 'The Table', channels: [{ name: 'session-log' }] });
  guildId = g.id;
  channelId = g.channels[0]!.id;
  emu.addMember(guildId, gm);
  client = await login([GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent]);
  client.on(Events.InteractionCreate, (i) => void onInteraction(i).catch((err: unknown) => handlerErrors.push(err)));
  client.on(Events.MessageCreate, (m) => void (m.author.bot || userMessages.push(m)));
});

afterAll(async () => {
  await client?.destroy();
  await emu?.close();
});

/** Where the injected interactions happen (read after beforeAll filled the ids). */
const at = () => ({ guildId, channelId, user: gm });

describe('discord emulator with a real discord.js client', () => {
  it('gets the client ready with the guild and channel cached', () => {
    expect(client.user?.id).toBe(emu.botUser.id);
    const channel = client.guilds.cache.get(guildId)?.channels.cache.get(channelId);
    expect(channel?.type).toBe(ChannelType.GuildText);
    expect(emu.gatewayConnected).toBe(true);
    expect(emu.gatewayIntents! & (1 << 15)).toBeTruthy();
  });

  it('stores commands registered over REST and uses their ids', async () => {
    const rest = new REST({ api: emu.apiBase }).setToken(emu.token);
    const body = [
      {
        name: 'illustrate',
        description: 'Draw a turn',
        options: [{ type: 1, name: 'turn', description: 'A turn', options: [{ type: 4, name: 'number', description: 'n' }] }],
      },
    ];
    const stored = (await rest.put(Routes.applicationGuildCommands(emu.applicationId, guildId), { body })) as Array<{
      id: string;
      name: string;
    }>;
    expect(stored.map((c) => c.name)).toEqual(['illustrate']);
    expect(emu.registeredCommands(guildId)[0]?.id).toBe(stored[0]?.id);
    await expect(new REST({ api: emu.apiBase }).setToken('wrong').get(Routes.user('@me'))).rejects.toMatchObject({ status: 401 });
  });

  it('runs a deferred slash command with progress edits and a PNG', async () => {
    const h = await emu.sendCommand({
      ...at(),
      name: 'illustrate',
      attachmentSizeLimit: 8_000_000,
      options: [{ type: 1, name: 'turn', options: [{ type: 4, name: 'number', value: 1500 }] }],
    });
    const r = await h.waitUntil((x) => (x.original?.attachments.length ?? 0) > 0);
    expect(seen).toMatchObject({ limit: 8_000_000, sub: 'turn', turn: 1500, commandId: emu.registeredCommands(guildId)[0]?.id });
    expect(r.callbacks.map((c) => c.type)).toEqual([5]);
    expect(r.history.map((s) => [s.content, s.attachments])).toEqual([
      ['Rendering… 1/2', []],
      ['Rendering… 2/2', []],
      ['Done', ['scene.png']],
    ]);
    const file = r.original!.attachments[0]!;
    expect(file).toMatchObject({ filename: 'scene.png', width: 1, height: 1, content_type: 'image/png' });
    const res = await fetch(file.url);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await res.arrayBuffer()).equals(PNG)).toBe(true);
    expect(emu.messages(channelId).at(-1)).toMatchObject({ id: r.original!.id, type: 20, interaction_id: r.interactionId });
  });

  it('records ephemeral replies and rejects a second callback with 40060', async () => {
    const r = await (await emu.sendCommand({ ...at(), name: 'secret' })).acknowledged();
    expect(r.ephemeral).toBe(true);
    expect(r.original?.flags).toBe(MessageFlags.Ephemeral);
    expect(emu.messages(channelId).some((m) => m.id === r.original?.id)).toBe(false);
    const again = new REST({ api: emu.apiBase }).post(Routes.interactionCallback(r.interactionId, r.token), {
      body: { type: 4, data: { content: 'again' } },
      auth: false,
    });
    await expect(again).rejects.toMatchObject({ code: 40060, status: 400 });
  });

  it('captures autocomplete choices', async () => {
    const h = await emu.sendAutocomplete({
      ...at(),
      name: 'illustrate',
      options: [{ type: 1, name: 'turn', options: [{ type: 3, name: 'scene', value: 'ta', focused: true }] }],
    });
    expect((await h.acknowledged()).autocompleteChoices).toEqual([{ name: 'Tavern', value: 'tavern' }]);
  });

  it('updates a message when its button is clicked', async () => {
    const panel = (await (await emu.sendCommand({ ...at(), name: 'panel' })).acknowledged()).original!;
    expect(panel.components[0].components[0]).toMatchObject({ custom_id: 'approve', type: 2 });
    const r = await (await emu.clickButton({ ...at(), messageId: panel.id, customId: 'approve' })).acknowledged();
    expect(r.callbacks[0]?.type).toBe(7);
    expect(emu.message(panel.id)).toMatchObject({ content: 'Approved by gm', components: [], edits: 1 });
    await expect(emu.clickButton({ ...at(), messageId: panel.id, customId: 'approve' })).rejects.toThrow(/no component/);
  });

  it('shows a modal and reads the submitted text input', async () => {
    const shown = await (await emu.sendCommand({ ...at(), name: 'describe' })).acknowledged();
    expect(shown.modal).toMatchObject({ custom_id: 'describe', title: 'Describe the scene' });
    const r = await (
      await emu.submitModal({ ...at(), customId: 'describe', fields: { prompt: 'A misty harbour at dawn' } })
    ).acknowledged();
    expect(r.original?.content).toBe('Prompt: A misty harbour at dawn');
  });

  it('delivers a user reply with an attachment the bot can download', async () => {
    const botMessage = emu.messages(channelId).find((m) => m.author.id === emu.botUser.id)!;
    const notes = Buffer.from('The party enters the crypt.');
    const sent = await emu.postUserMessage({
      channelId,
      user: gm,
      content: 'add this',
      replyTo: botMessage.id,
      attachments: [{ filename: 'notes.txt', bytes: notes }],
    });
    const m = await emu.waitFor(() => userMessages.find((x) => x.id === sent.id), { label: 'messageCreate' });
    expect(m.reference?.messageId).toBe(botMessage.id);
    expect(m.content).toBe('add this');
    const attachment = m.attachments.first()!;
    expect(attachment.name).toBe('notes.txt');
    expect(Buffer.from(await (await fetch(attachment.url)).arrayBuffer()).equals(notes)).toBe(true);
  });

  it('rejects an upload over the interaction attachment limit with 40005, then follows up', async () => {
    const h = await emu.sendCommand({
      ...at(),
      name: 'upload',
      attachmentSizeLimit: 1024,
      options: [{ type: 11, name: 'transcript', value: 0 }],
      attachments: [{ filename: 'session.txt', bytes: Buffer.from('Session 12') }],
    });
    const r = await h.waitUntil((x) => x.followUps.length > 0);
    expect(seen.transcript).toBe('Session 12');
    expect(seen.uploadError).toBeInstanceOf(DiscordAPIError);
    expect(seen.uploadError).toMatchObject({ code: 40005, status: 413 });
    expect(r.followUps[0]?.content).toBe('File too large');
  });

  it('delivers a message posted through a webhook, and its deletion', async () => {
    const got: Message[] = [];
    const deleted: string[] = [];
    const onCreate = (m: Message) => void got.push(m);
    const onDelete = (m: { id: string }) => void deleted.push(m.id);
    client.on(Events.MessageCreate, onCreate);
    client.on(Events.MessageDelete, onDelete);
    try {
      const sent = await emu.postWebhookMessage({
        channelId,
        webhookId: '320000000000000001',
        username: 'Thorn',
        content: 'I draw my bow.',
      });
      const m = await emu.waitFor(() => got.find((x) => x.id === sent.id), { label: 'webhook messageCreate' });
      expect([m.webhookId, m.author.id, m.author.username, m.author.bot, m.content]).toEqual([
        '320000000000000001',
        '320000000000000001',
        'Thorn',
        true,
        'I draw my bow.',
      ]);
      await emu.deleteUserMessage(sent.id);
      await emu.waitFor(() => deleted.includes(sent.id), { label: 'messageDelete' });
    } finally {
      client.off(Events.MessageCreate, onCreate);
      client.off(Events.MessageDelete, onDelete);
    }
  });

  it('pages channel history newest first', async () => {
    const channel = await client.channels.fetch(channelId);
    if (!channel?.isTextBased()) throw new Error('not a text channel');
    const all = emu.messages(channelId);
    const page = await channel.messages.fetch({ limit: 2, before: all.at(-1)!.id, cache: false });
    expect([...page.keys()]).toEqual([all.at(-2)!.id, all.at(-3)!.id]);
  });

  it('blanks content without the MessageContent intent unless the bot is mentioned', async () => {
    const plain = await login([GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages]);
    try {
      const got: Message[] = [];
      plain.on(Events.MessageCreate, (m) => void got.push(m));
      const a = await emu.postUserMessage({ channelId, user: gm, content: 'secret plans' });
      const b = await emu.postUserMessage({ channelId, user: gm, content: `<@${emu.botUser.id}> draw this` });
      await emu.waitFor(() => got.length >= 2);
      expect(got.find((m) => m.id === a.id)?.content).toBe('');
      expect(got.find((m) => m.id === b.id)?.content).toBe(`<@${emu.botUser.id}> draw this`);
    } finally {
      await plain.destroy();
    }
  });

  it('left no handler errors and hit no unhandled routes', () => {
    expect(handlerErrors).toEqual([]);
    expect(emu.unhandled).toEqual([]);
  });
});
