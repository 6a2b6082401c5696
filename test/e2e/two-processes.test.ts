import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REST, Routes } from 'discord.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandPayloads } from '../../commands/index.ts';
import { INTERRUPTED_TEXT } from '../../commands/bot/recover.ts';
import { LinkStore } from '../../src/campaigns/links.ts';
import { parseCampaignId } from '../../src/campaigns/id.ts';
import { openSqliteStore, type SqliteStore } from '../../src/platform/db.ts';
import { DiscordEmulator } from '../emulators/discord/server.ts';
import type { EmulatorUser, InteractionResult } from '../emulators/discord/types.ts';
import { GeminiEmulator } from '../emulators/gemini/server.ts';
import type { BotProcessSettings } from '../support/bot-process.ts';
import { ROOT, SAMPLE_CAMPAIGN, sampleCampaigns } from '../support/fixtures.ts';

/**
 * Two shards of one bot in two processes (`test/support/bot-process.ts`) on one SQLite file: the
 * limits that used to live in one process's memory hold across both.
 */
const CONCURRENCY = 3;
const GUILD_DAILY = 6;
const USER_DAILY = 3;
const OVERRIDES = {
  // A short lease, so a killed process's jobs are found within seconds.
  queue: { concurrency: CONCURRENCY, per_user: 1, poll_ms: 25, lease_s: 2 },
  budgets: { guild_daily_images: GUILD_DAILY, user_daily_images: USER_DAILY, dedupe_window_s: 600 },
};

/** A guild id on `shard` of 2: Discord routes a guild's events to shard `(id >> 22) % count`. */
const guildIdOn = (shard: number, n: number) => ((BigInt(1_000_000 + 2 * n + shard) << 22n) | 1n).toString();

const picture = (r: InteractionResult) => (r.original?.attachments.length ?? 0) > 0;
const lastText = (r: InteractionResult) => (r.followUps.at(-1) ?? r.original)?.content ?? '';
const refusal = /has used its \d+ pictures|have used your \d+ pictures/;
const answered = (r: InteractionResult) => picture(r) || refusal.test(lastText(r));

