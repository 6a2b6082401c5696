import { cleanContent, Events, MessageType, type Client, type GuildTextBasedChannel, type Message, type PartialMessage } from 'discord.js';
import type { Limner } from '../../src/app.ts';
import { channelCampaignId, previousSnowflake, snowflakeKey, type ChannelMessage } from '../../src/campaigns/channel.ts';
import { repliedMessageId } from '../bot/message-reference.ts';
import type { ClientListener, MessageHandler } from '../types.ts';

/** Discord's largest history page (`GET /channels/:id/messages?limit=`). */
const HISTORY_PAGE = 100;

/**
 * True when a channel's messages are recorded: it is linked to its own play-by-post campaign
 * (`ch-<channel id>`) and the bot reads message text (Message Content intent).
 */
export async function isRecorded(limner: Limner, channelId: string): Promise<boolean> {
  return limner.config.discord.message_content_intent && (await limner.links.get(channelId))?.campaignId === channelCampaignId(channelId);
}

/**
 * What Limner keeps of a message in a recorded channel, or undefined for messages that are never
 * story: partial ones, Limner's own, interaction responses, bots' not listed in
 * `play_by_post.narrator_bots`, system and command messages, and replies to scene pictures (those are
 * edit requests, see reply-to-edit; a forward of one is not a reply). A message posted through a
 * channel webhook (a proxy bot re-posting a player's message as their character) is story, spoken
 * by the name it was posted under. Mentions are written as `@Name`.
 */
export async function storyMessageOf(message: Message | PartialMessage, limner: Limner): Promise<ChannelMessage | undefined> {
  if (message.partial || notStoryAuthor(message, limner)) return undefined;
  if (message.type !== MessageType.Default && message.type !== MessageType.Reply) return undefined;
  const repliedTo = repliedMessageId(message);
  if (repliedTo && (await limner.links.imageOfMessage(repliedTo))) return undefined;
  return {
    id: message.id,
    channelId: message.channelId,
    authorId: message.author.id,
    // A webhook's author has only a username: the name the proxy posted under.
    authorName: message.webhookId ? message.author.username : message.author.displayName,
    content: writtenMentions(message),
    createdAt: message.createdAt.toISOString(),
    editedAt: message.editedAt?.toISOString() ?? null,
    webhookId: message.webhookId,
  };
}

/**
 * Why a message's author keeps it out of the story, or undefined when the author may write story:
 * a person, a channel webhook (proxied characters) or a listed narrator bot.
 */
export function notStoryAuthor(message: Message, limner: Limner): 'own' | 'interaction' | 'bot' | undefined {
  if (message.author.id === message.client.user.id) return 'own';
  // Interaction responses and follow-ups are webhook messages too, but answers, not story.
  if (message.interactionMetadata) return 'interaction';
  if (message.webhookId) return undefined;
  if (message.author.bot && !limner.config.play_by_post.narrator_bots.includes(message.author.id)) return 'bot';
  return undefined;
}

/**
 * The text with mentions as names. Users come from the message's own mention list, since Limner
 * caches no members; channels, roles and emoji go through discord.js' `cleanContent`.
 */
function writtenMentions(message: Message): string {
  const named = message.content.replace(/<@!?(\d{17,20})>/g, (raw, id: string) => {
    const user = message.mentions.users.get(id);
    return user ? `@${user.displayName}` : raw;
  });
  return cleanContent(named, message.channel);
}

/** What {@link readHistory} did. */
export interface HistoryRead {
  /** Messages Discord returned (all authors). */
  readonly messages: number;
  readonly pages: number;
  /** Stored messages the history no longer has, marked deleted (only with `forgetUnseen`). */
  readonly forgotten: number;
}

/**
 * Reads a channel's history after `afterId` up to now, oldest first, 100 messages a page (Discord's
 * largest), and records the story messages of each page as it arrives.
 * @param options.forgetUnseen - Also mark deleted the stored messages of that span the history no
 *   longer has (deleted while Limner was not recording).
 * @param options.onPage - Called after each page with the messages read so far.
 * @throws DiscordAPIError when Discord refuses the history (e.g. Missing Access).
 */
