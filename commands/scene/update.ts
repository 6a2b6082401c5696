import { SlashCommandSubcommandBuilder } from 'discord.js';
import { checkAttachment, downloadAttachment, downloadLimits } from '../edit/attachments.ts';
import { requireManageServer } from '../bot/permissions.ts';
import { turnsText, TRANSCRIPT_FORMATS } from '../bot/uploads.ts';
import type { SubcommandModule } from '../types.ts';

/**
 * `/scene update transcript:<file> [append]` (Manage Server): replaces the transcript of the channel's
 * campaign, or with `append:true` adds the file's turns after its last one. Only campaigns this server
 * made with `/scene new` can be changed; checks and limits as for `/scene new`.
 */
export const update: SubcommandModule = {
  needsLink: true,
  data: new SlashCommandSubcommandBuilder()
    .setName('update')
    .setDescription("Replace (or extend) the story of this server's campaign with a transcript file (needs Manage Server)")
    .addAttachmentOption((o) => o.setName('transcript').setDescription(TRANSCRIPT_FORMATS).setRequired(true))
    .addBooleanOption((o) => o.setName('append').setDescription('Add the file’s turns after the last turn instead of replacing the story')),

  async execute(interaction, { limner, link }) {
    if (!(await requireManageServer(interaction, "change a campaign's story"))) return;
    const attachment = interaction.options.getAttachment('transcript', true);
    const append = interaction.options.getBoolean('append') ?? false;
    const limits = downloadLimits(limner.config);
    checkAttachment(attachment, limits, 'transcript');
    const guildId = interaction.guildId ?? '';
    // Refused before anything is downloaded or shown: a campaign this server did not upload.
    await limner.newCampaigns.requireUploaded(link.campaignId, guildId);
    await interaction.deferReply();
    const file = await downloadAttachment(attachment, limits, 'transcript');
    const done = await limner.newCampaigns.update({ campaignId: link.campaignId, guildId, file, append, by: interaction.user.id });
    await interaction.editReply(
      append
        ? `Added ${turnsText(done.added)} from \`${attachment.name}\` to **${done.name}**: ${turnsText(done.turns)} now.`
        : `Replaced the story of **${done.name}** with \`${attachment.name}\`: ${turnsText(done.turns)}.`,
    );
  },
};
