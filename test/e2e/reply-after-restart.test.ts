import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot, type Bot } from '../../commands/bot/client.ts';
import type { InteractionResult, StoredMessage } from '../emulators/discord/types.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';

const failed = (r: InteractionResult) => r.followUps.length > 0 || r.callbacks[0]?.type === 4;
const linked = (r: InteractionResult) => failed(r) || /now illustrates/.test(r.original?.content ?? '');
const painted = (r: InteractionResult) => failed(r) || Boolean(r.original?.attachments.length);

/**
 * Replies to a picture arrive as messages, which discord.js emits only for channels it has cached
 * (from GUILD_CREATE's channels and threads after a restart): checked through the real client.
 */
describe('a reply to a picture after a restart', () => {
  let h: BotHarness;
  let thread: { id: string };
  let restarted: Bot | undefined;

  beforeAll(async () => {
    h = await startBotHarness();
    thread = await h.discord.addThread({ parentId: h.channels.campaign, name: 'side quest' });
    for (const channelId of [h.channels.campaign, thread.id]) {
      const r = await (await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.gm, channelId })).waitUntil(linked, 15_000);
      expect(r.original?.content).toMatch(/now illustrates/);
    }
  }, 30_000);
  afterAll(async () => {
    await restarted?.stop();
    await h?.close();
  });

  /** A scene painted in `channelId`, its message once recorded against its picture. */
  async function picture(channelId: string): Promise<{ message: StoredMessage; imageId: string }> {
    const r = await (await h.scene('current', { context: 3 }, { user: h.users.ana, channelId })).waitUntil(painted, 15_000);
    const message = r.original!;
    expect(message.attachments).toHaveLength(1);
    const imageId = await h.discord.waitFor(() => h.limner.links.imageOfMessage(message.id), { label: 'picture recorded' });
    return { message, imageId };
  }

  it('is still handled in a guild channel and in a thread, without a command there first', async () => {
    const shown = [await picture(h.channels.campaign), await picture(thread.id)];
    await h.bot.stop();
    restarted = startBot(h.limner, h.discord.token);
    await restarted.ready;

    for (const { message, imageId } of shown) {
      const reply = await h.discord.postUserMessage({
        channelId: message.channel_id,
        user: h.users.bo,
        content: 'put a blue banner on the wall',
        replyTo: message.id,
      });
      const answer = await h.discord.waitFor(
        () =>
          h.discord
            .messages(message.channel_id)
            .find((m) => m.author.id === h.discord.botUser.id && m.message_reference?.message_id === reply.id && m.attachments.length > 0),
        { timeoutMs: 15_000, label: `bot reply in ${message.channel_id}` },
      );
      const made = await h.discord.waitFor(() => h.limner.links.imageOfMessage(answer.id), { label: 'edit recorded' });
      expect(await h.limner.images.get(made)).toMatchObject({
        parentImageId: imageId,
        mode: 'edit',
        prompt: 'put a blue banner on the wall',
      });
    }
  });
});
