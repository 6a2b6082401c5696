import { sqliteOf } from '../support/fixtures.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatorUser, InteractionResult } from '../emulators/discord/types.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';

const finished = (r: InteractionResult) => Boolean(r.original?.attachments.length) || r.followUps.length > 0;
const lastText = (r: InteractionResult) => (r.followUps.at(-1) ?? r.original)?.content ?? '';

/** Edits run as jobs: their usage rows carry the job id, and stopping the job stops their Gemini call. */
describe('edits as jobs', () => {
  let h: BotHarness;
  beforeAll(async () => {
    // A long call budget, so only the job's signal can end a hanging call quickly.
    h = await startBotHarness({ gemini: { total_timeout_ms: 30_000, attempt_timeout_ms: 30_000 } });
    await (await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.gm })).waitUntil((r) => Boolean(r.original));
  }, 30_000);
  afterAll(async () => {
    await h?.close();
  });

  const sceneEdit = (user: EmulatorUser, prompt: string) =>
    h.discord.sendCommand({
      guildId: h.guildId,
      channelId: h.channels.campaign,
      user,
      name: 'scene',
      options: [{ type: 1, name: 'edit', options: [{ type: 3, name: 'prompt', value: prompt }] }],
    });
  const jobIds = (kind: string) =>
    (sqliteOf(h.limner.store).prepare('select id from jobs where kind = ? order by created_at').all(kind) as Array<{ id: string }>).map(
      (r) => r.id,
    );
  const usageRows = (purpose: string) =>
    sqliteOf(h.limner.store)
      .prepare('select job_id as jobId, guild_id as guildId, channel_id as channelId from usage where purpose = ? order by id')
      .all(purpose) as Array<{
      jobId: string | null;
      guildId: string | null;
      channelId: string | null;
    }>;

  it('records the job id, guild and channel of /scene edit, Reroll and reply-to-edit calls', async () => {
    const { ana } = h.users;
    const scene = await (await h.scene('current', { context: 3 }, { user: ana })).waitUntil(finished, 15_000);
    expect(scene.original?.attachments).toHaveLength(1);

    const edited = await (await sceneEdit(ana, 'make it night')).waitUntil(finished, 15_000);
    expect(edited.original?.attachments).toHaveLength(1);
    const where = { guildId: h.guildId, channelId: h.channels.campaign };
    expect(usageRows('edit')).toEqual([{ jobId: jobIds('scene edit')[0], ...where }]);

    const imageId = await h.discord.waitFor(() => h.limner.links.imageOfMessage(edited.original!.id), { label: 'the edited picture' });
    const rerolled = await (
      await h.discord.clickButton({
        guildId: h.guildId,
        channelId: h.channels.campaign,
        user: ana,
        messageId: edited.original!.id,
        customId: `scene-reroll:${imageId}`,
      })
    ).waitUntil(finished, 15_000);
    expect(rerolled.original?.attachments).toHaveLength(1);
    expect(usageRows('edit')[1]).toEqual({ jobId: jobIds('scene reroll')[0], ...where });

    const reply = await h.discord.postUserMessage({
      channelId: h.channels.campaign,
      user: ana,
      content: `<@${h.discord.botUser.id}> add rain`,
      replyTo: edited.original!.id,
    });
    await h.discord.waitFor(() => usageRows('edit')[2], { timeoutMs: 15_000, label: `usage of the reply ${reply.id}` });
    expect(usageRows('edit')[2]).toEqual({ jobId: jobIds('scene edit')[1], ...where });
  });

  it("stops an edit's hanging Gemini call when the job is stopped at shutdown", async () => {
    const { bo } = h.users;
    await (await h.scene('current', { context: 3 }, { user: bo })).waitUntil(finished, 15_000);
    h.gemini.enqueue({ kind: 'hang' }, { model: /image/ });
    const handle = await sceneEdit(bo, 'add a dragon');
    await handle.waitUntil((r) => r.history.some((s) => s.content === 'Painting…'), 10_000);
    const started = performance.now();
    await h.limner.runner.close(0);
    expect(performance.now() - started).toBeLessThan(5_000);
    const r = await handle.waitUntil((res) => /restarting/.test(lastText(res)), 5_000);
    expect(lastText(r)).toBe('Limner is restarting and had to stop this request. Please try again in a minute.');
  }, 20_000);
});
