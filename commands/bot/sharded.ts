import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ShardingManager } from 'discord.js';
import { loadConfig, loadDotEnv } from '../../src/config.ts';

/**
 * `npm run start:sharded`: runs the bot under discord.js's ShardingManager, one process per shard
 * (`LIMNER_SHARDS`, default `auto`: Discord's recommendation). Every shard opens the same SQLite
 * file (WAL, busy timeout), which holds on one machine; see README, "Beyond one machine".
 */
loadDotEnv();
const { secrets } = loadConfig();
if (!secrets.discordToken) {
  process.stderr.write('Set DISCORD_TOKEN first (see README, Discord setup).\n');
  process.exit(1);
}
const shards = process.env.LIMNER_SHARDS;
const manager = new ShardingManager(path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts'), {
  token: secrets.discordToken,
  totalShards: shards && shards !== 'auto' ? Number(shards) : 'auto',
  // Shards are plain Node processes: they need tsx to load TypeScript.
  execArgv: ['--import', 'tsx'],
});
manager.on('shardCreate', (shard) => console.log(`shard ${shard.id} launched`));
await manager.spawn();
