import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShardingManager } from 'discord.js';
import { loadConfig, loadDotEnv } from '../../src/platform/config.ts';

/**
 * `npm run start:sharded`: runs the bot under discord.js's ShardingManager, one process per shard
 * (`runtime.shards`, default `auto`: Discord's recommendation). Every shard opens the same database
 * (one SQLite file in WAL mode with a busy timeout, or PostgreSQL when hosts share it); each stamps
 * its jobs with its shard id so a restarting shard fails only its own leftovers.
 * `runtime.shard_list` runs part of the shards on this host (discord.js `shardList`). See README,
 * "Several processes" and "Several hosts".
 */
loadDotEnv();
const { config, secrets } = loadConfig();
if (!secrets.discordToken) {
  process.stderr.write('Set DISCORD_TOKEN first (see README, Discord setup).\n');
  process.exit(1);
}
// Compiled (npm run start:sharded) the shards run main.js; from the sources they need tsx for main.ts.
// They get this process's Node flags, such as the start script's semi-space limit (see main.ts).
const self = fileURLToPath(import.meta.url);
const compiled = self.endsWith('.js');
const manager = new ShardingManager(path.join(path.dirname(self), compiled ? 'main.js' : 'main.ts'), {
  token: secrets.discordToken,
  totalShards: config.runtime.shards,
  ...(config.runtime.shard_list ? { shardList: config.runtime.shard_list } : {}),
  execArgv: compiled ? process.execArgv : [...process.execArgv, '--import', 'tsx'],
});
manager.on('shardCreate', (shard) => console.log(`shard ${shard.id} launched`));
await manager.spawn();
