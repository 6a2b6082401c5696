import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startBot, type Bot } from '../../commands/bot/client.ts';
import { channelCampaignId } from '../../src/campaigns/channel.ts';
import type { Transcript } from '../../src/campaigns/transcript.ts';
import type { EmulatorUser, InteractionResult, StoredMessage } from '../emulators/discord/types.ts';
import type { RecordedRequest } from '../emulators/gemini/server.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';
import { isScanCall, scannerScript, shownLines } from '../support/scanner-script.ts';

const EPHEMERAL = 64;
const MENU = 'Illustrate this message';
/** Story messages written before the link, read back through the history endpoint (100 a page). */
const EARLIER = 1000;

const finished = (r: InteractionResult) => Boolean(r.original?.attachments.length) || r.followUps.length > 0 || r.callbacks[0]?.type === 4;
/** A final answer: an immediate reply, a follow-up, or a deferred reply that was filled in. */
const answered = (r: InteractionResult) => r.callbacks[0]?.type === 4 || r.followUps.length > 0 || Boolean(r.original?.content);
const lastText = (r: InteractionResult) => (r.followUps.at(-1) ?? r.original)?.content ?? '';
const privately = (r: InteractionResult) => r.ephemeral || Boolean((r.followUps.at(-1)?.flags ?? 0) & EPHEMERAL);
const messageLink = (m: StoredMessage) => `https://discord.com/channels/${m.guild_id}/${m.channel_id}/${m.id}`;
const requestText = (q: RecordedRequest): string => q.body.contents[0].parts.map((p: { text?: string }) => p.text ?? '').join('\n');

