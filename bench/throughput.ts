/**
 * Throughput bench (issue 17): commands answered per second by 1, 2 and 4 bot processes (shards of
 * one bot, each `test/support/bot-process.ts`) sharing one database, SQLite (one file) or PostgreSQL
 * (a database of the run's own), against the Discord emulator (in this process) and the Gemini
 * emulator (bench/bot-gemini.ts, a process of its own) answering every model call after a fixed latency.
 *
 * Each run: a fresh campaigns folder and database, 10 guilds spread over the shards (guild g on
 * shard g mod N), each linked with `/scene link`, then a burst of 200 `/scene turn`s from 50 users
 * (5 per guild) with distinct turns; budgets, cooldown and dedupe off; `queue` as shipped but for
 * `LIMNER_BENCH_POLL_MS`.
 *
 * Run alone with `npx tsx bench/throughput.ts` (prints the section) or `npm run bench -- throughput`
 * (splices it into BENCHMARKS.md). Environment:
 * - `LIMNER_BENCH_PROCESSES` (`1,2,4`): the process counts to run; each must divide 4, so that the
 *   guilds' shards stay the same across counts;
 * - `LIMNER_BENCH_DIALECTS` (`sqlite`, plus `postgres` when `LIMNER_TEST_DATABASE_URL` is set);
 * - `LIMNER_TEST_DATABASE_URL`: the PostgreSQL server on which each PostgreSQL run creates a database
 *   `limner_bench_<random>` and drops it afterwards;
 * - `LIMNER_BENCH_THROUGHPUT_LATENCY_MS` (500): model latency per call;
 * - `LIMNER_BENCH_POLL_MS` (200, as shipped): `queue.poll_ms`, how often a process with jobs waiting looks for a slot.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { DiscordEmulator } from '../test/emulators/discord/server.ts';
import type { EmulatorUser, InteractionResult } from '../test/emulators/discord/types.ts';
import type { BotProcessSettings } from '../test/support/bot-process.ts';
import { forkBotProcess, stopBotProcess } from '../test/support/bot-processes.ts';
import { sampleCampaigns } from '../test/support/fixtures.ts';
import type { GeminiCommand, GeminiTiming } from './bot-gemini.ts';
import { linkSampleCampaign, percentile, random } from './bot.ts';
import type { BenchSection } from './types.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

const LATENCY_MS = Number(process.env.LIMNER_BENCH_THROUGHPUT_LATENCY_MS ?? 500);
const PROCESSES = (process.env.LIMNER_BENCH_PROCESSES ?? '1,2,4').split(',').map(Number);
const POSTGRES_URL = process.env.LIMNER_TEST_DATABASE_URL || undefined;
type Dialect = 'sqlite' | 'postgres';
const DIALECTS = (process.env.LIMNER_BENCH_DIALECTS ?? (POSTGRES_URL ? 'sqlite,postgres' : 'sqlite')).split(',') as Dialect[];

const GUILDS = 10;
const USERS_PER_GUILD = 5;
const COMMANDS = 200;
const TURNS = 2160;
/** `queue` as config/defaults.yaml ships it (the tests' layer polls every 20 ms instead); `LIMNER_BENCH_POLL_MS` changes `poll_ms`. */
const QUEUE = { concurrency: 8, per_user: 1, poll_ms: Number(process.env.LIMNER_BENCH_POLL_MS ?? 200) };
/** Model calls of one `/scene turn`, both inside its job: the prompt (text), then the picture. */
const CALLS_PER_COMMAND = 2;
/** Longest wait for the whole burst to be answered. */
const RUN_TIMEOUT_MS = 240_000;
/** Manage Server, View Channel, Send Messages: what `/scene link` needs. */
const GM_PERMISSIONS = (1n << 5n) | (1n << 10n) | (1n << 11n);

