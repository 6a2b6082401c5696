import { editButton, editModal, rerollButton, undoButton } from './edit/buttons.ts';
import { castComponents } from './cast/buttons.ts';
import { deleteButton } from './edit/delete.ts';
import { promptButton, promptModal } from './edit/prompt.ts';
import { useButton } from './edit/use.ts';
import { replyToEdit } from './edit/reply.ts';
import { scene } from './scene.ts';
import { galleryLightbox, galleryPager } from './scene/gallery.ts';
import { illustrateMessage } from './story/illustrate-message.ts';
import { recordStory, storyRecorder } from './story/record.ts';
import type { ClientListener, CommandModule, ComponentModule, MessageCommandModule, MessageHandler } from './types.ts';

/** Every slash command, by name: with {@link messageCommands}, the list the bot and `deploy-commands` share. */
export const commands: ReadonlyMap<string, CommandModule> = new Map([[scene.data.name, scene]]);

/** Every message context-menu command (right-click a message → Apps), by name. */
export const messageCommands: ReadonlyMap<string, MessageCommandModule> = new Map([[illustrateMessage.data.name, illustrateMessage]]);

/** Component and modal handlers by `custom_id` prefix. */
export const components: ReadonlyMap<string, ComponentModule> = new Map(
  (
    [
      editButton,
      editModal,
      rerollButton,
      undoButton,
      promptButton,
      promptModal,
      deleteButton,
      useButton,
      galleryPager,
      galleryLightbox,
      ...castComponents,
    ] as ComponentModule[]
  ).map((c) => [c.prefix, c]),
);

/**
 * Handlers offered each message the bot receives, in order; the first that handles it wins, so a
 * reply that edits a picture is not recorded as play-by-post story.
 */
export const messageHandlers: readonly MessageHandler[] = [replyToEdit, recordStory];

/** Listeners for the other client events (play-by-post edits, deletions and catching up when ready). */
export const clientListeners: readonly ClientListener[] = [storyRecorder];

/** The JSON bodies Discord's bulk-overwrite endpoint takes. */
export function commandPayloads() {
  return [...[...commands.values()].map((c) => c.data.toJSON()), ...[...messageCommands.values()].map((c) => c.data.toJSON())];
}
