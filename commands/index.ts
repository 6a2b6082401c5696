import { scene } from './scene.ts';
import type { CommandModule } from './types.ts';

/** Every application command, by name: the one list the bot and `deploy-commands` share. */
export const commands: ReadonlyMap<string, CommandModule> = new Map([[scene.data.name, scene]]);

/** The JSON bodies Discord's bulk-overwrite endpoint takes. */
export function commandPayloads() {
  return [...commands.values()].map((c) => c.data.toJSON());
}
