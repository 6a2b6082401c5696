import { sqliteOf } from '../support/fixtures.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { INTERRUPTED_TEXT, LATE_TEXT, postUndelivered, recoverInterruptedJobs } from '../../commands/bot/recover.ts';
import type { InteractionResult } from '../emulators/discord/types.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';

const finished = (r: InteractionResult) => Boolean(r.original?.attachments.length) || r.followUps.length > 0 || r.callbacks[0]?.type === 4;
const lastText = (r: InteractionResult) => (r.followUps.at(-1) ?? r.original)?.content ?? '';

describe('running it for real, through the bot', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness({
      budgets: { user_daily_images: 2, dedupe_window_s: 600 },
      gemini: { total_timeout_ms: 1500, attempt_timeout_ms: 1500 },
    });
    await (await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.gm })).waitUntil((r) => Boolean(r.original));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers the same scene again with the existing picture instead of paying twice', async () => {
    const first = await (await h.scene('turn', { number: 10 }, { user: h.users.ana })).waitUntil(finished, 15_000);
    const imageCalls = () => h.gemini.requests.filter((r) => r.model.includes('image')).length;
    const paid = imageCalls();
    const again = await (await h.scene('turn', { number: 10 }, { user: h.users.bo })).waitUntil(finished, 15_000);
    expect(imageCalls()).toBe(paid);
    expect(again.original!.content).toMatch(
      /^This scene was painted 1 min ago, so here it is again\. Press \*\*Reroll\*\* for a fresh one\./,
    );
    expect(again.original!.attachments[0]!.filename).toBe(first.original!.attachments[0]!.filename);
    const reroll = again
      .original!.components.flatMap((row: { components: Array<{ custom_id?: string; label?: string }> }) => row.components)
      .find((c: { label?: string }) => c.label === 'Reroll');
    expect(reroll).toBeDefined();
  });

  it('refuses a request over the daily budget before any model call, privately, and /scene usage shows it', async () => {
    await (await h.scene('turn', { number: 20 }, { user: h.users.ana })).waitUntil(finished, 15_000);
    const before = h.gemini.requests.length;
    const refused = await (await h.scene('turn', { number: 30 }, { user: h.users.ana })).waitUntil(finished, 15_000);
    expect(refused.callbacks.map((c) => c.type)).toEqual([4]);
    expect(refused.ephemeral).toBe(true);
    expect(lastText(refused)).toMatch(/^You have used your 2 pictures for today; your budget resets in .+ \(00:00 UTC\)\.$/);
    expect(h.gemini.requests.length).toBe(before);

    const usage = await (await h.scene('usage', {}, { user: h.users.ana })).acknowledged();
    expect(usage.ephemeral).toBe(true);
    const fields = usage.original!.embeds[0].fields as Array<{ name: string; value: string }>;
    expect(fields.find((f) => f.name === 'You, today')!.value).toMatch(/^2 pictures · \$0\.\d\d\n0 pictures left$/);
    expect(fields.find((f) => f.name === 'This server, today')!.value).toMatch(/^2 pictures · \$0\.\d\d\n/);
  });

  it('posts the picture as a channel message when the interaction token is about to expire', async () => {
    const createdAt = Date.now() - 14.5 * 60 * 1000;
    const before = h.discord.messages(h.channels.campaign).length;
    const handle = await h.scene('turn', { number: 50 }, { user: h.users.bo, createdAt });
    const posted = await h.discord.waitFor(
      () =>
        h.discord
          .messages(h.channels.campaign)
          .slice(before)
          .find((m) => m.attachments.length > 0 && !m.interaction_id),
      { timeoutMs: 15_000 },
    );
    expect(posted.content.startsWith(`<@${h.users.bo.id}>`)).toBe(true);
    expect(posted.attachments[0]!.filename).toBe('Arrival_at_Kraghammer_turn_50_specific.png');
    expect(handle.result.original?.attachments ?? []).toHaveLength(0);
    // Recorded against its picture once the bot has Discord's answer to the post.
    await h.discord.waitFor(() => h.limner.links.imageOfMessage(posted.id), { timeoutMs: 5_000, label: 'scene message recorded' });
  });

  it('after a restart, marks a job left running as failed and says so in its reply', async () => {
    h.gemini.enqueue({ kind: 'hang' }, { model: /image/ });
    const handle = await h.scene('current', {}, { user: h.users.bo });
    await handle.waitUntil((r) => r.history.some((s) => s.content === 'Painting…'), 10_000);
    // What the next process does at start-up, while this job is still "running" in the database.
    const recovered = await recoverInterruptedJobs(h.limner, h.bot.client as never);
    expect(recovered).toEqual({ found: 1, told: 1 });
    const r = await handle.waitUntil((res) => res.original?.content === INTERRUPTED_TEXT, 10_000);
    expect(r.original!.content).toBe(INTERRUPTED_TEXT);
    const row = sqliteOf(h.limner.store)
      .prepare("select status, error_id as errorId from jobs where kind = 'scene current' order by created_at desc")
      .get() as { status: string; errorId: string };
    expect(row).toEqual({ status: 'failed', errorId: 'interrupted' });
  });

  it('posts, from another process, a picture whose own process stopped between saving and posting it', async () => {
    const handle = await h.scene('turn', { number: 60 }, { user: h.users.gm });
    const r = await handle.waitUntil(finished, 15_000);
    expect(r.original!.attachments).toHaveLength(1);
    const { jobs } = h.limner.store.tables;
    // Answered (recorded once the command's handler has returned): nothing is left for another process.
    const row = await h.discord.waitFor(
      async () => (await h.limner.store.db.select().from(jobs).where(eq(jobs.interactionId, r.interactionId))).find((j) => j.deliveredAt),
      { label: 'answer recorded' },
    );
    expect(row).toMatchObject({ status: 'succeeded', interactionToken: null });
    // As a process that died after saving the picture and before posting it leaves its row.
    await h.limner.store.db
      .update(jobs)
      .set({ deliveredAt: null, interactionToken: r.token, finishedAt: new Date(Date.now() - 60_000).toISOString() })
      .where(eq(jobs.id, row.id));
    const edits = r.history.length;
    expect(await postUndelivered(h.limner, h.bot.client as never)).toBe(1);
    const late = await handle.waitUntil((res) => res.history.length > edits, 10_000);
    expect(late.original!.content).toBe(LATE_TEXT);
    expect(late.original!.attachments).toHaveLength(1);
    // The message the door would have posted: its embed and its buttons on the picture.
    expect(late.original!.embeds[0]!.title).toBe('Turn 60');
    const buttons = late.original!.components.flatMap((row: { components: Array<{ custom_id?: string }> }) => row.components);
    expect(buttons.map((b: { custom_id?: string }) => b.custom_id)).toContain(`scene-edit:${row.imageId}`);
    // Recorded like any posted picture, so a reply to it edits it.
    expect(await h.limner.links.imageOfMessage(late.original!.id)).toBe(row.imageId);
    expect(await postUndelivered(h.limner, h.bot.client as never)).toBe(0);
  });
});
