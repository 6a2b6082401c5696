import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REST, Routes } from 'discord.js';
import { eq, inArray, sql } from 'drizzle-orm';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandPayloads } from '../../commands/index.ts';
import { INTERRUPTED_TEXT } from '../../commands/bot/recover.ts';
import { S3PictureStorage, type S3StorageSettings } from '../../src/images/s3-storage.ts';
import { openStore, type Store } from '../../src/platform/db.ts';
import type { JobRow } from '../../src/platform/schema.ts';
import { DiscordEmulator } from '../emulators/discord/server.ts';
import type { EmulatorUser, InteractionHandle, InteractionResult } from '../emulators/discord/types.ts';
import { GeminiEmulator, type RecordedRequest } from '../emulators/gemini/server.ts';
import { forkBotProcess, killBotProcess, stopBotProcess } from '../support/bot-processes.ts';
import { SAMPLE_CAMPAIGN, sampleCampaigns } from '../support/fixtures.ts';
import { createTestDatabase, NO_POSTGRES, POSTGRES_URL, type Dialect, type TestDatabase } from '../support/postgres.ts';

/**
 * Issue 17's end-to-end test: two shards of one bot in two processes (`test/support/bot-process.ts`)
 * against the Discord and Gemini emulators, pictures in an S3-compatible bucket (s3rver on
 * loopback, the real `@aws-sdk/client-s3`), and one database: a SQLite file both processes open, or
 * a PostgreSQL database of this run's own. The limits that used to live in one process's memory
 * hold across both: the queue's concurrency and fairness, budgets, one painting per scene, and a
 * killed process's users are told.
 */

/** Jobs (so model calls) at once across both processes. */
const CONCURRENCY = 6;
/** Jobs of one user at once. */
const PER_USER = 1;
/** The emulator's answer time for every model call, ms; a scene job makes two (prompt, picture). */
const MODEL_LATENCY_MS = 100;
/** Short, so a killed process's jobs are found within seconds (heartbeats every `lease_s / 3`). */
const LEASE_S = 2;
const USER_DAILY = 6;
/** What the budget guild allows itself with `/scene settings daily_pictures`, under the operator's ceiling. */
const BUDGET_PICTURES = 6;
const OVERRIDES = {
  queue: { concurrency: CONCURRENCY, per_user: PER_USER, poll_ms: 25, lease_s: LEASE_S },
  budgets: { guild_daily_images: 100, user_daily_images: USER_DAILY, dedupe_window_s: 600 },
};
const BUCKET = 'limner-pictures';
/** s3rver's built-in key pair; the bot processes' SDK reads it from the standard environment variables. */
const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * Ten guilds, even ones on shard 0 and odd ones on shard 1. The busy guild has 14 of the 50 users,
 * every other guild 4; the budget guild (shard 1) allows itself {@link BUDGET_PICTURES} a day.
 */
const GUILDS = 10;
const BUSY = 0;
const BUDGET = 9;
const usersIn = (g: number) => (g === BUSY ? 14 : 4);
/** Commands each of the 50 users sends in the load: 200 in all. */
const COMMANDS_PER_USER = 4;

/** A guild id on `shard` of 2: Discord routes a guild's events to shard `(id >> 22) % count`. */
const guildIdOn = (shard: number, n: number) => ((BigInt(1_000_000 + 2 * n + shard) << 22n) | 1n).toString();

const picture = (r: InteractionResult) => (r.original?.attachments.length ?? 0) > 0;
const lastText = (r: InteractionResult) => (r.followUps.at(-1) ?? r.original)?.content ?? '';
const refusal = /has used its \d+ pictures|have used your \d+ pictures/;
const answered = (r: InteractionResult) => picture(r) || refusal.test(lastText(r));
const interrupted = (r: InteractionResult) => r.original?.content === INTERRUPTED_TEXT;
/** The picture a scene message shows, from its Edit button's `scene-edit:<image id>`. */
const imageIdOf = (r: InteractionResult): string | undefined => {
  type Component = { custom_id?: string; components?: Component[] };
  const buttons = (r.original?.components ?? []).flatMap((row: Component) => row.components ?? []);
  return buttons.map((b) => /^scene-edit:(.+)$/.exec(b.custom_id ?? '')?.[1]).find((id) => id !== undefined);
};
const isGenerate = (r: RecordedRequest) => r.rpc !== 'countTokens';
const isImage = (r: RecordedRequest) => isGenerate(r) && r.model.includes('image');

