import { CampaignNotFoundError } from '../../src/campaigns/errors.ts';
import { HistoryUnreadableError, LinkOptionsError, MessageContentRequiredError, StartMessageError } from '../errors.ts';
import {
  DiscordAPIError,
  MessageFlags,
  PermissionFlagsBits,
  RESTJSONErrorCodes,
  SlashCommandSubcommandBuilder,
  type ChatInputCommandInteraction,
  type GuildTextBasedChannel,
} from 'discord.js';
import type { Limner } from '../../src/app.ts';
import { channelCampaignId, isSnowflake, previousSnowflake } from '../../src/campaigns/channel.ts';
import { parseCampaignId } from '../../src/campaigns/id.ts';
import { readHistory } from '../story/record.ts';
import type { BotContext, SubcommandModule } from '../types.ts';
import { ProgressReply } from '../bot/progress.ts';
import { requireVisible, visibleCampaigns } from '../bot/visibility.ts';

/** Least time between two progress edits while the history is read, ms (Discord rate-limits edits). */
const PROGRESS_INTERVAL_MS = 1000;

/** A message link as Discord's "Copy Message Link" gives it: guild, channel and message ids. */
const MESSAGE_LINK = /^https:\/\/(?:(?:ptb|canary)\.)?discord(?:app)?\.com\/channels\/(\d{17,20})\/(\d{17,20})\/(\d{17,20})\/?$/;

/**
 * `/scene link campaign:<id>` links this channel to a campaign folder; `/scene link source:channel
 * [start:<message link>]` makes this channel's (or thread's) own messages the story of its
 * play-by-post campaign `ch-<channel id>`, from the named message or from now on. Needs Manage Server.
 * Discord's `default_member_permissions` applies to a whole command, not one subcommand, so the
 * check is made here as well as documented for server admins (Server Settings → Integrations).
 * Another server's play-by-post campaign is refused (and never offered) as if it did not exist.
 * Refusals that need no Discord request or story are answered at once, privately; then the reply is
 * deferred before anything slow, and later refusals replace it with a private answer.
 */
