import type { ComponentModule } from '../types.ts';
import { CUSTOM_ID } from './ids.ts';
import { imageIdOf } from './buttons.ts';
import { answerWithPicture } from '../bot/picture-reply.ts';
import { turnTitle } from '../bot/scene-message.ts';

/**
 * Use n under a contact sheet of variations (`scene-use:<imageId>:<n>`): the requester's pick is
 * posted full size as a scene message and becomes their edit session; anyone else is told privately.
 */
export const useButton: ComponentModule = {
  prefix: CUSTOM_ID.use,
  async handle(interaction, ctx, args) {
    const imageId = imageIdOf(interaction, args);
    if (!interaction.isButton()) throw new Error(`${interaction.customId} is a button`);
    const { edits } = ctx.limner;
    const userId = interaction.user.id;
    await answerWithPicture(interaction, ctx, {
      check: () => void edits.pickable(imageId, userId),
      run: () => edits.pick({ imageId, userId }),
      title: (result) => turnTitle(result.image.turn, args[1] ? `variation ${args[1]}` : 'variation'),
    });
  },
};
