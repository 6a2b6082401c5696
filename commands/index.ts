import { scene } from './scene.ts';
import type { CommandModule, ComponentModule, MessageHandler } from './types.ts';

/** Every application command, by name: the one list the bot and `deploy-commands` share. */
export const commands: ReadonlyMap<string, CommandModule> = new Map([[scene.data.name, scene]]);

/** Component and modal handlers by `custom_id` prefix. */
export const components: ReadonlyMap<string, ComponentModule> = new Map(([] as ComponentModule[]).map((c) => [c.prefix, c]));

/** Handlers offered each message the bot receives, in order; the first that handles it wins. */
export const messageHandlers: readonly MessageHandler[] = [];

/** The JSON bodies Discord's bulk-overwrite endpoint takes. */
export function commandPayloads() {
  return [...commands.values()].map((c) => c.data.toJSON());
}