describe('play-by-post with the Message Content intent', () => {
  let h: BotHarness;
  let restarted: Bot | undefined;
  const dice: EmulatorUser = { id: '310000000000000009', username: 'dicebot', global_name: 'Dice', bot: true };
  /** Every story message posted in #campaign, in order (the first one starts the story). */
  const story: StoredMessage[] = [];
  let beforeStart: StoredMessage;
  let outOfCharacter: StoredMessage;

  const say = (user: EmulatorUser, content: string, channelId = h.channels.campaign) =>
    h.discord.postUserMessage({ channelId, user, content });
  const transcript = async (channelId = h.channels.campaign): Promise<Transcript> =>
    (await h.limner.campaigns.load(channelCampaignId(channelId))).transcript;
  const turnOf = async (m: StoredMessage, channelId = h.channels.campaign) =>
    (await transcript(channelId)).entries.find((e) => e.messageId === m.id)?.turn;
  const textCalls = () => h.gemini.requests.filter((q) => q.model === h.limner.config.generation.text_model && !isScanCall(q));
  const imageCalls = () => h.gemini.requests.filter((q) => q.model === h.limner.config.generation.image_model);
  const menu = (target: StoredMessage, user = h.users.bo) =>
    h.discord.sendCommand({ guildId: h.guildId, channelId: target.channel_id, user, name: MENU, commandType: 3, targetId: target.id });

  beforeAll(async () => {
    h = await startBotHarness({ discord: { message_content_intent: true } });
    const players = [h.users.gm, h.users.ana, h.users.bo];
    beforeStart = await say(h.users.gm, 'Session zero: we agree on the house rules.');
    for (let i = 1; i <= EARLIER; i++) {
      story.push(await say(players[i % 3]!, `Story message ${i}: the party presses on through the marsh.`));
      if (i % 40 === 0) await say(h.users.ana, '((brb, pizza is here))');
      if (i % 50 === 0) await say(dice, 'Ana rolled 1d20: 17');
    }
    outOfCharacter = await say(h.users.bo, '  (( is everyone around on Friday? ))');
  }, 60_000);
  afterAll(async () => {
    await restarted?.stop();
    await h?.close();
  });
  beforeEach(() => h.gemini.reset());

  it('refuses a start message of another channel, privately', async () => {
    const elsewhere = await say(h.users.gm, 'Not the story.', h.channels.general);
    const r = await (await h.scene('link', { source: 'channel', start: messageLink(elsewhere) }, { user: h.users.gm })).waitUntil(answered);
    expect(privately(r)).toBe(true);
    expect(lastText(r)).toMatch(/is not a message of this channel/);
    expect(await h.limner.links.get(h.channels.campaign)).toBeUndefined();
  });

  it('links a channel from a named message and reads its 1,000 earlier story messages across history pages', async () => {
    const pagesBefore = h.discord.restCalls.filter((c) => c.method === 'GET' && c.route === '/channels/:channel/messages').length;
    const r = await (
      await h.scene('link', { source: 'channel', start: messageLink(story[0]!) }, { user: h.users.gm })
    ).waitUntil((x) => /turns so far/.test(x.original?.content ?? ''), 20_000);
    expect(r.ephemeral).toBe(false);
    const id = channelCampaignId(h.channels.campaign);
    expect(r.original!.content).toContain(
      `This channel's messages are now the story of **#campaign** (\`${id}\`): 1,000 turns so far, from the message you named.`,
    );
    expect(r.original!.content).toContain('messages starting with `((` (out of character) are left out');
    expect(await h.limner.links.get(h.channels.campaign)).toMatchObject({ campaignId: id });
    // 1,000 story messages, 25 out-of-character and 20 dice rolls after the start: 11 pages of 100, plus the permission probe.
    const pages = h.discord.restCalls.filter((c) => c.method === 'GET' && c.route === '/channels/:channel/messages').length - pagesBefore;
    expect(pages).toBe(12);

    const yaml = parseYaml(readFileSync(path.join(h.limner.config.campaigns_dir, id, 'campaign.yaml'), 'utf8'));
    expect(yaml).toMatchObject({
      name: '#campaign',
      source: { kind: 'channel', guild_id: h.guildId, channel_id: h.channels.campaign, start_id: story[0]!.id },
    });

    const t = await transcript();
    expect(t.entries).toHaveLength(EARLIER);
    expect(t.entries[0]).toMatchObject({
      turn: 1,
      speaker: 'Ana',
      text: 'Story message 1: the party presses on through the marsh.',
      messageId: story[0]!.id,
    });
    expect(t.entries.at(-1)).toMatchObject({ turn: 1000, speaker: 'Ana', messageId: story.at(-1)!.id });
    expect(t.entries.map((e) => e.speaker)).not.toContain('Dice');
    expect(t.entries.some((e) => e.text.includes('((') || e.text.includes('Session zero'))).toBe(false);
  });

  it('records live messages, edits and deletions, and leaves out-of-character and bot messages out', async () => {
    const live = await say(h.users.ana, 'The door of the drowned chapel creaks open.');
    await say(h.users.bo, '((sorry, phone call))');
    await say(dice, 'Bo rolled 1d20: 3');
    await vi.waitFor(async () => expect(await turnOf(live)).toBe(1001));
    expect((await transcript()).entries).toHaveLength(1001);

    await h.discord.editUserMessage(live.id, 'The door of the drowned chapel bursts open in a spray of black water.');
    await vi.waitFor(async () => expect((await transcript()).entries.at(-1)!.text).toMatch(/bursts open/));

    const doomed = story[9]!;
    await h.discord.deleteUserMessage(doomed.id);
    await vi.waitFor(async () => expect(await turnOf(doomed)).toBeUndefined());
    const after = await transcript();
    expect(after.entries).toHaveLength(1000);
    // Turns are the story's messages in order: the ones after the deleted message move up.
    expect(after.entries[9]!.messageId).toBe(story[10]!.id);
    expect(await turnOf(live)).toBe(1000);

    // /scene turn autocompletes with previews of the messages, newest first.
    const choices = (await h.autocomplete('turn', { name: 'number', value: '', type: 4 })).autocompleteChoices!;
    expect(choices[0]).toEqual({
      name: 'Turn 1000 · Ana: The door of the drowned chapel bursts open in a spray of black water.',
      value: 1000,
    });
    const found = (await h.autocomplete('turn', { name: 'number', value: 'chapel', type: 4 })).autocompleteChoices!;
    expect(found.map((c) => c.value)).toEqual([1000]);
  });

  it('registers a character whose look, name and portrait go with the next picture', async () => {
    const portrait = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 30, g: 140, b: 60 } } })
      .png()
      .toBuffer();
    const handle = await h.discord.sendCommand({
      guildId: h.guildId,
      channelId: h.channels.campaign,
      user: h.users.ana,
      name: 'scene',
      options: [
        {
          type: 1,
          name: 'character',
          options: [
            { type: 3, name: 'name', value: 'Thorn' },
            { type: 3, name: 'description', value: 'a wiry half-elf ranger in a moss-green hooded cloak' },
            { type: 11, name: 'portrait', value: 0 },
          ],
        },
      ],
      attachments: [{ filename: 'thorn.png', bytes: portrait }],
    });
    const registered = await handle.waitUntil((r) => r.followUps.length > 0 || /Thorn/.test(r.original?.content ?? ''));
    expect(privately(registered)).toBe(true);
    expect(lastText(registered)).toMatch(/^You play \*\*Thorn\*\* in \*\*#campaign\*\*/);

    const r = await (await h.scene('current', { context: 4 }, { user: h.users.bo })).waitUntil(finished, 15_000);
    expect(r.original?.attachments).toHaveLength(1);
    const prompt = requestText(textCalls()[0]!);
    expect(prompt).toContain('- Thorn: a wiry half-elf ranger in a moss-green hooded cloak');
    expect(prompt).toContain('] Thorn: The door of the drowned chapel bursts open');
    expect(prompt).not.toContain('] Ana:');
    const references = imageCalls()[0]!.body.contents[0].parts.filter((p: { inlineData?: unknown }) => p.inlineData);
    expect(references).toHaveLength(1);
    expect((await sharp(Buffer.from(references[0].inlineData.data, 'base64')).stats()).channels[1]!.mean).toBeGreaterThan(120);
  });

  it('"Illustrate this message" illustrates the turns around the message, and explains a message that is not story', async () => {
    // Story message 501 is Matt's.
    const target = story[500]!;
    const turn = (await turnOf(target))!;
    const r = await (await menu(target)).waitUntil(finished, 15_000);
    expect(r.callbacks[0]!.type).toBe(5);
    expect(r.original!.attachments[0]!.filename).toBe(`campaign_turn_${turn}_specific.png`);
    expect(r.original!.embeds[0].title).toBe(`Turn ${turn} · Matt's message`);
    const prompt = requestText(textCalls()[0]!);
    expect(prompt).toContain(`Illustrate the moment of turn ${turn};`);
    const shown = [...prompt.matchAll(/^\[Turn (\d+)\]/gm)].map((m) => Number(m[1]));
    expect(shown).toEqual(Array.from({ length: 11 }, (_, i) => turn - 5 + i));
    expect((await h.limner.images.list(channelCampaignId(h.channels.campaign))).filter((i) => i.mode === 'specific')).toMatchObject([
      { turn, requestedBy: h.users.bo.id },
    ]);

    h.gemini.reset();
    const ooc = await (await menu(outOfCharacter)).waitUntil(answered);
    expect(privately(ooc)).toBe(true);
    expect(lastText(ooc)).toBe('That message is not part of the story: it starts with `((`, which marks it out of character.');
    const early = await (await menu(beforeStart)).waitUntil(answered);
    expect(lastText(early)).toBe("That message is not part of the story: it was posted before the story's start.");
    expect(h.gemini.requests).toHaveLength(0);
  });

  it('/scene best reads the channel, answers from the cache, and reads again after an edit', async () => {
    const dragon = await say(h.users.gm, 'A dragon of green glass rises from the marsh, moonlight splintering through its wings.');
    await vi.waitFor(async () => expect(await turnOf(dragon)).toBeDefined());
    const turn = (await turnOf(dragon))!;
    h.gemini.onText(scannerScript((lines) => lines.find((l) => /dragon|serpent/.test(l.text))?.turn ?? lines[0]!.turn));

    const first = await (await h.scene('best')).waitUntil(finished, 15_000);
    expect(first.original!.embeds[0].title).toBe(`Turn ${turn.toLocaleString('en-US')} · best scene`);
    expect(first.original!.embeds[0].fields[0].value).toMatch(/^> \*\*Matt:\*\* A dragon of green glass/);
    expect(h.gemini.requests.filter(isScanCall).length).toBeGreaterThan(0);

    h.gemini.reset();
    h.gemini.onText(scannerScript((lines) => lines.find((l) => /dragon|serpent/.test(l.text))?.turn ?? lines[0]!.turn));
    const cached = await (await h.scene('best')).waitUntil(finished, 15_000);
    expect(cached.original!.embeds[0].title).toBe(`Turn ${turn.toLocaleString('en-US')} · best scene`);
    expect(h.gemini.requests.filter(isScanCall)).toEqual([]);

    await h.discord.editUserMessage(dragon.id, 'A serpent of green glass rises from the marsh, moonlight splintering through its coils.');
    await vi.waitFor(async () => expect((await transcript()).entries[turn - 1]!.text).toMatch(/^A serpent/));
    h.gemini.reset();
    h.gemini.onText(scannerScript((lines) => lines.find((l) => /dragon|serpent/.test(l.text))?.turn ?? lines[0]!.turn));
    const again = await (await h.scene('best')).waitUntil(finished, 15_000);
    const scans = h.gemini.requests.filter(isScanCall);
    expect(scans.length).toBeGreaterThan(0);
    expect(scans.flatMap((q) => shownLines(q)).find((l) => l.turn === turn)?.text).toMatch(/^A serpent of green glass/);
    expect(again.original!.embeds[0].fields[0].value).toMatch(/^> \*\*Matt:\*\* A serpent of green glass/);
  });

  it('links a thread: its own story from now on, apart from its parent channel', async () => {
    const thread = await h.discord.addThread({ parentId: h.channels.general, name: 'side-quest' });
    const linked = await (
      await h.scene('link', { source: 'channel' }, { user: h.users.gm, channelId: thread.id })
    ).waitUntil((x) => /turns so far/.test(x.original?.content ?? ''));
    expect(linked.original!.content).toContain(`the story of **#side-quest** (\`ch-${thread.id}\`): 0 turns so far, from now on.`);

    const empty = await (await h.scene('current', {}, { channelId: thread.id })).acknowledged();
    expect(lastText(empty)).toMatch(/^There is no story to illustrate yet/);

    const inThread = await say(h.users.bo, 'Bo slips into the smugglers’ cave alone.', thread.id);
    await say(h.users.ana, 'Meanwhile, in the main hall, nothing happens.', h.channels.general);
    await vi.waitFor(async () => expect(await turnOf(inThread, thread.id)).toBe(1));
    expect((await transcript(thread.id)).entries).toHaveLength(1);

    const r = await (await h.scene('current', {}, { channelId: thread.id })).waitUntil(finished, 15_000);
    expect(r.original!.attachments[0]!.filename).toBe('side-quest_turn_1_current.png');
    expect(requestText(textCalls()[0]!)).toContain('[Turn 1] Bo: Bo slips into the smugglers’ cave alone.');
  });

  it('registers "Illustrate this message" beside /scene, and keeps /scene character in a transcript campaign for Manage Server', async () => {
    expect(h.discord.registeredCommands(h.guildId).map((c) => [c.name, c.type])).toEqual([
      ['scene', 1],
      [MENU, 3],
    ]);
    await (
      await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.gm, channelId: h.channels.general })
    ).waitUntil((r) => Boolean(r.original));
    const r = await (
      await h.scene('character', { name: 'Grog', description: 'a goliath' }, { channelId: h.channels.general })
    ).waitUntil(answered);
    expect(privately(r)).toBe(true);
    expect(lastText(r)).toBe('Only members with **Manage Server** can manage the cast.');
  });

  it('after downtime, reads the messages posted while it was away; relinking also drops those deleted meanwhile', async () => {
    await h.bot.stop();
    const missed = [
      await say(h.users.ana, 'While the bot sleeps, Thorn climbs the bell tower.'),
      await say(h.users.gm, 'The bell tolls thirteen times.'),
    ];
    const gone = story[20]!;
    await h.discord.deleteUserMessage(gone.id);
    restarted = startBot(h.limner, h.discord.token);
    await restarted.ready;
    await vi.waitFor(async () => expect(await turnOf(missed[1]!)).toBeDefined(), { timeout: 5000 });
    const t = await transcript();
    expect(t.entries.slice(-2).map((e) => [e.speaker, e.text])).toEqual([
      ['Thorn', 'While the bot sleeps, Thorn climbs the bell tower.'],
      ['Matt', 'The bell tolls thirteen times.'],
    ]);
    // Catching up reads what is new; a deletion made while away is seen when the channel is linked again.
    expect(await turnOf(gone)).toBeDefined();
    const relinked = await (
      await h.scene('link', { source: 'channel' }, { user: h.users.gm })
    ).waitUntil((x) => /turns so far/.test(x.original?.content ?? ''), 20_000);
    expect(relinked.original!.content).toContain(
      `${(t.entries.length - 1).toLocaleString('en-US')} turns so far, from the same start as before.`,
    );
    expect(await turnOf(gone)).toBeUndefined();
    expect((await transcript()).entries[0]!.messageId).toBe(story[0]!.id);
  });
});

describe('play-by-post without the Message Content intent', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('refuses to link a channel as the story, privately, with how to enable the intent', async () => {
    const r = await (await h.scene('link', { source: 'channel' }, { user: h.users.gm })).acknowledged();
    expect(privately(r)).toBe(true);
    expect(lastText(r)).toMatch(/^Play-by-post needs the \*\*Message Content\*\* intent/);
    expect(lastText(r)).toContain('`discord.message_content_intent: true`');
    expect(await h.limner.links.get(h.channels.campaign)).toBeUndefined();
    expect(existsSync(path.join(h.limner.config.campaigns_dir, channelCampaignId(h.channels.campaign)))).toBe(false);
  });
});
