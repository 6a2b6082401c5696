import { Client, Events, GatewayIntentBits, Options, Partials, RESTEvents, type Interaction, type Message } from 'discord.js';
import type { Limner } from '../../src/app.ts';
import type { Secrets } from '../../src/platform/config.ts';
import { LimnerError } from '../../src/errors.ts';
import { clientListeners, commands, components, messageCommands, messageHandlers } from '../index.ts';
import type { BotContext } from '../types.ts';
import { recoverInterruptedJobs } from './recover.ts';
import { replyWithError } from './respond.ts';

/** A logged-in (or logging-in) Limner bot. */
export interface Bot {
  readonly client: Client;
  /** Resolves once the gateway is ready and guilds are cached; rejects when login fails. */
  ready: Promise<void>;
  /**
   * Logs out and closes the gateway; does not close the database.
   * @param drainMs - First wait up to this long (ms) for handlers still answering users.
   */
  stop(drainMs?: number): Promise<void>;
}

/** Something required to start the bot is not configured; `missing` names each setting. */
export class BotConfigError extends LimnerError {
  readonly code = 'bot_config_missing';
  constructor(readonly missing: readonly string[]) {
    super(`Limner cannot start; set these first (see README, Discord setup):\n${missing.map((m) => `  - ${m}`).join('\n')}`);
  }
}

/**
 * Checks the bot's settings before anything connects.
 * @throws BotConfigError listing DISCORD_TOKEN, DISCORD_APPLICATION_ID and GEMINI_API_KEY when absent.
 */
export function checkBotSettings(limner: Limner, secrets: Secrets): { token: string } {
  const missing: string[] = [];
  if (!secrets.discordToken) missing.push('DISCORD_TOKEN: the bot token from the developer portal (Bot → Reset Token)');
  if (!limner.config.discord.application_id) {
    missing.push('DISCORD_APPLICATION_ID: the application id from the developer portal (General Information)');
  }
  if (!secrets.geminiApiKey) missing.push('GEMINI_API_KEY (or GOOGLE_API_KEY): a Gemini API key from Google AI Studio');
  if (missing.length > 0) throw new BotConfigError(missing);
  return { token: secrets.discordToken! };
}

/**
 * The caches Limner needs, within discord.js's supported limits: guilds with their channels and
 * threads (discord.js emits `messageCreate` only in cached channels, and replies to pictures and
 * play-by-post stories arrive that way), the bot's own member and user; nothing else. Limner
 * fetches the few messages it reads.
 */
const LIMNER_CACHES = Options.cacheWithLimits({
  MessageManager: 0,
  ReactionManager: 0,
  PresenceManager: 0,
  VoiceStateManager: 0,
  GuildEmojiManager: 0,
  GuildStickerManager: 0,
  GuildScheduledEventManager: 0,
  GuildInviteManager: 0,
  GuildBanManager: 0,
  StageInstanceManager: 0,
  ThreadMemberManager: 0,
  AutoModerationRuleManager: 0,
  GuildMemberManager: { maxSize: 0, keepOverLimit: (member) => member.id === member.client.user.id },
  UserManager: { maxSize: 0, keepOverLimit: (user) => user.id === user.client.user.id },
});

/**
 * Creates the discord.js client with the intents Limner uses (Guilds; GuildMessages for replies;
 * MessageContent only when `discord.message_content_intent` is on) and caches sized to them,
 * routes interactions to the command modules and logs in.
 * `discord.api_base` (DISCORD_API_BASE) points REST, and so the gateway URL, at another Discord.
 */
