import {
  Client,
  Events,
  GatewayIntentBits,
  LimitedCollection,
  Options,
  Partials,
  RESTEvents,
  type CacheFactory,
  type CacheWithLimitsOptions,
  type Interaction,
  type Message,
} from 'discord.js';
import type { Limner } from '../../src/app.ts';
import type { Secrets } from '../../src/platform/config.ts';
import { LimnerError } from '../../src/errors.ts';
import { clientListeners, commands, components, messageCommands, messageHandlers } from '../index.ts';
import { ComponentIdError } from '../errors.ts';
import type { BotContext, CommandModule } from '../types.ts';
import { checkOptions } from './option-check.ts';
import { recoverInterruptedJobs, watchAbandonedJobs } from './recover.ts';
import { replyWithError } from './respond.ts';
import { SeenInteractions } from './seen-interactions.ts';

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
 * Limits of the caches Limner does not read, within discord.js's supported options: messages,
 * reactions, presences and the like are not kept; of members and users only the bot's own. Guilds,
 * roles and channels, threads included, are kept in full in the client's and guilds' channel
 * caches: discord.js emits `messageCreate` only for cached channels, and replies to pictures and
 * play-by-post stories arrive that way. A text channel's own list of its threads is not kept
 * (`ThreadManager`): Limner never reads it. Limner fetches the few messages it reads.
 */
const CACHE_LIMITS = {
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
  ThreadManager: 0,
  ThreadMemberManager: 0,
  AutoModerationRuleManager: 0,
  GuildMemberManager: { maxSize: 0, keepOverLimit: (member) => member.id === member.client.user.id },
  UserManager: { maxSize: 0, keepOverLimit: (user) => user.id === user.client.user.id },
} satisfies CacheWithLimitsOptions;

const limitedCaches = Options.cacheWithLimits(CACHE_LIMITS);
/** A limit of 0 never stores anything, so one such collection serves every manager limited to 0. */
const NOTHING = new LimitedCollection<never, never>({ maxSize: 0 });

/**
 * {@link CACHE_LIMITS} as `Options.cacheWithLimits` makes them, except that managers limited to 0
 * share {@link NOTHING} instead of an empty collection each (a custom `makeCache` is supported for
 * every manager but those of guilds, channels, roles and permission overwrites). Each cached channel
 * has a message and a thread manager, and an empty `Map` is about 200 bytes: this holds the idle-RSS
 * guard rail (under 150 MB at 1,000 guilds × 50 channels; 157-168 MB with a collection each,
 * 133-143 MB shared; BENCHMARKS.md, figure 4).
 */
const limnerCaches: CacheFactory = (managerType, holds, manager) =>
  ((CACHE_LIMITS as Record<string, unknown>)[managerType.name] === 0
    ? NOTHING
    : limitedCaches(managerType, holds, manager)) as ReturnType<CacheFactory>;

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
    makeCache: limnerCaches,
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
  const seen = new SeenInteractions();
  client.on(Events.InteractionCreate, (interaction) => {
    if (seen.firstSight(interaction.id)) track(handleInteraction(interaction, ctx));
    else
      log.warn(
        { interaction: interaction.id, user: interaction.user.id, guild: interaction.guildId },
        'interaction delivered again: ignored',
      );
  });
  client.on(Events.MessageCreate, (message) => track(handleMessage(message, ctx)));
  client.rest.on(RESTEvents.RateLimited, (info) => {
    limner.metrics.discordRateLimited.inc({ global: String(info.global) });
    log.debug({ route: info.route, global: info.global, waitMs: info.timeToReset, limit: info.limit }, 'waiting for a Discord rate limit');
  });
  client.on(Events.Error, (err) => log.error({ err }, 'discord client error'));
  client.on(Events.Warn, (message) => log.warn({ message }, 'discord client warning'));
  client.on(Events.ShardDisconnect, (event, shard) => log.warn({ code: event.code, shard }, 'gateway disconnected'));

  let stopWatching: (() => void) | undefined;
  // The ready listener goes on before login: ready can fire before login() resolves.
  const ready = new Promise<void>((resolve, reject) => {
    client.once(Events.ClientReady, (c) => {
      log.info({ user: c.user.tag, guilds: c.guilds.cache.size }, 'bot ready');
      stopWatching = watchAbandonedJobs(limner, c);
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
      stopWatching?.();
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
      checkOptions(interaction.options.data, registered(command));
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
      if (!component) throw new ComponentIdError('its id is not one Limner makes');
      await component.handle(interaction, ctx, args);
    }
  } catch (err) {
    if (interaction.isAutocomplete()) {
      log.warn({ err }, 'autocomplete failed');
      await interaction.respond([]).catch(() => undefined);
    } else if (interaction.isRepliable()) {
      await replyWithError(interaction, err, log);
    }
  } finally {
    // Answered, with a picture or an error: no other process is to post its job's picture late.
    if (!interaction.isAutocomplete()) {
      await ctx.limner.jobs.delivered(interaction.id).catch((err: unknown) => log.warn({ err }, 'could not record the answer'));
    }
  }
}

const registeredJson = new WeakMap<CommandModule, ReturnType<CommandModule['data']['toJSON']>>();

/** The command as it is registered with Discord (its builder's JSON), built once. */
function registered(command: CommandModule): ReturnType<CommandModule['data']['toJSON']> {
  let json = registeredJson.get(command);
  if (!json) registeredJson.set(command, (json = command.data.toJSON()));
  return json;
}

/**
 * Offers a message to the message handlers; never rejects. The bot's own messages are skipped, and
 * other bots' and webhooks' go only to the handlers that take them.
 */
export async function handleMessage(message: Message, ctx: BotContext): Promise<void> {
  if (message.author.id === message.client.user.id) return;
  try {
    for (const handler of messageHandlers) {
      if (message.author.bot && !handler.bots) continue;
      if (await handler.handle(message, ctx)) return;
    }
  } catch (err) {
    ctx.limner.log.error({ err, message: message.id, channel: message.channelId }, 'message handler failed');
  }
}