for (const n of PROCESSES)
  if (!Number.isInteger(n) || n < 1 || 4 % n !== 0) throw new Error(`LIMNER_BENCH_PROCESSES: ${n} does not divide 4`);
for (const d of DIALECTS) if (d !== 'sqlite' && d !== 'postgres') throw new Error(`LIMNER_BENCH_DIALECTS: unknown dialect ${d}`);
if (DIALECTS.includes('postgres') && !POSTGRES_URL) throw new Error('LIMNER_BENCH_DIALECTS=postgres needs LIMNER_TEST_DATABASE_URL');
if (!Number.isFinite(LATENCY_MS) || LATENCY_MS <= 0) throw new Error('LIMNER_BENCH_THROUGHPUT_LATENCY_MS must be a positive number');
if (!Number.isInteger(QUEUE.poll_ms) || QUEUE.poll_ms < 10) throw new Error('LIMNER_BENCH_POLL_MS must be an integer of at least 10');

// ---- numbers ---------------------------------------------------------------------------------------

const seconds = (msValue: number) => (Number.isFinite(msValue) ? `${(msValue / 1000).toFixed(1)} s` : 'n/a');

/** Most model calls in flight at once, from the Gemini emulator's receive and answer times. */
function peakInFlight(timings: readonly GeminiTiming[]): number {
  const edges = timings.flatMap((t) => [
    { at: t.receivedAt, d: 1 },
    { at: t.answeredAt, d: -1 },
  ]);
  // At equal times an answer frees its slot before the next call takes it.
  edges.sort((a, b) => a.at - b.at || a.d - b.d);
  let now = 0;
  let peak = 0;
  for (const e of edges) peak = Math.max(peak, (now += e.d));
  return peak;
}

// ---- children --------------------------------------------------------------------------------------

/** Every child started here, killed on every way out (see {@link run}). */
const children = new Set<ChildProcess>();
function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
function killChildren(): void {
  for (const child of children) child.kill('SIGKILL');
}

/** The next IPC message from `child`; rejects when it exits first, with the end of its stderr. */
function nextMessage<T>(child: ChildProcess, stderr: string[] = []): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onMessage = (m: T) => {
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code: number | null) => {
      child.off('message', onMessage);
      reject(new Error(`child exited (${code}) before answering:\n${stderr.join('').slice(-3000)}`));
    };
    child.once('message', onMessage);
    child.once('exit', onExit);
  });
}

/** bench/bot-gemini.ts at {@link LATENCY_MS}, placeholder pictures. */
async function startGemini(): Promise<{ url: string; take(): Promise<GeminiTiming[]>; close(): void }> {
  const script = fileURLToPath(new URL('./bot-gemini.ts', import.meta.url));
  const child = track(fork(script, [String(LATENCY_MS)], { cwd: ROOT, execArgv: ['--import', 'tsx'] }));
  const { url } = await nextMessage<{ url: string }>(child);
  return {
    url,
    async take() {
      const reply = nextMessage<{ timings: GeminiTiming[] }>(child);
      child.send({ type: 'take' } satisfies GeminiCommand);
      return (await reply).timings;
    },
    close: () => {
      if (child.connected) child.disconnect();
    },
  };
}

/** One shard's bot process (test/support/bot-process.ts), stopped at exit; resolves once its gateway is ready. */
const startBot = async (settings: BotProcessSettings, shardCount: number): Promise<ChildProcess> =>
  track(await forkBotProcess(settings, shardCount));

// ---- the database ----------------------------------------------------------------------------------

/** A job that succeeded: the shard whose process ran it, when it was claimed and when it ended (ISO 8601). */
interface JobTimes {
  readonly shard: number;
  readonly startedAt: string;
  readonly finishedAt: string;
}

/** The run's database: its config value (null: the campaigns folder's SQLite file), its succeeded jobs, and its removal. */
interface RunDatabase {
  readonly database: string | null;
  succeeded(): Promise<JobTimes[]>;
  drop(): Promise<void>;
}