describe('two bot processes, one database', () => {
  let gemini: GeminiEmulator;
  let discord: DiscordEmulator;
  let campaigns: { dir: string; cleanup: () => void };
  let store: SqliteStore;
  const bots: ChildProcess[] = [];
  const users: EmulatorUser[] = Array.from({ length: 9 }, (_, i) => ({
    id: `32000000000000000${i}`,
    username: i === 8 ? 'solo' : `player${i}`,
    global_name: i === 8 ? 'Solo' : `Player ${i}`,
  }));
  /** g0, g2, g4 on shard 0; g1, g3, g5 on shard 1. */
  const guilds: Array<{ id: string; channel: string; shard: number }> = [];

  beforeAll(async () => {
    gemini = await GeminiEmulator.start({ latencyMs: 150 });
    discord = await DiscordEmulator.start();
    campaigns = sampleCampaigns();
    store = openSqliteStore(path.join(campaigns.dir, 'limner.db'));
    const links = new LinkStore(store);
    const rest = new REST({ api: discord.apiBase }).setToken(discord.token);
    for (let n = 0; n < 6; n++) {
      const shard = n % 2;
      const guild = discord.addGuild({
        id: guildIdOn(shard, n),
        name: `Table ${n}`,
        ownerId: users[0]!.id,
        channels: [{ name: 'campaign' }],
      });
      for (const user of users) discord.addMember(guild.id, user);
      await rest.put(Routes.applicationGuildCommands(discord.applicationId, guild.id), { body: commandPayloads() });
      const channel = guild.channels[0]!.id;
      await links.link({ channelId: channel, guildId: guild.id, campaignId: parseCampaignId(SAMPLE_CAMPAIGN), linkedBy: users[0]!.id });
      guilds.push({ id: guild.id, channel, shard });
    }
    await Promise.all([0, 1].map((shard) => startBot(shard)));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(bots.map(stopBot));
    store?.close();
    await discord?.close();
    await gemini?.close();
    campaigns?.cleanup();
  });

  async function startBot(shard: number): Promise<void> {
    const settings: BotProcessSettings = {
      campaignsDir: campaigns.dir,
      geminiUrl: gemini.url,
      discordToken: discord.token,
      shard,
      overrides: { ...OVERRIDES, discord: { api_base: discord.apiBase, application_id: discord.applicationId } },
    };
    const child = fork(path.join(ROOT, 'test/support/bot-process.ts'), [], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, LIMNER_TEST_BOT: JSON.stringify(settings), SHARDS: JSON.stringify([shard]), SHARD_COUNT: '2' },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    bots.push(child);
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`bot process for shard ${shard} exited (${code}) before it was ready`)));
    });
  }

  async function stopBot(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.send('stop');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  const turn = (g: number, user: EmulatorUser, number: number) =>
    discord.sendCommand({
      guildId: guilds[g]!.id,
      channelId: guilds[g]!.channel,
      user,
      name: 'scene',
      options: [{ type: 1, name: 'turn', options: [{ name: 'number', value: number, type: 4 }] }],
    });
  const all = async (requests: Array<[guild: number, user: EmulatorUser, turn: number]>) => {
    const handles = await Promise.all(requests.map(([g, u, n]) => turn(g, u, n)));
    return Promise.all(handles.map((h) => h.waitUntil(answered, 60_000)));
  };
  const imageCalls = () => gemini.requests.filter((r) => r.model.includes('image')).length;
  const picturesOf = (guildId: string) =>
    (store.sqlite.prepare('select coalesce(sum(images), 0) as n from usage where guild_id = ?').get(guildId) as { n: number }).n;

  it('paints the same request sent to both shards once', async () => {
    expect(guilds[0]!.shard).not.toBe(guilds[1]!.shard);
    const [a, b] = await all([
      [0, users[0]!, 42],
      [1, users[1]!, 42],
    ]);
    expect([picture(a!), picture(b!)]).toEqual([true, true]);
    expect(imageCalls()).toBe(1);
    expect(store.sqlite.prepare('select count(*) as n from images where turn = 42').get()).toEqual({ n: 1 });
    expect([a, b].filter((r) => /^This scene was painted .* so here it is again/.test(r!.original!.content))).toHaveLength(1);
  });

  it('answers every command of several users in several guilds, never more than queue.concurrency model calls at once', async () => {
    gemini.reset();
    const requests = Array.from({ length: 16 }, (_, j): [number, EmulatorUser, number] => [j % 4, users[j % 8]!, 100 + 10 * j]);
    const results = await all(requests);
    expect(results.filter(picture)).toHaveLength(16);
    expect(imageCalls()).toBe(16);
    // Both processes kept the one limit together, and used it.
    expect(gemini.peakGenerating).toBeLessThanOrEqual(CONCURRENCY);
    expect(gemini.peakGenerating).toBeGreaterThan(1);
    const byShard = store.sqlite
      .prepare("select shard, count(*) as n from jobs where status = 'succeeded' group by shard order by shard")
      .all();
    expect(byShard).toEqual([
      { shard: 0, n: expect.any(Number) },
      { shard: 1, n: expect.any(Number) },
    ]);
  });

  it('gives a guild exactly its daily pictures, then clear refusals', async () => {
    expect(picturesOf(guilds[2]!.id)).toBe(4);
    const results = await all([2, 3, 4, 5].map((u, i): [number, EmulatorUser, number] => [2, users[u]!, 300 + 10 * i]));
    expect(results.filter(picture)).toHaveLength(GUILD_DAILY - 4);
    const refused = results.filter((r) => !picture(r));
    expect(refused).toHaveLength(2);
    for (const r of refused)
      expect(lastText(r)).toMatch(/^This server has used its 6 pictures for today; the budget resets in .+ \(00:00 UTC\)\.$/);
    expect(picturesOf(guilds[2]!.id)).toBe(GUILD_DAILY);
  });

  it("keeps a user's daily pictures across both processes", async () => {
    const solo = users[8]!;
    expect(guilds[4]!.shard).not.toBe(guilds[5]!.shard);
    const results = await all([
      [4, solo, 400],
      [5, solo, 410],
      [4, solo, 420],
      [5, solo, 430],
    ]);
    expect(results.filter(picture)).toHaveLength(USER_DAILY);
    expect(results.filter((r) => !picture(r)).map(lastText)).toEqual([
      expect.stringMatching(/^You have used your 3 pictures for today; your budget resets in .+ \(00:00 UTC\)\.$/),
    ]);
  });

  it('tells the user of a job whose process was killed, from the other process, and fails the job', async () => {
    gemini.enqueue({ kind: 'hang' }, { model: /image/ });
    const handle = await turn(0, users[6]!, 500);
    await discord.waitFor(() => gemini.requests.some((r) => r.answer === 'hang'), { timeoutMs: 20_000, label: 'painting started' });
    const job = store.sqlite.prepare("select id, shard from jobs where status = 'running'").get() as { id: string; shard: number };
    expect(job.shard).toBe(guilds[0]!.shard);
    bots[0]!.kill('SIGKILL');
    const told = await handle.waitUntil((r) => r.original?.content === INTERRUPTED_TEXT, 20_000);
    expect(told.original!.content).toBe(INTERRUPTED_TEXT);
    expect(store.sqlite.prepare('select status, error_id as errorId from jobs where id = ?').get(job.id)).toEqual({
      status: 'failed',
      errorId: 'interrupted',
    });
  });
});