/** The most intervals `[from, to]` (ms) open at one moment; an interval ending when another starts does not overlap it. */
function peakOverlap(intervals: ReadonlyArray<readonly [number, number]>): number {
  const events = intervals.flatMap(([from, to]): Array<[number, number]> => [
    [from, 1],
    [to, -1],
  ]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, step] of events) peak = Math.max(peak, (open += step));
  return peak;
}

/** A job of the load as its row records it: guild, user, and when it was created, started and finished (ms). */
interface JobTimes {
  readonly guild: string;
  readonly user: string;
  readonly created: number;
  readonly started: number;
  readonly finished: number;
}

/**
 * Each guild's fair share of waiting, ms: the mean wait its jobs would have under the queue's own
 * policy with no delay of its own: whenever one of the `slots` is free, the least recently served
 * guild with a job allowed to start (its user has fewer than `perUser` running; guilds never
 * served first, by arrival) starts its oldest such job, every job arriving when it really did and
 * holding its slot as long as it really did, from the moment of the first real claim. What a real
 * queue adds (polling, two processes, a loaded machine) is what the comparison measures. A job's wait is its row's `created_at` →
 * `started_at` (queued → claimed). With G guilds of n jobs each arriving at once and jobs of S ms,
 * it is about (n − 1) / 2 · G · S / slots.
 */
