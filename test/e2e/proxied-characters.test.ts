import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { channelCampaignId } from '../../src/campaigns/channel.ts';
import type { Transcript } from '../../src/campaigns/transcript.ts';
import type { EmulatorUser, InteractionResult, StoredMessage } from '../emulators/discord/types.ts';
import type { RecordedRequest } from '../emulators/gemini/server.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';

const MENU = 'Illustrate this message';
/** The channel webhook a proxy bot posts through (one per channel, whoever's character speaks). */
const PROXY_WEBHOOK = '320000000000000001';

const finished = (r: InteractionResult) => Boolean(r.original?.attachments.length) || r.followUps.length > 0;
const messageLink = (m: StoredMessage) => `https://discord.com/channels/${m.guild_id}/${m.channel_id}/${m.id}`;
const requestText = (q: RecordedRequest): string => q.body.contents[0].parts.map((p: { text?: string }) => p.text ?? '').join('\n');

describe('play-by-post through proxy bots, narrator bots and other bots', () => {
  let h: BotHarness;
  const narrator: EmulatorUser = { id: '310000000000000020', username: 'sage', global_name: 'RPG Sage', bot: true };
  const dice: EmulatorUser = { id: '310000000000000009', username: 'dicebot', global_name: 'Dice', bot: true };

  const transcript = async (): Promise<Transcript> => (await h.limner.campaigns.load(channelCampaignId(h.channels.campaign))).transcript;
  /**
   * What Tupperbox does: the player writes with their proxy tag, the proxy re-posts the words through
   * the channel's webhook under the character's name, then deletes the player's message.
   */
  const proxied = async (player: EmulatorUser, as: string, words: string): Promise<StoredMessage> => {
    const original = await h.discord.postUserMessage({
      channelId: h.channels.campaign,
      user: player,
      content: `${as.toLowerCase()}: ${words}`,
    });
    const posted = await h.discord.postWebhookMessage({
      channelId: h.channels.campaign,
      webhookId: PROXY_WEBHOOK,
      username: as,
      content: words,
    });
    await h.discord.deleteUserMessage(original.id);
    return posted;
  };
  const imageCalls = () => h.gemini.requests.filter((q) => q.model === h.limner.config.generation.image_model);
  const promptCalls = () => h.gemini.requests.filter((q) => q.model === h.limner.config.generation.text_model);

  beforeAll(async () => {
    h = await startBotHarness({ discord: { message_content_intent: true }, play_by_post: { narrator_bots: [narrator.id] } });
  }, 30_000);
  afterAll(async () => h?.close());
  beforeEach(() => h.gemini.reset());

  it('reads proxied messages once each, under the name they were posted as, from the history and live', async () => {
    // Written before the link: the history Limner reads no longer has the players' deleted originals.
    const first = await proxied(h.users.ana, 'Thorn', 'I creep along the ridge toward the wyvern nest.');
    await proxied(h.users.bo, 'Grog', 'I follow, loudly.');
    await h.discord.postUserMessage({ channelId: h.channels.campaign, user: narrator, content: 'The wyvern lifts its head.' });
    await h.discord.postUserMessage({ channelId: h.channels.campaign, user: dice, content: 'Grog rolled 1d20: 2' });
    await (
      await h.scene('link', { source: 'channel', start: messageLink(first) }, { user: h.users.gm })
    ).waitUntil((r) => /turns so far/.test(r.original?.content ?? ''), 15_000);

    // Live: each original is recorded, then removed when the proxy deletes it.
    const live = await proxied(h.users.ana, 'Thorn', 'I loose an arrow into its eye.');
    await h.discord.postUserMessage({ channelId: h.channels.campaign, user: narrator, content: 'The wyvern crashes into the pines.' });
    await h.discord.postUserMessage({ channelId: h.channels.campaign, user: dice, content: 'Thorn rolled 1d20: 19' });
    await vi.waitFor(async () => expect((await transcript()).entries.at(-1)?.text).toBe('The wyvern crashes into the pines.'));
    const t = await transcript();
    expect(t.entries.map((e) => [e.speaker, e.text])).toEqual([
      ['Thorn', 'I creep along the ridge toward the wyvern nest.'],
      ['Grog', 'I follow, loudly.'],
      ['RPG Sage', 'The wyvern lifts its head.'],
      ['Thorn', 'I loose an arrow into its eye.'],
      ['RPG Sage', 'The wyvern crashes into the pines.'],
    ]);
    expect(t.entries[3]!.messageId).toBe(live.id);

    // An edit through the proxy is an edit of the turn.
    await h.discord.editUserMessage(live.id, 'I loose an arrow into its burning eye.');
    await vi.waitFor(async () => expect((await transcript()).entries[3]!.text).toBe('I loose an arrow into its burning eye.'));
  });

  it('gives a registered character with a proxy name its proxied turns, description and portrait', async () => {
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
            { type: 3, name: 'name', value: 'Thorn Ashvale' },
            { type: 3, name: 'description', value: 'a wiry half-elf ranger in a moss-green hooded cloak' },
            { type: 11, name: 'portrait', value: 0 },
            { type: 3, name: 'proxy', value: 'Thorn' },
          ],
        },
      ],
      attachments: [{ filename: 'thorn.png', bytes: portrait }],
    });
    const registered = await handle.waitUntil((r) => /Thorn Ashvale/.test(r.original?.content ?? ''));
    expect(registered.original!.content).toMatch(/your messages and those posted as “Thorn” read as Thorn Ashvale's/);
    expect((await transcript()).entries.map((e) => e.speaker)).toEqual(['Thorn Ashvale', 'Grog', 'RPG Sage', 'Thorn Ashvale', 'RPG Sage']);

    const r = await (await h.scene('current', { context: 5 }, { user: h.users.bo })).waitUntil(finished, 15_000);
    expect(r.original?.attachments).toHaveLength(1);
    const prompt = requestText(promptCalls()[0]!);
    expect(prompt).toContain('- Thorn Ashvale: a wiry half-elf ranger in a moss-green hooded cloak');
    expect(prompt).toContain('] Thorn Ashvale: I loose an arrow into its burning eye.');
    const references = imageCalls()[0]!.body.contents[0].parts.filter((p: { inlineData?: unknown }) => p.inlineData);
    expect(references).toHaveLength(1);
    expect((await sharp(Buffer.from(references[0].inlineData.data, 'base64')).stats()).channels[1]!.mean).toBeGreaterThan(120);
  });

  it('"Illustrate this message" works on a proxied message, and explains an unlisted bot\'s', async () => {
    const t = await transcript();
    const target = h.discord.message(t.entries[3]!.messageId!)!;
    const menu = (m: StoredMessage) =>
      h.discord.sendCommand({ guildId: h.guildId, channelId: m.channel_id, user: h.users.bo, name: MENU, commandType: 3, targetId: m.id });
    const r = await (await menu(target)).waitUntil(finished, 15_000);
    expect(r.original!.embeds[0].title).toBe("Turn 4 · Thorn Ashvale's message");
    expect(imageCalls()).toHaveLength(1);

    h.gemini.reset();
    const roll = h.discord.messages(h.channels.campaign).findLast((m) => m.author.id === dice.id)!;
    const refused = await (await menu(roll)).waitUntil((x) => Boolean(x.original?.content) || x.followUps.length > 0);
    expect((refused.followUps.at(-1) ?? refused.original)!.content).toBe(
      'That message is not part of the story: it was written by a bot (the operator can list narrator bots in `play_by_post.narrator_bots`).',
    );
    expect(h.gemini.requests).toHaveLength(0);
  });

  it("reads proxied messages in a linked thread as that thread's story", async () => {
    const thread = await h.discord.addThread({ parentId: h.channels.general, name: 'side-quest' });
    await (
      await h.scene('link', { source: 'channel' }, { user: h.users.gm, channelId: thread.id })
    ).waitUntil((r) => /turns so far/.test(r.original?.content ?? ''));
    const original = await h.discord.postUserMessage({ channelId: thread.id, user: h.users.bo, content: 'g: Grog kicks the door in.' });
    await h.discord.postWebhookMessage({
      channelId: thread.id,
      webhookId: PROXY_WEBHOOK,
      username: 'Grog',
      content: 'Grog kicks the door in.',
    });
    await h.discord.deleteUserMessage(original.id);
    const story = async () => (await h.limner.campaigns.load(channelCampaignId(thread.id))).transcript.entries;
    await vi.waitFor(async () => expect((await story()).map((e) => [e.speaker, e.text])).toEqual([['Grog', 'Grog kicks the door in.']]));
  });
});
