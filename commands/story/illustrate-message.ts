import { NotAStoryMessageError, NotPlayByPostError } from '../errors.ts';
import { ApplicationCommandType, ContextMenuCommandBuilder, InteractionContextType, MessageFlags, type Message } from 'discord.js';
import type { Limner } from '../../src/app.ts';
import type { ChannelSource } from '../../src/campaigns/campaign.ts';
import { isOutOfCharacter, snowflakeKey } from '../../src/campaigns/channel.ts';
import { repliedMessageId } from '../bot/message-reference.ts';
import { notStoryAuthor } from './record.ts';
import { answerWithScene, requesterOf } from '../bot/picture-reply.ts';
import { turnTitle } from '../bot/scene-message.ts';
import { visibleLink } from '../bot/visibility.ts';
import { NOT_LINKED } from '../scene.ts';
import type { MessageCommandModule } from '../types.ts';

/**
 * "Illustrate this message" (right-click a message → Apps): in a play-by-post channel, illustrates
 * the turn that message is, with the same context as `/scene turn` (the turns around it).
 * The whole story is read to find that turn, so the reply is deferred (publicly: the picture is
 * for the channel) first; a refusal then replaces it with a private answer.
 */
export const illustrateMessage: MessageCommandModule = {
  data: new ContextMenuCommandBuilder()
    .setName('Illustrate this message')
    .setType(ApplicationCommandType.Message)
    .setContexts(InteractionContextType.Guild),

  async execute(interaction, ctx) {
    const link = await visibleLink(ctx.limner, interaction.channelId, interaction.guildId);
    if (!link) {
      await interaction.reply({ content: NOT_LINKED, flags: MessageFlags.Ephemeral });
      return;
    }
    await interaction.deferReply();
    const campaign = await ctx.limner.campaigns.load(link.campaignId);
    if (campaign.source.kind !== 'channel') {
      throw new NotPlayByPostError(campaign.id, 'its turns are not messages: pick one with `/scene turn`.');
    }
    const target = interaction.targetMessage;
    const entry = campaign.transcript.entries.find((e) => e.messageId === target.id);
    if (!entry) throw new NotAStoryMessageError(await whyNotStory(target, campaign.source, ctx.limner));
    await answerWithScene(
      interaction,
      ctx,
      { kind: 'turn', campaignId: campaign.id, turn: entry.turn, requester: requesterOf(interaction) },
      (turn) => turnTitle(turn, `${entry.speaker}'s message`),
    );
  },
};

/** Why a message of this channel is not a turn of its story, in words for its author. */
async function whyNotStory(message: Message, source: ChannelSource, limner: Limner): Promise<string> {
  const prefix = limner.config.play_by_post.ooc_prefix;
  const author = notStoryAuthor(message, limner);
  if (author === 'bot') return 'it was written by a bot (the operator can list narrator bots in `play_by_post.narrator_bots`).';
  if (author) return 'it is an answer of an app, not a message of the story.';
  const repliedTo = repliedMessageId(message);
  if (repliedTo && (await limner.links.imageOfMessage(repliedTo))) return 'it is a reply to a picture, which asks for an edit.';
  if (isOutOfCharacter(message.content, prefix)) return `it starts with \`${prefix}\`, which marks it out of character.`;
  if (snowflakeKey(message.id) < snowflakeKey(source.startId)) return "it was posted before the story's start.";
  if (message.content.trim() === '') return 'it has no text to read.';
  return 'Limner has not recorded it (only messages people write in this channel are story).';
}
