import { MessageFlags, PermissionFlagsBits, Routes, type Client, type RepliableInteraction } from 'discord.js';
import type { Limner } from '../../src/app.ts';
import type { DeleteResult, DeleteTarget } from '../../src/images/delete.ts';
import type { Logger } from '../../src/platform/log.ts';
import type { ComponentModule } from '../types.ts';
import { ComponentIdError } from '../errors.ts';
import { CUSTOM_ID, pictureOf } from './ids.ts';
import { replyWithError } from '../bot/respond.ts';
import { heavyWork } from '../bot/heavy-work.ts';
import { variationsMessage } from '../bot/variations-reply.ts';

/**
 * Deletes a picture for the interaction's user and answers privately: allowed for its creator and
 * for members with Manage Messages in the channel (a refusal is private). The messages showing the
 * picture alone are removed and contact sheets it is on are redrawn without it. Never throws.
 */
export async function answerWithDeletion(interaction: RepliableInteraction, ctx: { limner: Limner }, target: DeleteTarget): Promise<void> {
  const { limner } = ctx;
  const log = limner.log.child({ interaction: interaction.id, guild: interaction.guildId, user: interaction.user.id });
  const request = {
    target,
    userId: interaction.user.id,
    moderator: interaction.memberPermissions?.has(PermissionFlagsBits.ManageMessages) ?? false,
  };
  try {
    await limner.deletions.allowed(request);
    await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  } catch (err) {
    await replyWithError(interaction, err, log);
    return;
  }
  try {
    const result = await limner.deletions.delete(request);
    await tidyMessages(interaction.client, limner, result, log);
    const { image } = result;
    const days = limner.config.images.trash_days;
    await interaction.editReply({
      content: `Deleted the picture of turn ${image.turn.toLocaleString('en-US')} (${image.mode}): it has left the gallery and exports. Its file is kept for ${days} ${days === 1 ? 'day' : 'days'}, then removed.`,
    });
  } catch (err) {
    await replyWithError(interaction, err, log);
  }
}

/** Removes the messages that showed a deleted picture and redraws the contact sheets it was on. */
async function tidyMessages(client: Client, limner: Limner, result: DeleteResult, log: Logger): Promise<void> {
  const remove = (channelId: string, messageId: string) =>
    client.rest.delete(Routes.channelMessage(channelId, messageId)).catch((err: unknown) => {
      // Someone may have removed it already; the picture is deleted either way.
      log.warn({ err, messageId }, 'could not remove a message showing a deleted picture');
    });
  for (const shown of result.messages) await remove(shown.channelId, shown.messageId);
  for (const sheet of result.sheets) {
    const ids = await limner.links.sheetImages(sheet.messageId);
    const payload = await heavyWork(() => variationsMessage(limner, ids));
    if (!payload) {
      await remove(sheet.channelId, sheet.messageId);
      continue;
    }
    try {
      const channel = await client.channels.fetch(sheet.channelId);
      if (channel?.isTextBased()) await channel.messages.edit(sheet.messageId, { ...payload, attachments: [] });
    } catch (err) {
      log.warn({ err, messageId: sheet.messageId }, 'could not redraw a contact sheet without a deleted picture');
    }
  }
}

/** Delete: the picture's creator, or anyone with Manage Messages, removes it (see {@link answerWithDeletion}). */
export const deleteButton: ComponentModule = {
  prefix: CUSTOM_ID.delete,
  async handle(interaction, ctx, args) {
    if (!interaction.isButton()) throw new ComponentIdError('it is not a button');
    const { id: imageId } = await pictureOf(ctx.limner, args, interaction.guildId);
    await answerWithDeletion(interaction, ctx, { kind: 'image', imageId });
  },
};
