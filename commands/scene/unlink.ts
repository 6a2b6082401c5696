import { MessageFlags, PermissionFlagsBits, SlashCommandSubcommandBuilder } from 'discord.js';
import type { SubcommandModule } from '../types.ts';

/** `/scene unlink`: removes this channel's campaign link. Needs Manage Server. */
export const unlink: SubcommandModule = {
  needsLink: false,
  data: new SlashCommandSubcommandBuilder().setName('unlink').setDescription('Unlink this channel from its campaign (needs Manage Server)'),

  async execute(interaction, { limner }) {
    if (!interaction.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) {
      await interaction.reply({ content: 'Only members with **Manage Server** can unlink a channel.', flags: MessageFlags.Ephemeral });
      return;
    }
    const removed = await limner.links.unlink(interaction.channelId);
    if (limner.links.isConfigured(interaction.channelId)) {
      const still = (await limner.links.get(interaction.channelId))!;
      await interaction.reply({
        content: `This channel is linked to \`${still.campaignId}\` in Limner's configuration; the operator can remove it from \`discord.links\`.`,
        flags: MessageFlags.Ephemeral,
      });
      return;
    }
    if (!removed) {
      await interaction.reply({ content: 'This channel is not linked to a campaign.', flags: MessageFlags.Ephemeral });
      return;
    }
    await interaction.reply(`This channel is no longer linked to \`${removed}\`.`);
  },
};