export function startBot(limner: Limner, token: string): Bot {
  const { config, log } = limner;
  const intents = [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages];
  if (config.discord.message_content_intent) intents.push(GatewayIntentBits.MessageContent);
  const client = new Client({
    intents,
    ...(config.discord.api_base ? { rest: { api: config.discord.api_base } } : {}),
    makeCache: LIMNER_CACHES,
    sweepers: Options.DefaultSweeperSettings,
    allowedMentions: { parse: [], repliedUser: true },
    // With no message cache, edits and deletions are only reported for messages as partials.
    partials: [Partials.Message],
  });
  const ctx: BotContext = { limner };
  for (const listener of clientListeners) listener.listen(client, ctx);

  // Handlers still answering are awaited at shutdown, so nobody is left without a reply.
  const inFlight = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };
  client.on(Events.InteractionCreate, (interaction) => track(handleInteraction(interaction, ctx)));
  client.on(Events.MessageCreate, (message) => track(handleMessage(message, ctx)));
  client.rest.on(RESTEvents.RateLimited, (info) => {
    limner.metrics.discordRateLimited.inc({ global: String(info.global) });
    log.debug({ route: info.route, global: info.global, waitMs: info.timeToReset, limit: info.limit }, 'waiting for a Discord rate limit');
  });
  client.on(Events.Error, (err) => log.error({ err }, 'discord client error'));
  client.on(Events.Warn, (message) => log.warn({ message }, 'discord client warning'));
  client.on(Events.ShardDisconnect, (event, shard) => log.warn({ code: event.code, shard }, 'gateway disconnected'));

  // The ready listener goes on before login: ready can fire before login() resolves.
  const ready = new Promise<void>((resolve, reject) => {
    client.once(Events.ClientReady, (c) => {
      log.info({ user: c.user.tag, guilds: c.guilds.cache.size }, 'bot ready');
      // Deleted pictures past `images.trash_days` leave the trash at start-up too, not only with `limner doctor --fix`.
      const purge = limner.deletions.purgeTrash().catch((err: unknown) => log.warn({ err }, 'could not purge the trash'));
      void Promise.all([recoverInterruptedJobs(limner, c), purge]).then(() => resolve());
    });
    client.login(token).catch(reject);
  });
  return {
    client,
    ready,
    stop: async (drainMs = 0) => {
      if (inFlight.size > 0 && drainMs > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => (timer = setTimeout(resolve, drainMs)))]);
        clearTimeout(timer);
      }
      await client.destroy();
    },
  };
}

/** Routes one interaction; never rejects, so one bad interaction cannot take the bot down. */
export async function handleInteraction(interaction: Interaction, ctx: BotContext): Promise<void> {
  const log = ctx.limner.log.child({ interaction: interaction.id, user: interaction.user.id, guild: interaction.guildId });
  try {
    if (interaction.isAutocomplete()) {
      const command = commands.get(interaction.commandName);
      await (command?.autocomplete ? command.autocomplete(interaction, ctx) : interaction.respond([]));
      return;
    }
    if (interaction.isChatInputCommand()) {
      const command = commands.get(interaction.commandName);
      if (!command) throw new Error(`no handler for /${interaction.commandName}`);
      const started = performance.now();
      await command.execute(interaction, ctx);
      log.info(
        { command: interaction.commandName, sub: interaction.options.getSubcommand(false), ms: Math.round(performance.now() - started) },
        'command done',
      );
      return;
    }
    if (interaction.isMessageContextMenuCommand()) {
      const command = messageCommands.get(interaction.commandName);
      if (!command) throw new Error(`no handler for message command ${interaction.commandName}`);
      const started = performance.now();
      await command.execute(interaction, ctx);
      log.info({ command: interaction.commandName, ms: Math.round(performance.now() - started) }, 'command done');
      return;
    }
    if (interaction.isButton() || interaction.isStringSelectMenu() || interaction.isModalSubmit()) {
      const [prefix = '', ...args] = interaction.customId.split(':');
      const component = components.get(prefix);
      if (!component) throw new Error(`no handler for component ${interaction.customId}`);
      await component.handle(interaction, ctx, args);
    }
  } catch (err) {
    if (interaction.isAutocomplete()) {
      log.warn({ err }, 'autocomplete failed');
      await interaction.respond([]).catch(() => undefined);
    } else if (interaction.isRepliable()) {
      await replyWithError(interaction, err, log);
    }
  }
}

/** Offers a message to the message handlers; never rejects. The bot's own messages are skipped. */
export async function handleMessage(message: Message, ctx: BotContext): Promise<void> {
  if (message.author.id === message.client.user.id || message.author.bot) return;
  try {
    for (const handler of messageHandlers) {
      if (await handler.handle(message, ctx)) return;
    }
  } catch (err) {
    ctx.limner.log.error({ err, message: message.id, channel: message.channelId }, 'message handler failed');
  }
}
