import { EmbedBuilder, MessageFlags, PermissionFlagsBits, SlashCommandSubcommandBuilder } from 'discord.js';
import type { Limner } from '../../src/app.ts';
import { LimnerError } from '../../src/errors.ts';
import { relative } from '../../src/jobs/budget.ts';
import type { ChannelLink } from '../../src/campaigns/links.ts';
import { visibleLink } from '../bot/visibility.ts';
import { turnsText } from '../bot/uploads.ts';
import type { SubcommandModule } from '../types.ts';

/**
 * `/scene help`: a private guide fitting the channel (not linked, linked to which campaign, or
 * play-by-post), every `/scene` subcommand with its one-line description, what this server's and
 * the member's budgets leave today, and how to link or create a campaign.
 * @param listed - The subcommands to list (`/scene`'s own, given late so this module need not import it).
 */
export function help(listed: () => readonly SubcommandModule[]): SubcommandModule {
  return {
    needsLink: false,
    data: new SlashCommandSubcommandBuilder().setName('help').setDescription('How to use Limner in this channel (private)'),

    async execute(interaction, { limner }) {
      const link = await visibleLink(limner, interaction.channelId, interaction.guildId);
      const manager = interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild) ?? false;
      const embed = new EmbedBuilder()
        .setTitle('Limner: pictures of your campaign')
        // The commands go in the description: an embed field holds 1,024 characters, too few for them all.
        .setDescription(
          [
            await channelState(limner, link),
            '',
            '**Commands**',
            ...listed().map((s) => `\`/scene ${s.data.name}\`: ${s.data.description}`),
          ].join('\n'),
        )
        .addFields(
          { name: 'Today', value: await budgetText(limner, interaction.guildId, interaction.user.id) },
          { name: link ? 'Another campaign' : 'Getting started', value: startText(manager) },
        );
      await interaction.reply({ embeds: [embed], flags: MessageFlags.Ephemeral });
    },
  };
}

/** What this channel illustrates. */
async function channelState(limner: Limner, link: ChannelLink | undefined): Promise<string> {
  if (!link) return 'This channel is **not linked** to a campaign yet, so there is nothing to illustrate here.';
  try {
    const campaign = await limner.campaigns.load(link.campaignId);
    const turns = turnsText(campaign.transcript.entries.length);
    if (campaign.source.kind === 'channel') {
      return `This channel is **play-by-post**: its own messages are the story of **${campaign.name}** (\`${campaign.id}\`, ${turns} so far). Register your character with \`/scene character\`, or right-click a message → Apps → **Illustrate this message**.`;
    }
    const owner = campaign.source.guildId ? ', made in this server' : '';
    return `This channel illustrates **${campaign.name}** (\`${campaign.id}\`, ${turns}${owner}). Try \`/scene current\`, \`/scene turn\` or \`/scene best\`; add \`shape\`, \`quality\` or a \`note\` to steer the picture, \`count\` for up to four variations to pick from.`;
  } catch (err) {
    if (!(err instanceof LimnerError)) throw err;
    return `This channel is linked to \`${link.campaignId}\`, which cannot be read right now: ${err.message}`;
  }
}

/** What the server's and the member's budgets leave today. */
async function budgetText(limner: Limner, guildId: string | null, userId: string): Promise<string> {
  const status = await limner.budgets.status(guildId, userId);
  const left = (n: number | null, unit: (x: number) => string) => (n === null ? 'no limit' : `${unit(n)} left`);
  const pictures = (n: number) => `${n} ${n === 1 ? 'picture' : 'pictures'}`;
  return [
    `This server: ${left(status.guildImagesLeft, pictures)} · ${left(status.guildUsdLeft, (n) => `$${n.toFixed(2)}`)}`,
    `You: ${left(status.userImagesLeft, pictures)}`,
    `Budgets reset ${relative(status.resetsAt - Date.now())} (00:00 UTC). More with \`/scene usage\`.`,
  ].join('\n');
}

/** How to link or create a campaign, for members who may and those who may not. */
function startText(manager: boolean): string {
  const how = [
    '`/scene link campaign:<id>` links this channel to a campaign on the server (the id autocompletes).',
    '`/scene new name:<..> transcript:<file>` creates this server’s own campaign from a transcript file (`transcript.json`, `transcript.jsonl`, a CRD3 episode, or text with one `Speaker: text` per line).',
    '`/scene link source:channel` makes this channel’s own messages the story (play-by-post).',
  ];
  return manager ? how.join('\n') : `Someone with **Manage Server** can do this:\n${how.join('\n')}`;
}
