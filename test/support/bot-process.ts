/**
 * One bot process for multi-process end-to-end tests, started with `fork` (execArgv `--import tsx`):
 * the real `createLimner` + `startBot` as one shard of a bot, on the database file of the campaigns
 * folder it is given. discord.js takes its shard from `SHARDS` and `SHARD_COUNT` in the environment,
 * as under ShardingManager. Settings come as JSON in `LIMNER_TEST_BOT`; it sends `ready` once the
 * gateway is ready and stops cleanly on the message `stop`.
 */
import { createLimner } from '../../src/app.ts';
import { silentLogger } from '../../src/platform/log.ts';
import { startBot } from '../../commands/bot/client.ts';
import { testConfig } from './fixtures.ts';

/** What the parent passes in `LIMNER_TEST_BOT`. */
export interface BotProcessSettings {
  readonly campaignsDir: string;
  readonly geminiUrl: string;
  readonly discordToken: string;
  readonly shard: number;
  readonly overrides: Record<string, unknown>;
}

const settings = JSON.parse(process.env.LIMNER_TEST_BOT ?? '{}') as BotProcessSettings;
const { config, secrets } = testConfig(settings.campaignsDir, settings.geminiUrl, settings.overrides);
const limner = await createLimner(config, { ...secrets, discordToken: settings.discordToken }, silentLogger, { shard: settings.shard });
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