export const link: SubcommandModule = {
  needsLink: false,
  data: new SlashCommandSubcommandBuilder()
    .setName('link')
    .setDescription('Link this channel to a campaign, or make its messages the story (needs Manage Server)')
    .addStringOption((o) => o.setName('campaign').setDescription('Campaign id (folder name)').setAutocomplete(true).setMaxLength(64))
    .addStringOption((o) =>
      o
        .setName('source')
        .setDescription('Where the story comes from (default: a campaign folder)')
        .addChoices({ name: 'a campaign folder', value: 'file' }, { name: "this channel's messages (play-by-post)", value: 'channel' }),
    )
    .addStringOption((o) =>
      o
        .setName('start')
        .setDescription("With source:channel, the story's first message (its link); default: from now on")
        .setMaxLength(200),
    ),

  async execute(interaction, ctx) {
    const { limner } = ctx;
    if (!interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) {
      await interaction.reply({
        content: 'Only members with **Manage Server** can link a channel to a campaign.',
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    if (interaction.options.getString('source') === 'channel') {
      await linkChannel(interaction, ctx);
      return;
    }
    const campaignId = interaction.options.getString('campaign');
    if (!campaignId) {
      throw new LinkOptionsError(
        "Name the campaign to link with `/scene link campaign:<id>`, or make this channel's messages the story with `/scene link source:channel`.",
      );
    }
    if (interaction.options.getString('start'))
      throw new LinkOptionsError('`start` names where a play-by-post story begins: use it with `source:channel`.');
    const id = parseCampaignId(campaignId);
    await requireVisible(limner, id, interaction.guildId);
    // Parsing a long transcript, or reading a whole play-by-post story, can take longer than Discord's 3 s.
    await interaction.deferReply();
    const campaign = await limner.campaigns.load(id);
    const previous = await limner.links.link({
      channelId: interaction.channelId,
      guildId: interaction.guildId ?? 'dm',
      campaignId: campaign.id,
      linkedBy: interaction.user.id,
    });
    const turns = campaign.transcript.entries.length.toLocaleString('en-US');
    const was = previous && previous !== campaign.id ? ` (was \`${previous}\`)` : '';
    await interaction.editReply(
      `This channel now illustrates **${campaign.name}** (\`${campaign.id}\`, ${turns} turns)${was}. Try \`/scene current\` or \`/scene turn\`.`,
    );
  },

  async autocomplete(interaction, { limner }) {
    const typed = interaction.options.getFocused().toLowerCase();
    const campaigns = await visibleCampaigns(limner, interaction.guildId);
    await interaction.respond(
      campaigns
        .filter((c) => c.id.includes(typed) || c.name.toLowerCase().includes(typed))
        .slice(0, 25)
        .map((c) => ({ name: `${c.name} (${c.id})`.slice(0, 100), value: c.id })),
    );
  },
};

/**
 * `source:channel`: refusals that need no request first (no intent, a campaign named too, not a
 * server channel); then the reply is deferred and the requests are made, refusing privately a start
 * that is not a message here or a history Limner may not read; then the campaign folder and the
 * link, and the channel's history from the start is read into the store while the reply shows
 * progress. Relinking without `start` keeps the story's start.
 * @throws MessageContentRequiredError, LinkOptionsError, StartMessageError, HistoryUnreadableError
 */
async function linkChannel(interaction: ChatInputCommandInteraction, { limner }: BotContext): Promise<void> {
  if (!limner.config.discord.message_content_intent) throw new MessageContentRequiredError();
  if (interaction.options.getString('campaign')) {
    throw new LinkOptionsError(
      'A play-by-post campaign is named after its channel (`ch-<channel id>`): leave out `campaign` with `source:channel`.',
    );
  }
  const notHere = () => new LinkOptionsError('Play-by-post works in server channels and threads.');
  if (!interaction.inCachedGuild()) throw notHere();
  const startText = interaction.options.getString('start')?.trim();
  await interaction.deferReply();
  const channel = interaction.channel;
  if (!channel || channel.isDMBased()) throw notHere();
  await readable(channel);
  const kept = startText ? undefined : await storyStart(limner, channel.id);
  const startId = startText ? await startMessage(channel, startText) : (kept ?? interaction.id);

  const source = { kind: 'channel', guildId: interaction.guildId, channelId: channel.id, startId } as const;
  const { id } = await limner.campaigns.linkChannel(source, `#${channel.name}`);
  const previous = await limner.links.link({
    channelId: channel.id,
    guildId: interaction.guildId,
    campaignId: id,
    linkedBy: interaction.user.id,
  });

  let shownAt = Date.now();
  const progress = new ProgressReply((text) => interaction.editReply(text), limner.log);
  const read = await readHistory(channel, previousSnowflake(startId), limner, {
    forgetUnseen: true,
    onPage: (messages) => {
      if (Date.now() - shownAt < PROGRESS_INTERVAL_MS) return;
      shownAt = Date.now();
      const text = `Reading this channel's history… ${messages.toLocaleString('en-US')} messages`;
      progress.showLatest(text);
    },
  });
  await progress.settled();
  const campaign = await limner.campaigns.load(id);
  limner.log.info(
    { campaign: id, channel: channel.id, messages: read.messages, pages: read.pages, forgotten: read.forgotten },
    'play-by-post channel linked',
  );

  const turns = campaign.transcript.entries.length;
  const since = startText ? 'from the message you named' : kept ? 'from the same start as before' : 'from now on';
  const was = previous && previous !== id ? ` (was \`${previous}\`)` : '';
  const ooc = limner.config.play_by_post.ooc_prefix;
  await interaction.editReply(
    [
      `This channel's messages are now the story of **${campaign.name}** (\`${id}\`)${was}: ${turns.toLocaleString('en-US')} ${turns === 1 ? 'turn' : 'turns'} so far, ${since}.`,
      `Bots' messages${ooc ? ` and messages starting with \`${ooc}\` (out of character)` : ''} are left out.`,
      'Register your character with `/scene character`, then try `/scene current`, or right-click a message → Apps → **Illustrate this message**.',
    ].join('\n'),
  );
}

/** The start recorded for a channel that already has a play-by-post campaign, if any (its story is not read). */
async function storyStart(limner: Limner, channelId: string): Promise<string | undefined> {
  try {
    const source = await limner.campaigns.source(channelCampaignId(channelId));
    return source.kind === 'channel' ? source.startId : undefined;
  } catch (err) {
    if (err instanceof CampaignNotFoundError) return undefined;
    throw err;
  }
}

/**
 * The message id of a message link (or a bare id) naming a message of `channel`.
 * @throws StartMessageError for anything else, or a message Discord does not have.
 */
async function startMessage(channel: GuildTextBasedChannel, text: string): Promise<string> {
  const link = MESSAGE_LINK.exec(text);
  const id = link ? (link[1] === channel.guildId && link[2] === channel.id ? link[3] : undefined) : isSnowflake(text) ? text : undefined;
  if (!id) throw new StartMessageError(text);
  try {
    await channel.messages.fetch({ message: id, cache: false });
  } catch (err) {
    if (err instanceof DiscordAPIError && err.code === RESTJSONErrorCodes.UnknownMessage) throw new StartMessageError(text);
    throw err;
  }
  return id;
}

/** Reads one message of the history so a missing permission is told before anything is linked. @throws HistoryUnreadableError */
async function readable(channel: GuildTextBasedChannel): Promise<void> {
  try {
    await channel.messages.fetch({ limit: 1, cache: false });
  } catch (err) {
    if (
      err instanceof DiscordAPIError &&
      (err.code === RESTJSONErrorCodes.MissingAccess || err.code === RESTJSONErrorCodes.MissingPermissions)
    ) {
      throw new HistoryUnreadableError({ cause: err });
    }
    throw err;
  }
}