export async function readHistory(
  channel: GuildTextBasedChannel,
  afterId: string,
  limner: Limner,
  options: { forgetUnseen?: boolean; onPage?: (messages: number) => void } = {},
): Promise<HistoryRead> {
  const seen = new Set<string>();
  let cursor = afterId;
  let pages = 0;
  for (;;) {
    const page = await channel.messages.fetch({ after: cursor, limit: HISTORY_PAGE, cache: false });
    pages++;
    if (page.size === 0) break;
    // Discord returns a page newest first.
    const oldestFirst = [...page.values()].sort((a, b) => (snowflakeKey(a.id) < snowflakeKey(b.id) ? -1 : 1));
    const stories: ChannelMessage[] = [];
    for (const m of oldestFirst) {
      const story = await storyMessageOf(m, limner);
      if (story) stories.push(story);
    }
    await limner.stories.record(stories);
    for (const m of oldestFirst) seen.add(m.id);
    cursor = oldestFirst.at(-1)!.id;
    options.onPage?.(seen.size);
    if (page.size < HISTORY_PAGE) break;
  }
  const forgotten = options.forgetUnseen && seen.size > 0 ? await limner.stories.forgetUnseen(channel.id, afterId, cursor, seen) : 0;
  return { messages: seen.size, pages, forgotten };
}

/**
 * Records new story messages as they arrive in recorded channels. It runs after reply-to-edit, so a
 * reply that edits a picture is not taken for story.
 */
export const recordStory: MessageHandler = {
  bots: true,
  async handle(message, { limner }) {
    if (!message.inGuild() || !(await isRecorded(limner, message.channelId))) return false;
    const story = await storyMessageOf(message, limner);
    if (!story) return false;
    await limner.stories.record([story]);
    return true;
  },
};

/**
 * Keeps recorded channels' stories current beyond new messages: edits, deletions (single and
 * bulk), and after downtime the messages posted while Limner was away, read from each channel's
 * history once the gateway is ready. Edits and deletions made while Limner was away are picked up
 * when the channel is linked again. Without the Message Content intent nothing is recorded.
 */
export const storyRecorder: ClientListener = {
  listen(client, { limner }) {
    const { log } = limner;
    if (!limner.config.discord.message_content_intent) {
      client.once(Events.ClientReady, () => {
        void limner.links.all().then(
          (links) => {
            const channels = links.filter((l) => l.campaignId === channelCampaignId(l.channelId)).length;
            if (channels > 0) log.warn({ channels }, 'play-by-post channels are not recorded: discord.message_content_intent is off');
          },
          (err: unknown) => log.error({ err }, 'could not read the channel links'),
        );
      });
      return;
    }
    // Events are recorded concurrently, so their order may change: the store keeps a deletion and
    // the newest edit whatever order they arrive in.
    const guard = (what: string, work: () => Promise<void>) => {
      work().catch((err: unknown) => log.error({ err }, `recording a message ${what} failed`));
    };
    client.on(Events.MessageUpdate, (_old, message) =>
      guard('edit', async () => {
        if (!(await isRecorded(limner, message.channelId))) return;
        const story = await storyMessageOf(message, limner);
        if (story) await limner.stories.record([story]);
      }),
    );
    client.on(Events.MessageDelete, (message) =>
      guard('deletion', async () => {
        if (await isRecorded(limner, message.channelId)) await limner.stories.remove(message.channelId, [message.id]);
      }),
    );
    client.on(Events.MessageBulkDelete, (messages, channel) =>
      guard('deletion', async () => {
        if (await isRecorded(limner, channel.id)) await limner.stories.remove(channel.id, [...messages.keys()]);
      }),
    );
    client.once(Events.ClientReady, (ready) => void catchUp(ready, limner));
    // A new gateway session after a lost one (not a resume) may have missed messages too.
    client.on(Events.ShardReady, () => {
      if (client.isReady()) void catchUp(client, limner);
    });
  },
};

/** Reads, for every recorded channel of this client's guilds, the history posted after its newest stored message. Never rejects. */
async function catchUp(client: Client<true>, limner: Limner): Promise<void> {
  let recorded;
  try {
    // Only called with the Message Content intent on: a channel is recorded when linked to its own campaign.
    recorded = (await limner.links.all()).filter((l) => l.campaignId === channelCampaignId(l.channelId));
  } catch (err) {
    limner.log.warn({ err }, 'could not read the channel links to catch up on play-by-post channels');
    return;
  }
  for (const { channelId, campaignId } of recorded) {
    const log = limner.log.child({ channel: channelId, campaign: campaignId });
    try {
      const campaign = await limner.campaigns.load(campaignId);
      // Under sharding each shard catches up on its own guilds.
      if (campaign.source.kind !== 'channel' || !client.guilds.cache.has(campaign.source.guildId)) continue;
      const start = previousSnowflake(campaign.source.startId);
      const latest = await limner.stories.latestId(channelId);
      const after = latest && snowflakeKey(latest) > snowflakeKey(start) ? latest : start;
      const channel = await client.channels.fetch(channelId);
      if (!channel?.isTextBased() || channel.isDMBased()) continue;
      const read = await readHistory(channel, after, limner);
      log.info({ messages: read.messages, pages: read.pages }, 'play-by-post history caught up');
    } catch (err) {
      log.warn({ err }, 'could not catch up on a play-by-post channel');
    }
  }
}