const SUCCEEDED = 'select shard, started_at as "startedAt", finished_at as "finishedAt" from jobs where status = \'succeeded\'';

async function adminQuery(url: string, statement: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(statement);
  } finally {
    await client.end();
  }
}

async function openRunDatabase(dialect: Dialect, campaignsDir: string): Promise<RunDatabase> {
  if (dialect === 'sqlite') {
    return {
      database: null,
      async succeeded() {
        const db = new Database(path.join(campaignsDir, 'limner.db'), { readonly: true });
        try {
          return db.prepare(SUCCEEDED).all() as JobTimes[];
        } finally {
          db.close();
        }
      },
      drop: async () => undefined,
    };
  }
  const name = `limner_bench_${randomBytes(6).toString('hex')}`;
  await adminQuery(POSTGRES_URL!, `create database ${name}`);
  const url = new URL(POSTGRES_URL!);
  url.pathname = `/${name}`;
  return {
    database: url.toString(),
    succeeded: async () => (await adminQuery(url.toString(), SUCCEEDED)).rows as JobTimes[],
    drop: async () => void (await adminQuery(POSTGRES_URL!, `drop database if exists ${name} with (force)`)),
  };
}

// ---- one run ---------------------------------------------------------------------------------------

/** The figures of one run. */
interface RunResult {
  readonly processes: number;
  readonly dialect: Dialect;
  readonly answered: number;
  readonly failed: number;
  readonly unanswered: number;
  /** First command sent → last picture received, ms. */
  readonly wallMs: number;
  /** Sent → picture received, ms, per answered command. */
  readonly answerMs: number[];
  /** The Gemini emulator's receive → answer time of all the model calls, per answered command, ms. */
  readonly modelMs: number;
  readonly peakModelCalls: number;
  /** Jobs succeeded per shard (the process that ran them). */
  readonly perShard: number[];
  /** Mean of the succeeded jobs' claim → end, ms: from their rows, so it includes the wait for the owning process to see its claim. */
  readonly jobMs: number;
  /** 1-minute load average before and after the load. */
  readonly load: [number, number];
}

/** Guild g's id: `(id >> 22) mod N = g mod N` for every N dividing 4, so each count spreads the guilds alike. */
const guildId = (g: number) => ((BigInt(4_000_000 + g) << 22n) | 1n).toString();

