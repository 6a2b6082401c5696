import { TooManyReferencesError } from '../../src/edits/errors.ts';
import { MAX_USER_REFERENCES, parseInstruction } from '../../src/edits/edit.ts';
import { repliedMessageId } from '../bot/message-reference.ts';
import type { MessageHandler } from '../types.ts';
import { checkAttachment, downloadAttachments, downloadLimits } from './attachments.ts';
import { answerMessageWithPicture } from '../bot/picture-reply.ts';
import { editTitle } from '../bot/scene-message.ts';

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
 * forwards (even of a scene picture) and messages that are not replies are left alone.
 */
export const replyToEdit: MessageHandler = {
  async handle(message, ctx) {
    const repliedTo = repliedMessageId(message);
    if (!message.inGuild() || !repliedTo) return false;
    const imageId = await ctx.limner.links.imageOfMessage(repliedTo);
    if (!imageId) return false;
    const botId = message.client.user.id;
    if (!ctx.limner.config.discord.message_content_intent && !message.mentions.users.has(botId)) {
      await message.reply(UNREADABLE_REPLY);
      return true;
    }
    const { edits, config } = ctx.limner;
    const text = message.content.replaceAll(new RegExp(`<@!?${botId}>`, 'g'), ' ');
    const attachments = [...message.attachments.values()];
    const requester = { userId: message.author.id, guildId: message.guildId, channelId: message.channelId };
    const limits = downloadLimits(config);
    await answerMessageWithPicture(message, ctx, {
      // Everything the message itself tells is checked before any reply line (such as "Fetching your
      // reference…") is posted: an edit that will be refused must not fetch its files or show progress first.
      check: async () => {
        parseInstruction(text);
        if (attachments.length > MAX_USER_REFERENCES) throw new TooManyReferencesError(attachments.length, MAX_USER_REFERENCES);
        for (const attachment of attachments) checkAttachment(attachment, limits);
        await edits.check(requester);
      },
      run: async (report) => {
        if (attachments.length > 0) report({ stage: 'fetching-references', count: attachments.length });
        const references = await downloadAttachments(attachments, limits);
        return edits.edit({ target: { kind: 'image', imageId }, requester, instruction: text, references }, { onProgress: report });
      },
      title: (result) => editTitle(result, 'edit'),
    });
    return true;
  },
};
