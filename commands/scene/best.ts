import { SlashCommandSubcommandBuilder } from 'discord.js';
import { requesterOf } from '../bot/picture-reply.ts';
import { addCountOption, answerWithScenes, COUNT_OPTION } from '../bot/variations-reply.ts';
import { turnTitle } from '../bot/scene-message.ts';
import type { SubcommandModule } from '../types.ts';
import { sceneOptionsOf, withSceneOptions } from '../bot/scene-options.ts';

/**
 * `/scene best`: reads the whole transcript of the linked campaign, picks its most visually striking
 * turn and illustrates it. The reply shows the scan's progress (`Scanning 2,160 turns in 9 passages... 4/9`)
 * and ends with the picture, a quote of the turn and why it was chosen.
 */
export const best: SubcommandModule = {
  needsLink: true,
  data: withSceneOptions(
    new SlashCommandSubcommandBuilder().setName('best').setDescription('Find the most striking moment of the story and illustrate it'),
  ).addIntegerOption(addCountOption),

  async execute(interaction, ctx) {
    await answerWithScenes(
      interaction,
      ctx,
      { kind: 'best', campaignId: ctx.link.campaignId, requester: requesterOf(interaction), ...sceneOptionsOf(interaction) },
      interaction.options.getInteger(COUNT_OPTION),
      (turn) => turnTitle(turn, 'best scene'),
    );
  },
};
