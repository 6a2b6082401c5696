import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShardingManager } from 'discord.js';
import { loadConfig, loadDotEnv } from '../../src/config.ts';

/**
 * `npm run start:sharded`: runs the bot under discord.js's ShardingManager, one process per shard
 * (`runtime.shards`, default `auto`: Discord's recommendation). Every shard opens the same SQLite
 * file (WAL, busy timeout) on one machine; each stamps its jobs with its shard id so a restarting
 * shard fails only its own leftovers. See README, "Beyond one machine".
 */
loadDotEnv();
const { config, secrets } = loadConfig();
if (!secrets.discordToken) {
  process.stderr.write('Set DISCORD_TOKEN first (see README, Discord setup).\n');
  process.exit(1);
}
const manager = new ShardingManager(path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts'), {
  token: secrets.discordToken,
  totalShards: config.runtime.shards,
  // Shards are plain Node processes: they need tsx to load TypeScript.
  execArgv: ['--import', 'tsx'],
});
manager.on('shardCreate', (shard) => console.log(`shard ${shard.id} launched`));
await manager.spawn();
