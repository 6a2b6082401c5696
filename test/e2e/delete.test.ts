import { existsSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { images, usage, type ImageRow } from '../../src/platform/schema.ts';
import type { EmulatorUser, InteractionResult, StoredMessage } from '../emulators/discord/types.ts';
import { startBot } from '../../commands/bot/client.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';

const EPHEMERAL = 64;
/** Manage Messages (1 << 13) with the default member's view and send. */
const MODERATOR = (1n << 10n) | (1n << 11n) | (1n << 13n);
const finished = (r: InteractionResult) => Boolean(r.original?.attachments.length) || r.followUps.length > 0 || r.callbacks[0]?.type === 4;
const answered = (r: InteractionResult) => r.followUps.length > 0 || Boolean(r.original?.content);
const lastText = (r: InteractionResult) => (r.followUps.at(-1) ?? r.original)?.content ?? '';
const privately = (r: InteractionResult) => r.ephemeral || Boolean((r.followUps.at(-1)?.flags ?? 0) & EPHEMERAL);

describe('deleting pictures', () => {
  let h: BotHarness;
  const mod: EmulatorUser = { id: '310000000000000009', username: 'mod', global_name: 'Mod' };
  const click = (user: EmulatorUser, message: StoredMessage, customId: string) =>
    h.discord.clickButton({ guildId: h.guildId, channelId: message.channel_id, user, messageId: message.id, customId });
  const row = (id: string) => h.limner.store.db.select().from(images).where(eq(images.id, id)).get()!;
  const inGallery = async (id: string) => (await h.limner.images.list('kraghammer' as never)).some((r) => r.id === id);

  async function shown(r: InteractionResult): Promise<{ message: StoredMessage; image: ImageRow }> {
    if (!r.original?.attachments.length) throw new Error(`no picture: ${lastText(r)}`);
    const id = await h.discord.waitFor(() => h.limner.links.imageOfMessage(r.original!.id));
    return { message: r.original, image: (await h.limner.images.get(id))! };
  }
  const generate = async (user: EmulatorUser, turn = 1500) =>
    shown(await (await h.scene('turn', { number: turn }, { user })).waitUntil(finished, 15_000));
  const edit = async (user: EmulatorUser, prompt: string) =>
    shown(
      await (
        await h.discord.sendCommand({
          guildId: h.guildId,
          channelId: h.channels.campaign,
          user,
          name: 'scene',
          options: [{ type: 1, name: 'edit', options: [{ type: 3, name: 'prompt', value: prompt }] }],
        })
      ).waitUntil(finished, 15_000),
    );

  beforeAll(async () => {
    h = await startBotHarness();
    h.discord.addMember(h.guildId, mod, { permissions: MODERATOR });
    await (await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.gm })).waitUntil((r) => Boolean(r.original));
  }, 30_000);
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(() => h.gemini.reset());

  it('Delete by the creator: the message goes, the picture leaves gallery, export and sessions, the file goes to the trash', async () => {
    await generate(h.users.gm, 5);
    const { message, image } = await generate(h.users.ana);
    const spent = h.limner.store.db.select().from(usage).where(eq(usage.imageId, image.id)).all();
    expect(spent).toHaveLength(1);
    const before = (await h.limner.exports.plan({ campaignId: 'kraghammer' })).imageCount;

    const r = await (await click(h.users.ana, message, `scene-delete:${image.id}`)).waitUntil(answered);
    expect(privately(r)).toBe(true);
    expect(lastText(r)).toBe(
      'Deleted the picture of turn 1,500 (specific): it has left the gallery and exports. Its file is kept for 7 days, then removed.',
    );
    expect(await h.discord.waitFor(() => h.discord.message(message.id)?.deleted)).toBe(true);
    expect(await h.limner.images.get(image.id)).toBeUndefined();
    expect(await inGallery(image.id)).toBe(false);
    expect((await h.limner.exports.plan({ campaignId: 'kraghammer' })).imageCount).toBe(before - 1);
    expect(await h.limner.sessions.get(h.users.ana.id, 'kraghammer')).toBeUndefined();
    // Who and when are on record; the PNG is in the trash; the spend still counts.
    const deleted = row(image.id);
    expect(deleted).toMatchObject({ deletedBy: h.users.ana.id, imagePath: `kraghammer/images/trash/${image.id}.png` });
    expect(Date.parse(deleted.deletedAt!)).toBeGreaterThan(Date.parse(image.createdAt) - 1);
    expect(existsSync(h.limner.images.location(image.imagePath))).toBe(false);
    expect(existsSync(h.limner.images.location(deleted.imagePath))).toBe(true);
    expect(h.limner.store.db.select().from(usage).where(eq(usage.imageId, image.id)).all()).toEqual(spent);
  });

  it("refuses someone else's Delete privately; a member with Manage Messages may delete it", async () => {
    const { message, image } = await generate(h.users.ana, 20);
    const refused = await (await click(h.users.bo, message, `scene-delete:${image.id}`)).acknowledged();
    expect(privately(refused)).toBe(true);
    expect(lastText(refused)).toMatch(/Only the person who made this picture, or someone with \*\*Manage Messages\*\*/);
    expect(h.discord.message(message.id)?.deleted).toBeFalsy();
    expect(await inGallery(image.id)).toBe(true);

    const r = await (await click(mod, message, `scene-delete:${image.id}`)).waitUntil(answered);
    expect(lastText(r)).toMatch(/^Deleted the picture of turn 20/);
    expect(await h.discord.waitFor(() => h.discord.message(message.id)?.deleted)).toBe(true);
    expect(row(image.id).deletedBy).toBe(mod.id);
  });

  it("/scene delete removes the caller's latest picture; with none it says so privately", async () => {
    await generate(h.users.bo, 30);
    const latest = await generate(h.users.bo, 31);
    const r = await (await h.scene('delete', {}, { user: h.users.bo })).waitUntil(answered);
    expect(privately(r)).toBe(true);
    expect(lastText(r)).toMatch(/^Deleted the picture of turn 31/);
    expect(await h.discord.waitFor(() => h.discord.message(latest.message.id)?.deleted)).toBe(true);
    expect(await h.limner.images.get(latest.image.id)).toBeUndefined();

    const none = await (await h.scene('delete', {}, { user: mod })).acknowledged();
    expect(privately(none)).toBe(true);
    expect(lastText(none)).toMatch(/You have no picture in this channel's campaign to delete/);
  });

  it('moves sessions on a deleted edit back to its parent; Undo from a child of a deleted picture says the parent is gone', async () => {
    const first = await generate(h.users.ana, 40);
    const child = await edit(h.users.ana, 'make it night');
    expect((await h.limner.sessions.get(h.users.ana.id, 'kraghammer'))?.currentImageId).toBe(child.image.id);
    await (await click(h.users.ana, child.message, `scene-delete:${child.image.id}`)).waitUntil(answered);
    expect((await h.limner.sessions.get(h.users.ana.id, 'kraghammer'))?.currentImageId).toBe(first.image.id);

    const again = await edit(h.users.ana, 'add snow');
    await (await click(h.users.ana, first.message, `scene-delete:${first.image.id}`)).waitUntil(answered);
    const undo = await (await click(h.users.ana, again.message, `scene-undo:${again.image.id}`)).waitUntil(answered);
    expect(privately(undo)).toBe(true);
    expect(lastText(undo)).toBe('The picture this one was made from has been deleted, so there is nothing to go back to.');
  });

  it('redraws a contact sheet without a deleted variation, and removes it with the last one', async () => {
    const r = await (await h.scene('turn', { number: 50, count: 2 }, { user: h.users.bo })).waitUntil(finished, 15_000);
    const sheet = r.original!;
    const ids = await h.discord.waitFor(async () => {
      const found = await h.limner.links.sheetImages(sheet.id);
      return found.length === 2 && found;
    });
    await (await h.scene('delete', {}, { user: h.users.bo })).waitUntil(answered);
    const live = await Promise.all(ids.map((id) => h.limner.images.get(id)));
    const gone = ids.find((_, i) => !live[i])!;
    const kept = ids.find((id) => id !== gone)!;
    const redrawn = await h.discord.waitFor(() => {
      const m = h.discord.message(sheet.id);
      return m && m.components[0]?.components.length === 1 && m;
    });
    expect(redrawn.components[0].components[0].custom_id).toBe(`scene-use:${kept}:${ids.indexOf(kept) + 1}`);
    expect(redrawn.attachments.map((a) => a.filename)).toEqual(['variations.jpg']);

    await (await h.scene('delete', {}, { user: h.users.bo })).waitUntil(answered);
    expect(await h.discord.waitFor(() => h.discord.message(sheet.id)?.deleted)).toBe(true);
  });

  it('purges trashed files older than images.trash_days at start-up; the rows stay', async () => {
    const { message, image } = await generate(h.users.gm, 60);
    await (await click(h.users.gm, message, `scene-delete:${image.id}`)).waitUntil(answered);
    const trashed = row(image.id);
    const file = h.limner.images.location(trashed.imagePath);
    expect(await h.limner.deletions.purgeTrash()).toEqual([]);
    expect(existsSync(file)).toBe(true);
    const eightDaysAgo = new Date(Date.now() - 8 * 86_400_000).toISOString();
    h.limner.store.db.update(images).set({ deletedAt: eightDaysAgo }).where(eq(images.id, image.id)).run();
    // A second start of the bot (the first one is still connected; this test is the file's last).
    const restarted = startBot(h.limner, h.discord.token);
    try {
      await restarted.ready;
    } finally {
      await restarted.stop();
    }
    expect(existsSync(file)).toBe(false);
    expect(row(image.id).deletedBy).toBe(h.users.gm.id);
  });
});
