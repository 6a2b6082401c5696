import { editButton, editModal, rerollButton, undoButton } from './edit/buttons.ts';
import { replyToEdit } from './edit/reply.ts';
import { scene } from './scene.ts';
import { galleryLightbox, galleryPager } from './scene/gallery.ts';
import type { CommandModule, ComponentModule, MessageHandler } from './types.ts';

/** Every application command, by name: the one list the bot and `deploy-commands` share. */
export const commands: ReadonlyMap<string, CommandModule> = new Map([[scene.data.name, scene]]);

/** Component and modal handlers by `custom_id` prefix. */
export const components: ReadonlyMap<string, ComponentModule> = new Map(
  ([editButton, editModal, rerollButton, undoButton, galleryPager, galleryLightbox] as ComponentModule[]).map((c) => [c.prefix, c]),
);

/** Handlers offered each message the bot receives, in order; the first that handles it wins. */
export const messageHandlers: readonly MessageHandler[] = [replyToEdit];

/** The JSON bodies Discord's bulk-overwrite endpoint takes. */
export function commandPayloads() {
  return [...commands.values()].map((c) => c.data.toJSON());
}
