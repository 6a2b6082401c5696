import { REST, Routes } from 'discord.js';
import { loadConfig, loadDotEnv } from '../../src/platform/config.ts';
import { LimnerError } from '../../src/errors.ts';
import { commandPayloads } from '../index.ts';
import { BotConfigError } from './client.ts';

/**
 * `npm run deploy-commands`: registers the application commands with Discord's bulk overwrite,
 * in one guild when DISCORD_GUILD_ID is set (instant), else globally.
 */
async function main(): Promise<void> {
  loadDotEnv();
  const { config, secrets } = loadConfig();
  const missing = [
    ...(secrets.discordToken ? [] : ['DISCORD_TOKEN']),
    ...(config.discord.application_id ? [] : ['DISCORD_APPLICATION_ID']),
  ];
  if (missing.length > 0) throw new BotConfigError(missing);
  const appId = config.discord.application_id!;
  const rest = new REST(config.discord.api_base ? { api: config.discord.api_base } : {}).setToken(secrets.discordToken!);
  const body = commandPayloads();
  const route = config.discord.guild_id
    ? Routes.applicationGuildCommands(appId, config.discord.guild_id)
    : Routes.applicationCommands(appId);
  const saved = (await rest.put(route, { body })) as unknown[];
  const scope = config.discord.guild_id ? `guild ${config.discord.guild_id}` : 'all guilds (global; may take up to an hour to appear)';
  console.log(`Registered ${saved.length} application command(s) for ${scope}.`);
}

main().catch((err: unknown) => {
  process.stderr.write(`deploy-commands: ${err instanceof LimnerError ? err.message : (err as Error).message}\n`);
  process.exit(1);
});
