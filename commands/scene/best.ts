import { SlashCommandSubcommandBuilder } from 'discord.js';
import { answerWithScene, requesterOf } from '../bot/picture-reply.ts';
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
  ),

  async execute(interaction, ctx) {
    await answerWithScene(
      interaction,
      ctx,
      { kind: 'best', campaignId: ctx.link.campaignId, requester: requesterOf(interaction), ...sceneOptionsOf(interaction) },
      (turn) => turnTitle(turn, 'best scene'),
    );
  },
};
