/**
 * One bot process for multi-process end-to-end tests, started by `forkBotProcess`
 * (`test/support/bot-processes.ts`): the real `createLimner` + `startBot` as one shard of a bot, on
 * the database and picture storage its config overrides name (by default the campaigns folder's
 * database file and pictures folder). discord.js takes its shard from `SHARDS` and `SHARD_COUNT` in
 * the environment, as under ShardingManager. Settings come as JSON in `LIMNER_TEST_BOT`; it sends
 * `ready` once the gateway is ready and stops cleanly on the message `stop`.
 */
import { createLimner } from '../../src/app.ts';
import { createLogger, silentLogger } from '../../src/platform/log.ts';
import { startBot } from '../../commands/bot/client.ts';
import { testConfig } from './fixtures.ts';

/** What the parent passes in `LIMNER_TEST_BOT`. */
export interface BotProcessSettings {
  readonly campaignsDir: string;
  readonly geminiUrl: string;
  readonly discordToken: string;
  readonly shard: number;
  /**
   * The Gemini API key this process sends (default `test-key`): the emulator records it with each
   * request, so a test can tell the processes' model calls apart.
   */
  readonly geminiKey?: string;
  /** Config layered last, e.g. `database`, `storage`, `queue`. */
  readonly overrides: Record<string, unknown>;
}

// A test that died without stopping it leaves no bot behind.
process.on('disconnect', () => process.exit(1));
const settings = JSON.parse(process.env.LIMNER_TEST_BOT ?? '{}') as BotProcessSettings;
const { config, secrets } = testConfig(settings.campaignsDir, settings.geminiUrl, settings.overrides, settings.geminiKey);
// LIMNER_TEST_BOT_LOG=warn (or another level) shows the process's log on stderr when a test fails.
const log = process.env.LIMNER_TEST_BOT_LOG ? createLogger({ level: process.env.LIMNER_TEST_BOT_LOG, destination: 2 }) : silentLogger;
const limner = await createLimner(config, { ...secrets, discordToken: settings.discordToken }, log, { shard: settings.shard });
const bot = startBot(limner, settings.discordToken);
await bot.ready;
process.send!('ready');
process.on('message', (message) => {
  if (message !== 'stop') return;
  void (async () => {
    await limner.runner.close(1_000);
    await bot.stop(1_000);
    await limner.close();
    process.exit(0);
  })();
});
