import { MessageFlags, SlashCommandSubcommandBuilder } from 'discord.js';
import { CAMPAIGN_NAME_MAX_CHARS } from '../../src/campaigns/campaign.ts';
import { checkAttachment, downloadAttachment, downloadLimits } from '../edit/attachments.ts';
import { requireManageServer } from '../bot/permissions.ts';
import { turnsText, TRANSCRIPT_FORMATS } from '../bot/uploads.ts';
import type { SubcommandModule } from '../types.ts';

/**
 * `/scene new name:<..> transcript:<file>` (Manage Server): creates a campaign owned by this server
 * from an uploaded transcript, links the channel to it and says how many turns it has. The file is
 * checked (host, size) before the reply is deferred and downloaded within the reference images' limits;
 * a malformed one is refused privately with the line and the reason.
 */
export const newCampaign: SubcommandModule = {
  needsLink: false,
  data: new SlashCommandSubcommandBuilder()
    .setName('new')
    .setDescription("Create this server's own campaign from a transcript file and link this channel (needs Manage Server)")
    .addStringOption((o) =>
      o.setName('name').setDescription('The campaign’s name').setRequired(true).setMinLength(1).setMaxLength(CAMPAIGN_NAME_MAX_CHARS),
    )
    .addAttachmentOption((o) => o.setName('transcript').setDescription(TRANSCRIPT_FORMATS).setRequired(true)),

  async execute(interaction, { limner }) {
    if (!(await requireManageServer(interaction, 'create a campaign'))) return;
    const guildId = interaction.guildId;
    const name = interaction.options.getString('name', true).trim();
    if (!guildId || name === '') {
      await interaction.reply({ content: 'Give the campaign a name, in a server channel.', flags: MessageFlags.Ephemeral });
      return;
    }
    const attachment = interaction.options.getAttachment('transcript', true);
    const limits = downloadLimits(limner.config);
    checkAttachment(attachment, limits, 'transcript');
    await interaction.deferReply();
    const file = await downloadAttachment(attachment, limits, 'transcript');
    const made = await limner.newCampaigns.create({ name, guildId, file, by: interaction.user.id });
    const previous = await limner.links.link({
      channelId: interaction.channelId,
      guildId,
      campaignId: made.id,
      linkedBy: interaction.user.id,
    });
    const was = previous && previous !== made.id ? ` (was \`${previous}\`)` : '';
    await interaction.editReply(
      `Created **${made.name}** (\`${made.id}\`) from \`${attachment.name}\`: ${turnsText(made.turns)}. ` +
        `This channel now illustrates it${was}; only this server sees it. Try \`/scene current\` or \`/scene turn\`.`,
    );
  },
};
