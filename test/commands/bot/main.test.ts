import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiscordEmulator } from '../../emulators/discord/server.ts';
import { ROOT, tempDir } from '../../support/fixtures.ts';

const run = promisify(execFile);
let tmp: { dir: string; cleanup: () => void };
beforeAll(() => {
  tmp = tempDir();
});
afterAll(() => tmp.cleanup());

async function script(file: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const out = await run(process.execPath, ['--import', 'tsx', path.join(ROOT, file)], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        LIMNER_CAMPAIGNS_DIR: tmp.dir,
        LIMNER_CONFIG: path.join(ROOT, 'test/support/test-config.yaml'),
        ...env,
      },
      timeout: 20_000,
    });
    return { code: 0, ...out };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm start', () => {
  it('refuses to start without a token, an application id and a Gemini key, listing each', async () => {
    const out = await script('commands/bot/main.ts', {});
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/Limner cannot start/);
    expect(out.stderr).toMatch(/- DISCORD_TOKEN/);
    expect(out.stderr).toMatch(/- DISCORD_APPLICATION_ID/);
    expect(out.stderr).toMatch(/- GEMINI_API_KEY/);
  });

  it('names only what is missing', async () => {
    const out = await script('commands/bot/main.ts', { DISCORD_TOKEN: 'x', DISCORD_APPLICATION_ID: '123456789012345678' });
    expect(out.code).toBe(1);
    expect(out.stderr).not.toMatch(/- DISCORD_TOKEN/);
    expect(out.stderr).toMatch(/- GEMINI_API_KEY/);
  });
});

describe('npm run deploy-commands', () => {
  let discord: DiscordEmulator;
  beforeAll(async () => {
    discord = await DiscordEmulator.start();
  });
  afterAll(async () => {
    await discord.close();
  });

  it('registers /scene in one guild when DISCORD_GUILD_ID is set, else globally', async () => {
    const env = { DISCORD_TOKEN: discord.token, DISCORD_APPLICATION_ID: discord.applicationId, DISCORD_API_BASE: discord.apiBase };
    const { id: guildId } = discord.addGuild({ name: 'Test' });
    const guild = await script('commands/bot/deploy.ts', { ...env, DISCORD_GUILD_ID: guildId });
    expect(guild.stdout).toBe(`Registered 2 application command(s) for guild ${guildId}.\n`);
    const [scene, menu] = discord.registeredCommands(guildId);
    expect(menu).toMatchObject({ name: 'Illustrate this message', type: 3 });
    expect(scene.name).toBe('scene');
    expect(scene.options.map((o: { name: string }) => o.name)).toEqual([
      'current',
      'turn',
      'best',
      'recap',
      'edit',
      'gallery',
      'export',
      'storybook',
      'usage',
      'link',
      'unlink',
      'character',
      'new',
      'update',
      'settings',
      'cast',
      'delete',
      'help',
    ]);
    const turn = scene.options.find((o: { name: string }) => o.name === 'turn');
    expect(turn.options[0]).toMatchObject({ name: 'number', type: 4, required: true, autocomplete: true, min_value: 1 });
    const global = await script('commands/bot/deploy.ts', env);
    expect(global.stdout).toMatch(/for all guilds/);
    expect(discord.registeredCommands()).toHaveLength(2);
  });
});
