import { parseInstruction } from '../../src/generation/edit.ts';
import type { MessageHandler } from '../types.ts';
import { downloadAttachments, downloadLimits } from './attachments.ts';
import { EDIT_STAGE_TEXT, editForMessage, editTitle } from './run.ts';

/**
 * Said to a reply to a scene picture whose text Limner cannot see: without the Message Content
 * intent Discord blanks the text (and attachments) of messages that do not mention the bot.
 */
export const UNREADABLE_REPLY =
  "I can't read replies that don't mention me. Reply again with the mention on (the @ toggle while replying, on by default), or use `/scene edit`.";

/**
 * Reply-to-edit: a reply to a scene picture the bot posted edits that picture with the reply's
 * text (mentions of the bot removed) and the images attached to it as extra references; the
 * replier's session in the picture's campaign moves to the result. Replies to other messages,
 * and messages that are not replies, are left alone.
 */
export const replyToEdit: MessageHandler = {
  async handle(message, ctx) {
    if (!message.inGuild() || !message.reference?.messageId) return false;
    const imageId = ctx.limner.links.imageOfMessage(message.reference.messageId);
    if (!imageId) return false;
    const botId = message.client.user.id;
    if (!ctx.limner.config.discord.message_content_intent && !message.mentions.users.has(botId)) {
      await message.reply(UNREADABLE_REPLY);
      return true;
    }
    const { editing, config } = ctx.limner;
    const text = message.content.replaceAll(new RegExp(`<@!?${botId}>`, 'g'), ' ');
    const attachments = [...message.attachments.values()];
    await editForMessage(
      message,
      ctx,
      async (show) => {
        const instruction = parseInstruction(text);
        if (attachments.length > 0) show(attachments.length === 1 ? 'Fetching your reference…' : 'Fetching your references…');
        const references = await downloadAttachments(attachments, downloadLimits(config));
        return editing.edit(
          {
            target: { kind: 'image', imageId },
            requestedBy: message.author.id,
            instruction,
            references,
            origin: { guildId: message.guildId, channelId: message.channelId },
          },
          { onProgress: (stage) => show(EDIT_STAGE_TEXT[stage]) },
        );
      },
      (result) => editTitle(result, 'edit'),
    );
    return true;
  },
};
