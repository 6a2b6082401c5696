import { SlashCommandSubcommandBuilder } from 'discord.js';
import { MAX_INSTRUCTION_CHARS, parseInstruction } from '../../src/edits/edit.ts';
import { checkAttachment, downloadAttachment, downloadLimits } from '../edit/attachments.ts';
import { answerWithPicture, requesterOf } from '../bot/picture-reply.ts';
import { editTitle } from '../bot/scene-message.ts';
import type { SubcommandModule } from '../types.ts';

/**
 * `/scene edit prompt:<text> [reference:<image>]`: changes the user's session picture in the
 * channel's campaign (their latest generated or edited picture there) and moves the session to
 * the result. The attachment goes to the image model after the campaign's portraits.
 */
export const edit: SubcommandModule = {
  needsLink: true,
  data: new SlashCommandSubcommandBuilder()
    .setName('edit')
    .setDescription('Change your latest picture in this campaign')
    .addStringOption((o) =>
      o
        .setName('prompt')
        .setDescription('What to change, e.g. "make it night" or "give the dwarf a red cloak"')
        .setRequired(true)
        .setMinLength(1)
        .setMaxLength(MAX_INSTRUCTION_CHARS),
    )
    .addAttachmentOption((o) => o.setName('reference').setDescription('An image to match (PNG, JPEG, WebP or GIF)')),

  async execute(interaction, ctx) {
    const { edits, config } = ctx.limner;
    const limits = downloadLimits(config);
    const requester = requesterOf(interaction);
    const instruction = interaction.options.getString('prompt', true);
    const attachment = interaction.options.getAttachment('reference');
    await answerWithPicture(interaction, ctx, {
      // Refusals that need no download or model call are answered privately, before the reply is deferred.
      check: async () => {
        await edits.requireSession(interaction.user.id, ctx.link.campaignId);
        parseInstruction(instruction);
        if (attachment) checkAttachment(attachment, limits);
        await edits.check(requester);
      },
      run: async (report) => {
        if (attachment) report({ stage: 'fetching-references', count: 1 });
        const references = attachment ? [await downloadAttachment(attachment, limits)] : [];
        return edits.edit(
          { target: { kind: 'session', campaignId: ctx.link.campaignId }, requester, instruction, references },
          { onProgress: report },
        );
      },
      title: (result) => editTitle(result, 'edit'),
    });
  },
};
