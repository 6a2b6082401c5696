import { MessageFlags, PermissionFlagsBits, SlashCommandSubcommandBuilder } from 'discord.js';
import { parseCampaignId } from '../../src/campaigns/id.ts';
import type { SubcommandModule } from '../types.ts';

/**
 * `/scene link campaign:<id>`: links this channel to a campaign. Needs Manage Server.
 * Discord's `default_member_permissions` applies to a whole command, not one subcommand, so the
 * check is made here as well as documented for server admins (Server Settings → Integrations).
 */
export const link: SubcommandModule = {
  needsLink: false,
  data: new SlashCommandSubcommandBuilder()
    .setName('link')
    .setDescription('Link this channel to a campaign (needs Manage Server)')
    .addStringOption((o) =>
      o.setName('campaign').setDescription('Campaign id (folder name)').setRequired(true).setAutocomplete(true).setMaxLength(64),
    ),

  async execute(interaction, { limner }) {
    if (!interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) {
      await interaction.reply({ content: 'Only members with **Manage Server** can link a channel to a campaign.', flags: MessageFlags.Ephemeral });
      return;
    }
    const campaign = await limner.campaigns.load(parseCampaignId(interaction.options.getString('campaign', true)));
    const previous = limner.links.link({
      channelId: interaction.channelId,
      guildId: interaction.guildId ?? 'dm',
      campaignId: campaign.id,
      linkedBy: interaction.user.id,
    });
    const turns = campaign.transcript.entries.length.toLocaleString('en-US');
    const was = previous && previous !== campaign.id ? ` (was \`${previous}\`)` : '';
    await interaction.reply(
      `This channel now illustrates **${campaign.name}** (\`${campaign.id}\`, ${turns} turns)${was}. Try \`/scene current\` or \`/scene turn\`.`,
    );
  },

  async autocomplete(interaction, { limner }) {
    const typed = interaction.options.getFocused().toLowerCase();
    const campaigns = await limner.campaigns.list();
    await interaction.respond(
      campaigns
        .filter((c) => c.id.includes(typed) || c.name.toLowerCase().includes(typed))
        .slice(0, 25)
        .map((c) => ({ name: `${c.name} (${c.id})`.slice(0, 100), value: c.id })),
    );
  },
};
