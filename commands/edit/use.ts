import type { ComponentModule } from '../types.ts';
import { ComponentIdError } from '../errors.ts';
import { CUSTOM_ID, variationOf } from './ids.ts';
import { answerWithPicture } from '../bot/picture-reply.ts';
import { turnTitle } from '../bot/scene-message.ts';

/**
 * Use n under a contact sheet of variations (`scene-use:<imageId>:<n>`): the requester's pick is
 * posted full size as a scene message and becomes their edit session; anyone else is told privately.
 */
export const useButton: ComponentModule = {
  prefix: CUSTOM_ID.use,
  async handle(interaction, ctx, args) {
    if (!interaction.isButton()) throw new ComponentIdError('it is not a button');
    const { image, position } = await variationOf(ctx.limner, args, interaction.guildId);
    const { edits } = ctx.limner;
    const userId = interaction.user.id;
    await answerWithPicture(interaction, ctx, {
      check: () => edits.pickable(image.id, userId).then(() => undefined),
      run: () => edits.pick({ imageId: image.id, userId }),
      title: (result) => turnTitle(result.image.turn, `variation ${position}`),
    });
  },
};
