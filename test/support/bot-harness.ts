import { REST, Routes } from 'discord.js';
import { createLimner, type Limner } from '../../src/app.ts';
import { silentLogger, type Logger } from '../../src/platform/log.ts';
import { commandPayloads } from '../../commands/index.ts';
import { startBot, type Bot } from '../../commands/bot/client.ts';
import { DiscordEmulator } from '../emulators/discord/server.ts';
import type { EmulatorUser, InteractionHandle, InteractionResult, UploadFile } from '../emulators/discord/types.ts';
import { GeminiEmulator } from '../emulators/gemini/server.ts';
import { sampleCampaigns, testConfig } from './fixtures.ts';

/** `LIMNER_STORYBOOK_SECRET` of every harness. */
export const TEST_STORYBOOK_SECRET = 'harness-storybook-secret-0123456789abcdef';

/** Manage Server (1 << 5) on top of the emulator's default member permissions. */
export const MANAGE_GUILD = 1n << 5n;

/**
 * A `/scene` option's value in {@link BotHarness.scene}: text, an integer option's value (sent as
 * given, even when it is not whole), a Number option's `{ decimal }`, a boolean or a file to attach.
 */
export type SceneOptionValue = string | number | boolean | { readonly decimal: number } | UploadFile;

/** Both emulators, a guild with two text channels, the sample campaign and the real bot logged in. */
export interface BotHarness {
  readonly gemini: GeminiEmulator;
  readonly discord: DiscordEmulator;
  readonly limner: Limner;
  readonly bot: Bot;
  readonly guildId: string;
  /** `#campaign` and `#general`. */
  readonly channels: { readonly campaign: string; readonly general: string };
  /** A member with Manage Server, and two players without it. */
  readonly users: { readonly gm: EmulatorUser; readonly ana: EmulatorUser; readonly bo: EmulatorUser };
  /** Injects `/scene <sub>` with options `{ name: value }`; a file value is uploaded as an attachment option. */
  scene(
    sub: string,
    options?: Record<string, SceneOptionValue>,
    opts?: { user?: EmulatorUser; channelId?: string; attachmentSizeLimit?: number; createdAt?: number },
  ): Promise<InteractionHandle>;
  /** Injects an autocomplete for `/scene <sub>` with `focused` being typed. */
  autocomplete(
    sub: string,
    focused: { name: string; value: string; type: number },
    opts?: { user?: EmulatorUser; channelId?: string },
  ): Promise<InteractionResult>;
  close(): Promise<void>;
}

/**
 * Starts everything an end-to-end test needs on loopback; no network, no credentials.
 * @param overrides - Config layered last (e.g. `{ gemini: { total_timeout_ms: 500 } }`).
 */
export async function startBotHarness(overrides: Record<string, unknown> = {}, log: Logger = silentLogger): Promise<BotHarness> {
  const gemini = await GeminiEmulator.start();
  const discord = await DiscordEmulator.start();
  const campaigns = sampleCampaigns();
  const gm: EmulatorUser = { id: '310000000000000001', username: 'matt', global_name: 'Matt' };
  const ana: EmulatorUser = { id: '310000000000000002', username: 'ana', global_name: 'Ana' };
  const bo: EmulatorUser = { id: '310000000000000003', username: 'bo', global_name: 'Bo' };
  const guild = discord.addGuild({ name: 'Vox Machina', ownerId: gm.id, channels: [{ name: 'campaign' }, { name: 'general' }] });
  discord.addMember(guild.id, gm, { permissions: (1n << 10n) | (1n << 11n) | MANAGE_GUILD });
  discord.addMember(guild.id, ana);
  discord.addMember(guild.id, bo);
  const { config, secrets } = testConfig(campaigns.dir, gemini.url, {
    ...overrides,
    discord: { api_base: discord.apiBase, application_id: discord.applicationId, ...((overrides.discord as object) ?? {}) },
  });
  // A storybook secret, so a test can switch serving on with `{ storybook: { port: 0 } }`.
  const limner = await createLimner(config, { ...secrets, discordToken: discord.token, storybookSecret: TEST_STORYBOOK_SECRET }, log);
  const bot = startBot(limner, discord.token);
  await bot.ready;
  await new REST({ api: discord.apiBase }).setToken(discord.token).put(Routes.applicationGuildCommands(discord.applicationId, guild.id), {
    body: commandPayloads(),
  });
  const channels = { campaign: guild.channels[0]!.id, general: guild.channels[1]!.id };

  return {
    gemini,
    discord,
    limner,
    bot,
    guildId: guild.id,
    channels,
    users: { gm, ana, bo },
    scene(sub, options = {}, opts = {}) {
      const attachments: UploadFile[] = [];
      const wire = Object.entries(options).map(([name, value]) => {
        if (typeof value === 'object') {
          return 'decimal' in value ? { name, type: 10, value: value.decimal } : { name, type: 11, value: attachments.push(value) - 1 };
        }
        return { name, value, type: typeof value === 'number' ? 4 : typeof value === 'boolean' ? 5 : 3 };
      });
      return discord.sendCommand({
        guildId: guild.id,
        channelId: opts.channelId ?? channels.campaign,
        user: opts.user ?? ana,
        name: 'scene',
        options: [
          {
            type: 1,
            name: sub,
            options: wire,
          },
        ],
        ...(attachments.length > 0 ? { attachments } : {}),
        ...(opts.attachmentSizeLimit === undefined ? {} : { attachmentSizeLimit: opts.attachmentSizeLimit }),
        ...(opts.createdAt === undefined ? {} : { createdAt: opts.createdAt }),
      });
    },
    async autocomplete(sub, focused, opts = {}) {
      const handle = await discord.sendAutocomplete({
        guildId: guild.id,
        channelId: opts.channelId ?? channels.campaign,
        user: opts.user ?? ana,
        name: 'scene',
        options: [{ type: 1, name: sub, options: [{ ...focused, focused: true }] }],
      });
      return handle.acknowledged();
    },
    async close() {
      // Each step runs even when an earlier one fails, so a test run never hangs on a leftover server.
      const steps = [() => bot.stop(), () => limner.close(), () => discord.close(), () => gemini.close(), () => campaigns.cleanup()];
      const failures: unknown[] = [];
      for (const step of steps) {
        try {
          await step();
        } catch (err) {
          failures.push(err);
        }
      }
      if (failures.length > 0) throw new AggregateError(failures, 'bot harness did not close cleanly');
    },
  };
}