async function oneRun(dialect: Dialect, processes: number, gemini: { url: string; take(): Promise<GeminiTiming[]> }): Promise<RunResult> {
  const campaigns = sampleCampaigns();
  const discord = await DiscordEmulator.start({ keepUploadBytes: false });
  let database: RunDatabase | undefined;
  const bots: ChildProcess[] = [];
  try {
    database = await openRunDatabase(dialect, campaigns.dir);
    const guilds = Array.from({ length: GUILDS }, (_, g) => {
      const gm: EmulatorUser = { id: `4${String(g).padStart(6, '0')}00000000001`, username: `gm${g}` };
      const guild = discord.addGuild({ id: guildId(g), name: `Table ${g}`, ownerId: gm.id, channels: [{ name: 'campaign' }] });
      discord.addMember(guild.id, gm, { permissions: GM_PERMISSIONS });
      const users = Array.from({ length: USERS_PER_GUILD }, (_, u): EmulatorUser => {
        const user = { id: `5${String(g).padStart(6, '0')}${String(u).padStart(11, '0')}`, username: `player${g}-${u}` };
        discord.addMember(guild.id, user);
        return user;
      });
      return { id: guild.id, channel: guild.channels[0]!.id, gm, users };
    });
    const overrides = {
      queue: QUEUE,
      budgets: { guild_daily_images: null, guild_daily_usd: null, user_daily_images: null, user_cooldown_s: 0, dedupe_window_s: 0 },
      discord: { api_base: discord.apiBase, application_id: discord.applicationId },
      ...(database.database ? { database: database.database } : {}),
    };
    const started = await Promise.allSettled(
      Array.from({ length: processes }, (_, shard) =>
        startBot({ campaignsDir: campaigns.dir, geminiUrl: gemini.url, discordToken: discord.token, shard, overrides }, processes),
      ),
    );
    for (const s of started) if (s.status === 'fulfilled') bots.push(s.value);
    const refused = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (refused) throw refused.reason;

    for (const g of guilds) await linkSampleCampaign(discord, g.id, g.channel, g.gm);
    await gemini.take();

    const rand = random(17);
    const turns = new Set<number>();
    while (turns.size < COMMANDS) turns.add(1 + Math.floor(rand() * TURNS));
    const order = [...turns];
    const load: [number, number] = [os.loadavg()[0]!, Number.NaN];
    const pending = new Map<InteractionResult, number>();
    /** Per answered command: when it was sent and when its picture arrived (`performance.now()`). */
    const answers: Array<{ sentAt: number; at: number }> = [];
    let failed = 0;
    const firstSentAt = performance.now();
    for (let i = 0; i < COMMANDS; i++) {
      const g = guilds[i % GUILDS]!;
      const sentAt = performance.now();
      const handle = await discord.sendCommand({
        guildId: g.id,
        channelId: g.channel,
        user: g.users[Math.floor(i / GUILDS) % USERS_PER_GUILD]!,
        name: 'scene',
        options: [{ type: 1, name: 'turn', options: [{ name: 'number', value: order[i]!, type: 4 }] }],
      });
      pending.set(handle.result, sentAt);
    }
    // One watcher for the whole burst, woken by every change in the emulator.
    await discord
      .waitFor(
        () => {
          const at = performance.now();
          for (const [r, sentAt] of pending) {
            // A scene command defers; a first callback that is a message, or a follow-up, is an error.
            if ((r.original?.attachments.length ?? 0) > 0) answers.push({ sentAt, at });
            else if (r.followUps.length > 0 || r.callbacks[0]?.type === 4) failed++;
            else continue;
            pending.delete(r);
          }
          return pending.size === 0;
        },
        { timeoutMs: RUN_TIMEOUT_MS, label: 'every command answered' },
      )
      .catch(() => undefined);
    load[1] = os.loadavg()[0]!;
    const timings = (await gemini.take()).filter((t) => t.kind !== 'other');
    const jobs = await database.succeeded();
    return {
      processes,
      dialect,
      answered: answers.length,
      failed,
      unanswered: pending.size,
      wallMs: Math.max(...answers.map((a) => a.at)) - firstSentAt,
      answerMs: answers.map((a) => a.at - a.sentAt),
      modelMs: timings.reduce((sum, t) => sum + t.answeredAt - t.receivedAt, 0) / answers.length,
      peakModelCalls: peakInFlight(timings),
      perShard: Array.from({ length: processes }, (_, s) => jobs.filter((j) => j.shard === s).length),
      jobMs: jobs.reduce((sum, j) => sum + Date.parse(j.finishedAt) - Date.parse(j.startedAt), 0) / jobs.length,
      load,
    };
  } finally {
    await Promise.all(bots.map(stopBotProcess));
    await discord.close();
    await database?.drop();
    campaigns.cleanup();
  }
}

// ---- the section -----------------------------------------------------------------------------------