function fairShareWaits(jobs: readonly JobTimes[], slots: number, perUser: number): Map<string, number> {
  const pending = [...jobs].sort((a, b) => a.created - b.created);
  const waiting: JobTimes[] = [];
  const running: Array<{ readonly user: string; readonly until: number }> = [];
  const lastServed = new Map<string, number>();
  const waits = new Map<string, number[]>();
  let next = 0;
  // The queue opens at its first claim: the jobs recorded by then all compete for the first slots.
  let now = Math.min(...jobs.map((j) => j.started));
  for (let served = 0; served < jobs.length;) {
    for (let i = running.length - 1; i >= 0; i--) if (running[i]!.until <= now) running.splice(i, 1);
    while (next < pending.length && pending[next]!.created <= now) waiting.push(pending[next++]!);
    const runs = (user: string) => running.filter((r) => r.user === user).length;
    // Least recently served guild (never served: -1) among the jobs allowed to start, ties by arrival.
    let pick = -1;
    if (running.length < slots) {
      for (let i = 0; i < waiting.length; i++) {
        if (runs(waiting[i]!.user) >= perUser) continue;
        if (pick === -1 || (lastServed.get(waiting[i]!.guild) ?? -1) < (lastServed.get(waiting[pick]!.guild) ?? -1)) pick = i;
      }
    }
    if (pick === -1) {
      // Nothing can start now: move on to the next job's end or arrival.
      now = Math.min(...running.map((r) => r.until), next < pending.length ? pending[next]!.created : Infinity);
      continue;
    }
    const job = waiting.splice(pick, 1)[0]!;
    lastServed.set(job.guild, served++);
    running.push({ user: job.user, until: now + (job.finished - job.started) });
    waits.set(job.guild, [...(waits.get(job.guild) ?? []), now - job.created]);
  }
  return new Map([...waits].map(([guild, w]) => [guild, mean(w)]));
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** Prints the measured figures when LIMNER_E2E_FIGURES is set (for BENCHMARKS.md and reports). */
const figures = (label: string, values: Record<string, unknown>) => {
  if (process.env.LIMNER_E2E_FIGURES) console.log(`[two processes] ${label}: ${JSON.stringify(values)}`);
};

const TITLE = 'two bot processes (two shards), pictures in S3';
describe(`${TITLE}, SQLite (one file)`, () => twoProcesses('sqlite'));
describe.skipIf(!POSTGRES_URL)(POSTGRES_URL ? `${TITLE}, PostgreSQL` : NO_POSTGRES, () => twoProcesses('postgres'));

function twoProcesses(dialect: Dialect): void {
  let s3: S3rver;
  let s3Dir: string;
  let storage: S3StorageSettings;
  /** The test's own view of the bucket, with the bot processes' settings. */
  let pictures: S3PictureStorage;
  let gemini: GeminiEmulator;
  let discord: DiscordEmulator;
  let campaigns: { dir: string; cleanup: () => void };
  let database: TestDatabase | undefined;
  /** The test's own connection to the processes' database, for what the emulators cannot show. */
  let store: Store;
  /** The bot process of each shard. */
  const bots: ChildProcess[] = [];
  /** The Gemini key of each shard's current process: the emulator tells their calls apart by it. */
  const keys: string[] = [];
  let starts = 0;
  /** Every command sent, for the final check that no posted picture is lost. */
  const sent: InteractionHandle[] = [];
  const gm: EmulatorUser = { id: '330000000000000001', username: 'gm', global_name: 'GM' };
  const solo: EmulatorUser = { id: '330000000000000002', username: 'solo', global_name: 'Solo' };
  const guilds: Array<{ id: string; channel: string; shard: number; users: EmulatorUser[] }> = [];

  beforeAll(async () => {
    s3Dir = mkdtempSync(path.join(os.tmpdir(), 'limner-s3rver-'));
    s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3Dir, configureBuckets: [{ name: BUCKET, configs: [] }] });
    const endpoint = `http://127.0.0.1:${(await s3.run()).port}`;
    storage = { bucket: BUCKET, prefix: 'e2e/', endpoint, region: 'us-east-1', force_path_style: true };
    pictures = new S3PictureStorage(storage, { credentials: S3_CREDENTIALS });
    gemini = await GeminiEmulator.start({ latencyMs: MODEL_LATENCY_MS });
    discord = await DiscordEmulator.start();
    campaigns = sampleCampaigns();
    if (dialect === 'postgres') {
      database = await createTestDatabase();
      store = await openStore({ kind: 'postgres', url: database.url }, { poolSize: 2 });
    } else {
      store = await openStore({ kind: 'sqlite', path: path.join(campaigns.dir, 'limner.db') });
    }

    const rest = new REST({ api: discord.apiBase }).setToken(discord.token);
    let userNo = 0;
    for (let n = 0; n < GUILDS; n++) {
      const shard = n % 2;
      const guild = discord.addGuild({ id: guildIdOn(shard, n), name: `Table ${n}`, ownerId: gm.id, channels: [{ name: 'campaign' }] });
      discord.addMember(guild.id, gm);
      const users = Array.from({ length: usersIn(n) }, () => {
        const i = userNo++;
        return { id: (320000000000000000n + BigInt(i)).toString(), username: `player${i}`, global_name: `Player ${i}` };
      });
      for (const user of users) discord.addMember(guild.id, user);
      await rest.put(Routes.applicationGuildCommands(discord.applicationId, guild.id), { body: commandPayloads() });
      guilds.push({ id: guild.id, channel: guild.channels[0]!.id, shard, users });
    }
    expect(userNo).toBe(50);
    discord.addMember(guilds[2]!.id, solo);
    discord.addMember(guilds[3]!.id, solo);
    // Both settle before a failure is thrown, so afterAll stops whichever did start.
    const started = await Promise.allSettled([0, 1].map(startBot));
    for (const outcome of started) if (outcome.status === 'rejected') throw outcome.reason;

    // Set up through the bot's own commands, each on its guild's shard: every channel linked to the
    // sample campaign, and the budget guild's own daily pictures.
    const links = await Promise.all(guilds.map((_, g) => command(g, gm, 'link', [{ name: 'campaign', type: 3, value: SAMPLE_CAMPAIGN }])));
    await until(links, (r) => /now illustrates/.test(r.original?.content ?? ''), 30_000);
    await until(
      [await command(BUDGET, gm, 'settings', [{ name: 'daily_pictures', type: 4, value: BUDGET_PICTURES }])],
      (r) => (r.original?.content ?? '').startsWith('Changed:'),
      10_000,
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all(bots.filter(Boolean).map(stopBotProcess));
    await store?.close();
    await database?.drop();
    await pictures?.close();
    await s3?.close();
    await discord?.close();
    await gemini?.close();
    campaigns?.cleanup();
    if (s3Dir) rmSync(s3Dir, { recursive: true, force: true });
  });

  /** Starts (or restarts) the bot process of `shard`, with a Gemini key of its own. */
  async function startBot(shard: number): Promise<void> {
    keys[shard] = `test-key-${++starts}-shard-${shard}`;
    bots[shard] = await forkBotProcess(
      {
        campaignsDir: campaigns.dir,
        geminiUrl: gemini.url,
        geminiKey: keys[shard],
        discordToken: discord.token,
        shard,
        overrides: {
          ...OVERRIDES,
          storage: { kind: 's3', ...storage },
          ...(database ? { database: database.url } : {}),
          discord: { api_base: discord.apiBase, application_id: discord.applicationId },
        },
      },
      2,
      {
        AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
        // The SDK's notice that its 2027 releases need Node 22, once per process.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    );
  }

  async function command(g: number, user: EmulatorUser, sub: string, options: unknown[] = []): Promise<InteractionHandle> {
    const handle = await discord.sendCommand({
      guildId: guilds[g]!.id,
      channelId: guilds[g]!.channel,
      user,
      name: 'scene',
      options: [{ type: 1, name: sub, options }],
    });
    sent.push(handle);
    return handle;
  }
  const turn = (g: number, user: EmulatorUser, number: number) => command(g, user, 'turn', [{ name: 'number', value: number, type: 4 }]);
  /** Waits until `pred` holds for every handle's result, and returns the results. */
  async function until(handles: readonly InteractionHandle[], pred: (r: InteractionResult) => boolean, timeoutMs: number) {
    await discord.waitFor(() => handles.every((h) => pred(h.result)), { timeoutMs, label: `${handles.length} interactions` });
    return handles.map((h) => h.result);
  }
  /** Resolves once `check` holds, checking every 20 ms. */
  async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number, label: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  const jobsOf = async (results: readonly InteractionResult[]): Promise<JobRow[]> => {
    const { jobs } = store.tables;
    return await store.db
      .select()
      .from(jobs)
      .where(
        inArray(
          jobs.interactionId,
          results.map((r) => r.interactionId),
        ),
      );
  };
  const imageRowsOfTurn = async (number: number) => {
    const { images } = store.tables;
    return await store.db.select({ id: images.id }).from(images).where(eq(images.turn, number));
  };
  const picturesOf = async (guildId: string): Promise<number> => {
    const { usage } = store.tables;
    const [row] = await store.db
      .select({ n: sql<number>`coalesce(sum(${usage.images}), 0)`.mapWith(Number) })
      .from(usage)
      .where(eq(usage.guildId, guildId));
    return row?.n ?? 0;
  };

  describe('under a load of 200 commands from 50 users in 10 guilds', () => {
    let results: InteractionResult[];
    /** The guild of each command (index into `guilds`), in the order of `results`. */
    let guildOf: number[];
    let requests: RecordedRequest[];
    let rows: JobRow[];

    beforeAll(async () => {
      gemini.reset();
      // First of all model work, so no guild has been served before (the fair order remembers it).
      // The busy guild's commands first, then each other guild's: a first-come queue would make the
      // others wait behind all of the busy guild's, the fair queue interleaves them.
      const plan: Array<[guild: number, user: EmulatorUser]> = [];
      for (let g = 0; g < GUILDS; g++) {
        for (let round = 0; round < COMMANDS_PER_USER; round++) for (const user of guilds[g]!.users) plan.push([g, user]);
      }
      expect(plan).toHaveLength(200);
      guildOf = plan.map(([g]) => g);
      const started = Date.now();
      // The busy guild's first jobs take every slot and are held at the model until every other
      // job is recorded, so the queue and the fair share below start from the same line: otherwise
      // the two processes record their rows over hundreds of ms while the first slots are handed
      // out, and which guilds had arrived by then decides a small guild's share.
      const release = gemini.hold();
      const sendAll = (part: typeof plan, offset: number) => Promise.all(part.map(([g, user], i) => turn(g, user, 100 + offset + i)));
      const first = await sendAll(plan.slice(0, CONCURRENCY), 0);
      for (let waited = 0; gemini.generating < CONCURRENCY && waited < 30_000; waited += 20) await sleep(20);
      const handles = [...first, ...(await sendAll(plan.slice(CONCURRENCY), CONCURRENCY))];
      const recorded = COMMANDS_PER_USER * (50 - usersIn(BUDGET)) + BUDGET_PICTURES;
      for (let waited = 0; (await jobsOf(handles.map((h) => h.result))).length < recorded && waited < 30_000; waited += 50) await sleep(50);
      release();
      // A command left unanswered is reported by the first test below, not as this hook's timeout.
      await until(handles, answered, 100_000).catch(() => undefined);
      results = handles.map((h) => h.result);
      const seconds = (Date.now() - started) / 1000;
      requests = [...gemini.requests];
      rows = await jobsOf(results);
      const meanMs = (f: (r: RecordedRequest) => boolean) => Math.round(mean(requests.filter(f).map((r) => r.endedAt! - r.receivedAt)));
      figures('model calls', { imageMs: meanMs(isImage), textMs: meanMs((r) => isGenerate(r) && !isImage(r)) });
      figures('load', { commands: results.length, seconds, commandsPerSecond: +(results.length / seconds).toFixed(1) });
    }, 120_000);

    it('answers every command: a picture, or a clear refusal where the budget guild ran out', () => {
      expect(results).toHaveLength(200);
      expect(results.filter((r) => !answered(r)).map(lastText)).toEqual([]);
      const refused = results.filter((r) => !picture(r));
      expect(refused).toHaveLength(COMMANDS_PER_USER * usersIn(BUDGET) - BUDGET_PICTURES);
      expect(new Set(refused.map((r) => guildOf[results.indexOf(r)]))).toEqual(new Set([BUDGET]));
      // Every picture was painted for its own command: 200 distinct turns, nothing to reuse.
      const painted = new Set(results.filter(picture).map(imageIdOf));
      expect(painted.size).toBe(200 - refused.length);
      expect(requests.filter(isImage)).toHaveLength(painted.size);
    });

    it('never has more than queue.concurrency model calls at once across both processes, and uses them', () => {
      const imageCalls = requests.filter(isImage);
      const peakImages = peakOverlap(imageCalls.map((r) => [r.receivedAt, r.endedAt!] as const));
      const peakJobs = peakOverlap(rows.map((r) => [Date.parse(r.startedAt!), Date.parse(r.finishedAt!)] as const));
      figures('concurrency', { limit: CONCURRENCY, peakModelCalls: gemini.peakGenerating, peakImageCalls: peakImages, peakJobs });
      expect(imageCalls.every((r) => r.endedAt !== undefined)).toBe(true);
      // Measured at the emulator, which both processes call: exactly, and per image request.
      expect(gemini.peakGenerating).toBeLessThanOrEqual(CONCURRENCY);
      expect(peakImages).toBeLessThanOrEqual(CONCURRENCY);
      expect(peakJobs).toBeLessThanOrEqual(CONCURRENCY);
      expect(gemini.peakGenerating).toBeGreaterThanOrEqual(CONCURRENCY - 1);
      // Both processes ran jobs and called the model.
      expect(new Set(rows.map((r) => r.shard))).toEqual(new Set([0, 1]));
      expect(new Set(imageCalls.map((r) => r.headers['x-goog-api-key']))).toEqual(new Set(keys));
    });

    it('gives the budget guild exactly its pictures, then clear refusals', async () => {
      const ofBudget = results.filter((_, i) => guildOf[i] === BUDGET);
      expect(ofBudget.filter(picture)).toHaveLength(BUDGET_PICTURES);
      const refused = ofBudget.filter((r) => !picture(r));
      expect(refused).toHaveLength(COMMANDS_PER_USER * usersIn(BUDGET) - BUDGET_PICTURES);
      for (const r of refused) {
        expect(lastText(r)).toMatch(
          new RegExp(`^This server has used its ${BUDGET_PICTURES} pictures for today; the budget resets in .+ \\(00:00 UTC\\)\\.$`),
        );
      }
      expect(await picturesOf(guilds[BUDGET]!.id)).toBe(BUDGET_PICTURES);
    });

    it("keeps the worst guild's mean wait within 2x its fair share across both processes", () => {
      const jobs: JobTimes[] = rows.map((r) => ({
        guild: r.guildId!,
        user: r.userId,
        created: Date.parse(r.createdAt),
        started: Date.parse(r.startedAt!),
        finished: Date.parse(r.finishedAt!),
      }));
      expect(jobs).toHaveLength(200 - (COMMANDS_PER_USER * usersIn(BUDGET) - BUDGET_PICTURES));
      const fair = fairShareWaits(jobs, CONCURRENCY, PER_USER);
      const byGuild = guilds.map((g, n) => {
        const waits = jobs.filter((j) => j.guild === g.id).map((j) => j.started - j.created);
        const fairMs = fair.get(g.id)!;
        return {
          guild: n,
          shard: g.shard,
          jobs: waits.length,
          meanWaitMs: Math.round(mean(waits)),
          fairMs: Math.round(fairMs),
          ratio: mean(waits) / fairMs,
        };
      });
      const worst = byGuild.reduce((a, b) => (b.ratio > a.ratio ? b : a));
      figures('waits', {
        serviceMs: Math.round(mean(jobs.map((j) => j.finished - j.started))),
        worst: { guild: worst.guild, ratio: +worst.ratio.toFixed(2) },
        byGuild: byGuild.map((g) => ({ ...g, ratio: +g.ratio.toFixed(2) })),
      });
      expect(worst.ratio).toBeLessThanOrEqual(2);
      // The small guilds were not left behind the busy one, which came first.
      const busy = byGuild[BUSY]!;
      for (const g of byGuild) if (g.guild !== BUSY) expect(g.meanWaitMs).toBeLessThan(busy.meanWaitMs);
    });
  });

  it('paints a request sent to both shards at the same moment only once', async () => {
    gemini.reset();
    expect(guilds[0]!.shard).not.toBe(guilds[1]!.shard);
    const [a, b] = await until(await Promise.all([turn(0, guilds[0]!.users[0]!, 42), turn(1, guilds[1]!.users[0]!, 42)]), answered, 30_000);
    expect([picture(a!), picture(b!)]).toEqual([true, true]);
    expect(gemini.requests.filter(isImage)).toHaveLength(1);
    expect(await imageRowsOfTurn(42)).toHaveLength(1);
    expect(imageIdOf(a!)).toBe(imageIdOf(b!));
    expect([a, b].filter((r) => /^This scene was painted .* so here it is again/.test(r!.original!.content))).toHaveLength(1);
  });

  it("keeps a user's daily pictures across both processes", async () => {
    expect(guilds[2]!.shard).not.toBe(guilds[3]!.shard);
    const handles = await Promise.all(Array.from({ length: USER_DAILY + 1 }, (_, i) => turn(2 + (i % 2), solo, 400 + i)));
    const results = await until(handles, answered, 30_000);
    expect(results.filter(picture)).toHaveLength(USER_DAILY);
    expect(results.filter((r) => !picture(r)).map(lastText)).toEqual([
      expect.stringMatching(
        new RegExp(`^You have used your ${USER_DAILY} pictures for today; your budget resets in .+ \\(00:00 UTC\\)\\.$`),
      ),
    ]);
  });

  it('loses nothing when one process is killed under load: its users are told by the other, which takes over a scene it was painting', async () => {
    gemini.reset();
    const key0 = keys[0]!;
    // X (shard 0) starts painting turn 600 and hangs there; Y (shard 1) asks for the same scene and waits for X's picture.
    gemini.enqueue({ kind: 'hang' }, { model: /image/ });
    const x = await turn(0, guilds[0]!.users[4]!, 600);
    await eventually(() => gemini.requests.some((r) => r.answer === 'hang'), 20_000, "X's painting");
    const y = await turn(1, guilds[1]!.users[3]!, 600);
    await eventually(async () => (await jobsOf([y.result]))[0]?.status === 'running', 20_000, "Y's job running");
    // Load on both shards: three users of each guild but the budget guild, a turn each.
    const burst: Array<{ shard: number; handle: InteractionHandle }> = [];
    for (let g = 0; g < GUILDS; g++) {
      if (g === BUDGET) continue;
      for (const user of guilds[g]!.users.slice(0, 3))
        burst.push({ shard: guilds[g]!.shard, handle: await turn(g, user, 500 + burst.length) });
    }
    const onShard = (shard: number) => burst.filter((b) => b.shard === shard).map((b) => b.handle);
    const of0 = [x, ...onShard(0)];
    const of1 = [y, ...onShard(1)];
    await until([...of0, ...of1], (r) => r.callbacks.length > 0, 20_000);
    await eventually(() => onShard(0).filter((h) => picture(h.result)).length >= 2, 30_000, 'two pictures of shard 0');

    // From now on every model call of shard 0 hangs. It is killed once every picture it was given
    // is posted: its unfinished jobs are then queued, or running before or inside a model call, each
    // one the other process can find and tell its user about. (A process killed between a job's end
    // and its picture's post leaves a finished job whose user nobody tells: not this test's subject,
    // and a window this keeps the kill out of.)
    const fromShard0 = (r: RecordedRequest) => r.headers['x-goog-api-key'] === key0 && isGenerate(r);
    for (let i = 0; i < 100; i++) gemini.enqueue({ kind: 'hang' }, { when: fromShard0 });
    await eventually(
      async () => {
        const calls = gemini.requests.filter(fromShard0);
        if (calls.some((r) => r.answer !== 'hang' && r.endedAt === undefined)) return false;
        const painted = calls.filter((r) => isImage(r) && r.answer !== 'hang').length;
        if (painted !== of0.filter((h) => picture(h.result)).length) return false;
        // Every interaction of shard 0 has its job row, so nobody is left without one to be told by.
        return (await jobsOf(of0.map((h) => h.result))).length === of0.length;
      },
      20_000,
      "shard 0's pictures posted",
    );
    await killBotProcess(bots[0]!);
    const atKill = await jobsOf(of0.map((h) => h.result));
    expect(atKill.some((r) => r.status === 'running')).toBe(true);
    expect(atKill.some((r) => r.status === 'queued')).toBe(true);
    const postedBeforeKill = of0.filter((h) => picture(h.result)).length;

    // Shard 1 finds shard 0's jobs stale, fails them and tells their users; its own users are served.
    const settled = await until([...of0, ...of1], (r) => picture(r) || interrupted(r) || refusal.test(lastText(r)), 30_000);
    expect(settled.every((r) => picture(r) || interrupted(r))).toBe(true);
    const [xResult, ...burst0] = settled.slice(0, of0.length);
    const [yResult, ...burst1] = settled.slice(of0.length);
    expect(interrupted(xResult!)).toBe(true);
    expect(burst1.every(picture)).toBe(true);
    expect(burst0.filter(picture)).toHaveLength(postedBeforeKill);
    expect(burst0.filter(interrupted).length).toBeGreaterThan(0);
    const after = await jobsOf(of0.map((h) => h.result));
    expect(after.every((r) => r.status === 'succeeded' || (r.status === 'failed' && r.errorId === 'interrupted'))).toBe(true);
    expect(after.filter((r) => r.status === 'succeeded')).toHaveLength(postedBeforeKill);
    expect(after.filter((r) => r.status === 'failed')).toHaveLength(settled.filter(interrupted).length);
    // Y's wait for X's picture ended with X's lease: shard 1 painted the scene itself, once.
    expect(picture(yResult!)).toBe(true);
    expect(yResult!.original!.content).not.toMatch(/here it is again/);
    expect(await imageRowsOfTurn(600)).toHaveLength(1);
    expect((await jobsOf([yResult!]))[0]).toMatchObject({ status: 'succeeded', shard: 1 });
    figures('kill', { shard0Jobs: of0.length, postedBeforeKill, told: settled.filter(interrupted).length, servedByShard1: of1.length });

    // A new process for shard 0 serves its guilds again.
    await startBot(0);
    const [again] = await until([await turn(0, guilds[0]!.users[5]!, 700)], answered, 20_000);
    expect(picture(again!)).toBe(true);
  }, 60_000);

  it('loses no picture: every picture row has its object in the bucket, and every posted picture its row and object', async () => {
    const { images } = store.tables;
    const rows = await store.db.select({ id: images.id, imagePath: images.imagePath, bytes: images.bytes }).from(images);
    const objects = new Map((await pictures.list(`${SAMPLE_CAMPAIGN}/images/`)).map((o) => [o.key, o.size]));
    for (const row of rows) expect(objects.get(row.imagePath), row.imagePath).toBe(row.bytes);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const posted = sent.map((h) => h.result).filter(picture);
    expect(posted.length).toBeGreaterThan(200);
    for (const r of posted) {
      const row = byId.get(imageIdOf(r)!);
      expect(row, `row of ${imageIdOf(r)}`).toBeDefined();
      const attachment = r.original!.attachments[0]!;
      expect(attachment.size).toBe(row!.bytes);
      expect((await pictures.get(row!.imagePath)).equals(attachment.bytes)).toBe(true);
    }
    figures('pictures', { rows: rows.length, objects: objects.size, posted: posted.length });
  });
}
