import type { ChatInputCommandInteraction, SlashCommandSubcommandBuilder } from 'discord.js';
import { MAX_NOTE_CHARS, SHAPE_NAMES, SHAPES, type Quality, type Shape } from '../../src/scenes/canvas.ts';

/** What `shape`, `quality` and `note` add to a scene request. */
export interface SceneOptions {
  readonly shape?: Shape;
  readonly quality?: Quality;
  readonly note?: string;
}

/** Adds the optional `shape`, `quality` and `note` of `/scene current`, `turn` and `best`. */
export function withSceneOptions(builder: SlashCommandSubcommandBuilder): SlashCommandSubcommandBuilder {
  return builder
    .addStringOption((o) =>
      o
        .setName('shape')
        .setDescription("The picture's shape (default: this server's setting)")
        .addChoices(...SHAPE_NAMES.map((s) => ({ name: `${s} ${SHAPES[s]}`, value: s }))),
    )
    .addStringOption((o) =>
      o
        .setName('quality')
        .setDescription('Fast, or pro where this server allows it')
        .addChoices({ name: 'fast', value: 'fast' }, { name: 'pro', value: 'pro' }),
    )
    .addStringOption((o) =>
      o.setName('note').setDescription('A note for the artist, e.g. "focus on the dragon"').setMinLength(1).setMaxLength(MAX_NOTE_CHARS),
    );
}

/** The interaction's `shape`, `quality` and `note`, left out when not given. */
export function sceneOptionsOf(interaction: ChatInputCommandInteraction): SceneOptions {
  const shape = interaction.options.getString('shape') as Shape | null;
  const quality = interaction.options.getString('quality') as Quality | null;
  const note = interaction.options.getString('note');
  return { ...(shape ? { shape } : {}), ...(quality ? { quality } : {}), ...(note ? { note } : {}) };
}
