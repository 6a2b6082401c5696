import { Collection, type Channel, type Client, type Guild } from 'discord.js';
import type { Logger } from 'pino';

/**
 * The guilds whose channels the bot keeps in discord.js' channel caches: those where Limner is in
 * use (a linked channel or a posted picture, see `LinkStore.guildsInUse`), plus DMs.
 *
 * discord.js caches every channel of every guild from GUILD_CREATE, about 1 KB each (50 MB for
 * 1,000 guilds of 50 channels, BENCHMARKS.md figure 4), and offers no supported limit for
 * `ChannelManager`/`GuildChannelManager` ("Overriding the cache handling … is unsupported and
 * breaks functionality", discord.js 14 `ChannelManager`): what breaks is everything that needs an
 * uncached channel. In a guild where Limner is not in use that is only `interaction.channel`
 * (null there); a guild comes into scope before anything of Limner's needs its channels there
 * ({@link include}: `/scene link`, the first picture), and then its channels are fetched.
 * Messages in guilds out of scope are dropped by discord.js unread, as Limner would ignore them.
 */
export class ChannelScope {
  private readonly guilds: Set<string>;
  /** Guilds whose channels are fetched or being fetched; a failed fetch is forgotten so the next use retries. */
  private readonly loading = new Map<string, Promise<void>>();

  /** @param guildIds - The guilds in use when the bot starts (their channels arrive with GUILD_CREATE). */
  constructor(
    guildIds: Iterable<string>,
    private readonly log: Logger,
  ) {
    this.guilds = new Set(guildIds);
    for (const id of this.guilds) this.loading.set(id, Promise.resolve());
  }

  /** True when the channel belongs in the cache: a DM, or a channel of a guild in scope. */
  keeps(channel: Channel): boolean {
    return channel.isDMBased() || this.guilds.has(channel.guildId);
  }

  /**
   * Brings a guild into scope: its channels are kept from now on, and the first time its channels
   * and active threads are fetched into the cache (2 REST requests). Resolves once they are.
   * Never rejects: a failed fetch is logged and tried again on the guild's next use.
   */
  include(guild: Guild): Promise<void> {
    this.guilds.add(guild.id);
    let loaded = this.loading.get(guild.id);
    if (!loaded) {
      loaded = Promise.all([guild.channels.fetch(), guild.channels.fetchActiveThreads()]).then(
        () => undefined,
        (err: unknown) => {
          this.loading.delete(guild.id);
          this.log.warn({ err, guild: guild.id }, "could not cache a guild's channels");
        },
      );
      this.loading.set(guild.id, loaded);
    }
    return loaded;
  }

  /**
   * At ready: brings into scope the guilds of the channels linked in config (`discord.links` names
   * channels only), fetching each such channel that is not cached (`channels.fetch` looks in the
   * cache first). Never rejects.
   */
  async includeChannels(client: Client<true>, channelIds: Iterable<string>): Promise<void> {
    for (const id of channelIds) {
      try {
        const channel = await client.channels.fetch(id);
        if (channel && !channel.isDMBased()) await this.include(channel.guild);
      } catch (err) {
        this.log.warn({ err, channel: id }, 'could not find a channel linked in config');
      }
    }
  }

  /** A cache for `ChannelManager` and `GuildChannelManager` that stores only the channels {@link keeps} accepts. */
  cache(): Collection<string, Channel> {
    return new ScopedChannels(this);
  }
}

/**
 * A channel collection that refuses channels out of scope. Without a `maxSize`, discord.js treats
 * it as its default caching. Derived collections (`filter`, `clone`, …) are plain collections.
 */
class ScopedChannels extends Collection<string, Channel> {
  static override get [Symbol.species](): typeof Collection {
    return Collection;
  }

  constructor(private readonly scope: ChannelScope) {
    super();
  }

  override set(id: string, channel: Channel): this {
    return this.scope.keeps(channel) ? super.set(id, channel) : this;
  }
}