/** Runs every process count on every dialect and returns the BENCHMARKS.md section. Children are killed on every way out. */
export async function run(): Promise<BenchSection> {
  const onSignal = (signal: NodeJS.Signals) => {
    killChildren();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', killChildren);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = performance.now();
  const gemini = await startGemini();
  const results: RunResult[] = [];
  try {
    for (const dialect of DIALECTS)
      for (const processes of PROCESSES) {
        const result = await oneRun(dialect, processes, gemini);
        console.error(
          `bench/throughput: ${dialect} × ${processes}: ${result.answered} answered, ${(result.answered / (result.wallMs / 1000)).toFixed(2)}/s, load ${result.load.map((l) => l.toFixed(1)).join(' → ')}`,
        );
        results.push(result);
      }
  } finally {
    gemini.close();
    killChildren();
    process.off('exit', killChildren);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return {
    title: 'Throughput: several bot processes on one database',
    markdown: render(results, (performance.now() - started) / 1000),
    command: 'npx tsx bench/throughput.ts',
  };
}

const DIALECT_NAMES: Record<Dialect, string> = { sqlite: 'SQLite (one file)', postgres: 'PostgreSQL' };

function render(results: readonly RunResult[], tookS: number): string {
  const ceiling = QUEUE.concurrency / ((CALLS_PER_COMMAND * LATENCY_MS) / 1000);
  const floorS = (Math.ceil(COMMANDS / QUEUE.concurrency) * CALLS_PER_COMMAND * LATENCY_MS) / 1000;
  const rate = (r: RunResult) => r.answered / (r.wallMs / 1000);
  const rows = results.map((r) => {
    const slotMs = (QUEUE.concurrency * r.wallMs) / r.answered;
    return `| ${r.processes} | ${DIALECT_NAMES[r.dialect]} | ${r.answered} of ${COMMANDS}${r.failed + r.unanswered > 0 ? ` (${r.failed} failed, ${r.unanswered} unanswered)` : ''} | **${rate(r).toFixed(2)}** | ${(rate(r) / ceiling).toFixed(2)} | ${seconds(percentile(r.answerMs, 50))} | ${seconds(percentile(r.answerMs, 95))} | ${seconds(r.wallMs)} | ${Math.round(slotMs)} ms | ${Math.round(r.jobMs)} ms | ${Math.round(r.modelMs)} ms | ${r.peakModelCalls} | ${r.perShard.join(' / ')} | ${r.load[0].toFixed(1)} → ${r.load[1].toFixed(1)} |`;
  });
  const ran = new Set(results.map((r) => r.dialect));
  const ratios = results.map((r) => rate(r) / ceiling);
  const bothCommand = 'LIMNER_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench -- throughput';
  return [
    `Commands answered per second by 1, 2 and 4 bot processes, each a shard of one bot (\`test/support/bot-process.ts\`: the real \`createLimner\` and \`startBot\`, run from the TypeScript sources through tsx), sharing one database: **SQLite**, one file for all the processes (WAL), or **PostgreSQL**, a database of the run's own created on \`LIMNER_TEST_DATABASE_URL\`'s server and dropped afterwards. The Discord emulator runs in the bench process, the Gemini emulator in a process of its own and answers every model call after **L = ${LATENCY_MS} ms** with its placeholder picture; all share the machine's ${os.cpus().length} cores.`,
    `Each run starts from a fresh campaigns folder and database: ${GUILDS} guilds (guild g on shard g mod N), each linked to the sample campaign with \`/scene link\`, then a burst of ${COMMANDS} \`/scene turn\`s with distinct turns from ${GUILDS * USERS_PER_GUILD} users (${USERS_PER_GUILD} per guild, ${COMMANDS / (GUILDS * USERS_PER_GUILD)} each), sent one after another as fast as the emulator takes them. Budgets, cooldown and dedupe are off; \`queue.concurrency\` ${QUEUE.concurrency} and \`queue.per_user\` ${QUEUE.per_user} for all the processes together (the defaults), \`queue.poll_ms\` ${QUEUE.poll_ms}${QUEUE.poll_ms === 200 ? ' (the default)' : ' (200 by default)'}.`,
    '',
    `**The ceiling.** Every process takes its jobs from the one jobs table, so at most ${QUEUE.concurrency} jobs run at once whatever the number of processes, and a \`/scene turn\` holds its slot for its ${CALLS_PER_COMMAND} model calls (the prompt, then the picture): at most concurrency ÷ (${CALLS_PER_COMMAND} × L) = ${QUEUE.concurrency} ÷ ${((CALLS_PER_COMMAND * LATENCY_MS) / 1000).toFixed(1)} s = **${ceiling.toFixed(1)} commands/s**, and the burst takes at least ${Math.ceil(COMMANDS / QUEUE.concurrency)} rounds × ${CALLS_PER_COMMAND} L = ${floorS.toFixed(0)} s. More processes do not raise the ceiling (a larger \`queue.concurrency\` or a faster model does); they can only lose some of it.`,
    '',
    `*Slot time per command* is concurrency × first → last ÷ answered: ${CALLS_PER_COMMAND} L = ${CALLS_PER_COMMAND * LATENCY_MS} ms at the ceiling. *Job, claim → end* is the mean over the jobs' rows: the wait for the owning process to see its claim, the ${CALLS_PER_COMMAND} model calls, building the prompt, and checking and storing the picture (the reply with the picture goes out after the job has freed its slot); *model calls per job* is the Gemini emulator's receive → answer time of the calls (L each, plus drawing the placeholder picture), so job time minus it is the bot's own part; slot time minus job time is the time slots stood empty (mostly the last round, when fewer than ${QUEUE.concurrency} jobs are left). A process runs only the jobs it created, but whichever process sees a slot free claims the next job in the fair order for all of them (when one of its own jobs ends, or at its next look, every \`poll_ms\` while it has jobs waiting); with N processes about (N − 1) ÷ N of the claims are for another process, whose job holds its slot until that process looks (up to \`poll_ms\`, sooner when one of its own jobs ends meanwhile).`,
    '',
    `| processes | database | answered | commands/s | ÷ ceiling | time to answer p50 | p95 | first → last | slot time per command | job, claim → end | model calls per job | peak model calls at once | jobs per process | load average (1 min) before → after |`,
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|',
    ...rows,
    '',
    ratios.length > 0
      ? `Measured ${[...new Set([Math.min(...ratios), Math.max(...ratios)].map((x) => x.toFixed(2)))].join('-')} of the ceiling. *Time to answer* is the command sent → its reply with the picture received; in a burst it is mostly the wait in line (the last commands wait about the whole run), so its p50 is about half of *first → last*. *Peak model calls at once* is counted by the Gemini emulator over all the processes' calls: never above ${QUEUE.concurrency} means the processes kept the one limit together.`
      : '',
    `Measured ${new Date().toISOString().slice(0, 10)}; this section took ${Math.round(tookS)} s. The machine is shared with other engineers' test runs: a load average above ${os.cpus().length} (its cores) means processes waited for a core, which lengthens each job's own work and lowers the figures.`,
    '',
    `\`npm run bench -- throughput\` runs this section alone and replaces it in BENCHMARKS.md (\`npx tsx bench/throughput.ts\` prints it); with \`LIMNER_TEST_DATABASE_URL\` set it runs the PostgreSQL rows too: \`${bothCommand}\` (all six runs, about 3 minutes). \`LIMNER_BENCH_PROCESSES\` (1,2,4), \`LIMNER_BENCH_DIALECTS\` (sqlite, plus postgres when \`LIMNER_TEST_DATABASE_URL\` is set) and \`LIMNER_BENCH_THROUGHPUT_LATENCY_MS\` (${LATENCY_MS}) choose the runs, \`LIMNER_BENCH_POLL_MS\` (200) \`queue.poll_ms\`.`,
    ...(ran.has('postgres')
      ? []
      : [
          '',
          `PostgreSQL: not measured in this run (\`LIMNER_TEST_DATABASE_URL\` unset or \`LIMNER_BENCH_DIALECTS\` without postgres); \`${bothCommand}\` measures both.`,
        ]),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const section = await run();
  console.log(`## ${section.title}\n\n${section.markdown}`);
}
