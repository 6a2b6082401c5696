import { SlashCommandSubcommandBuilder } from 'discord.js';
import { MAX_INSTRUCTION_CHARS, parseInstruction } from '../../src/edits/edit.ts';
import { checkAttachment, downloadAttachment, downloadLimits } from '../edit/attachments.ts';
import { editForInteraction, editTitle } from '../edit/run.ts';
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
    const { editing, config } = ctx.limner;
    const limits = downloadLimits(config);
    // Refusals that need no download or model call are answered at once, before the reply is deferred.
    await editing.requireSession(interaction.user.id, ctx.link.campaignId);
    const instruction = parseInstruction(interaction.options.getString('prompt', true));
    const attachment = interaction.options.getAttachment('reference');
    if (attachment) checkAttachment(attachment, limits);
    await editForInteraction(
      interaction,
      ctx,
      async (run) => {
        if (attachment) run.show('Fetching your reference…');
        const references = attachment ? [await downloadAttachment(attachment, limits)] : [];
        return editing.edit(
          {
            target: { kind: 'session', campaignId: ctx.link.campaignId },
            requestedBy: interaction.user.id,
            instruction,
            references,
            origin: run.origin,
          },
          run.options,
        );
      },
      (result) => editTitle(result, 'edit'),
    );
  },
};
