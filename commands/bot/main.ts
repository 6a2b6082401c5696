import { createLimner } from '../../src/app.ts';
import { loadConfig, loadDotEnv } from '../../src/platform/config.ts';
import { LimnerError } from '../../src/errors.ts';
import { databaseWritable, startHealthServer } from '../../src/platform/health.ts';
import { createLogger } from '../../src/platform/log.ts';
import { checkBotSettings, startBot } from './client.ts';

/** At shutdown, how long handlers still answering users (failures, last edits) may take, ms. */
const DRAIN_MS = 10_000;

/**
 * `npm start`: the Discord bot. Stops cleanly on SIGINT/SIGTERM.
 *
 * The start scripts run it with `node --max-semi-space-size=2`. Every channel is cached (see
 * `client.ts`), and while 1,000 guilds' GUILD_CREATEs arrive V8 grows its young generation to 16 MB
 * semi-spaces and keeps them: idle RSS at 1,000 guilds × 50 channels is 160-173 MB without the flag,
 * over the 150 MB guard rail, and 133-143 MB with it (BENCHMARKS.md, figure 4).
 */
async function main(): Promise<void> {
  loadDotEnv();
  const { config, secrets } = loadConfig();
  const log = createLogger({ level: config.log.level, pretty: config.log.pretty });
  // Under ShardingManager each process runs one shard, named in SHARDS (discord.js's sharding contract).
  const shard = process.env.SHARDING_MANAGER ? Number(JSON.parse(process.env.SHARDS ?? '0')) : 0;
  const limner = await createLimner(config, secrets, log, { shard });
  let token: string;
  try {
    ({ token } = checkBotSettings(limner, secrets));
  } catch (err) {
    await limner.close();
    throw err;
  }
  // One bad interaction must never end the process: log what escaped every handler.
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection'));
  process.on('uncaughtException', (err) => log.error({ err }, 'uncaught exception'));
  const bot = startBot(limner, token);
  let health: Awaited<ReturnType<typeof startHealthServer>> | undefined;
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    // New commands are refused from here on; running jobs get the grace period, then are told they were stopped.
    log.info({ signal, ...limner.runner.load, graceMs: config.runtime.shutdown_grace_ms }, 'stopping');
    await limner.runner.close(config.runtime.shutdown_grace_ms);
    await bot.stop(DRAIN_MS);
    await health?.close();
    await limner.storybook?.close();
    await limner.close();
    log.info('stopped');
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  if (config.runtime.health_port !== null) {
    health = await startHealthServer({
      port: config.runtime.health_port === 0 ? 0 : config.runtime.health_port + shard,
      metrics: limner.metrics,
      health: async () => ({
        gateway: bot.client.isReady() ? 'ready' : 'connecting',
        databaseWritable: await databaseWritable(limner.store),
        queue: limner.runner.load,
      }),
    });
    log.info({ url: health.url }, 'health endpoint listening');
  }
  if (limner.storybook) log.info({ url: await limner.storybook.start() }, 'storybooks served');
  await bot.ready;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof LimnerError ? err.message : String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
