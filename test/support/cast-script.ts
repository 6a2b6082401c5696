import { CAST_SYSTEM } from '../../src/cast/proposer.ts';
import type { RecordedRequest } from '../emulators/gemini/server.ts';
import { requestText } from './scanner-script.ts';

/** True for a cast proposer's call (its system instruction). */
export function isCastCall(r: RecordedRequest): boolean {
  return ((r.body?.systemInstruction?.parts ?? []) as Array<{ text?: string }>).map((p) => p.text ?? '').join('') === CAST_SYSTEM;
}

/** Looks a model might give Critical Role's first party, by the names the story uses. */
export const VOX_MACHINA: Readonly<Record<string, string>> = {
  Grog: 'towering grey-skinned goliath barbarian, bald, tribal tattoos, a massive maul, fur and leather armour',
  Scanlan: 'small gnome bard with swept brown hair and moustache, a flamboyant red jacket, a lute on his back',
  Pike: 'tiny gnome cleric with white hair in a bun, dented plate armour and a holy symbol of Sarenrae',
  Keyleth: 'young half-elf druid, wild red hair, an antler headpiece, green and brown leaf-woven robes',
  Tiberius: 'crimson-scaled dragonborn sorcerer in rich blue and gold robes, crackling arcane energy',
  Trinket: 'large brown bear wearing light armour plates',
  Percy: 'pale human gunslinger, white hair, tinted spectacles, long dark coat, an ornate flintlock pistol',
};

/**
 * An `onText` script answering cast calls like a model would: the characters of `cast` the passage's
 * text names (whole word), with their looks. Other text calls keep the emulator's default answer.
 */
export function castScript(cast: Readonly<Record<string, string>> = VOX_MACHINA): (r: RecordedRequest) => string | undefined {
  return (r) => {
    if (!isCastCall(r)) return undefined;
    const text = requestText(r).replace(/^\[Turn \d+\] [^:\n]+: /gm, '');
    const characters = Object.entries(cast)
      .filter(([name]) => new RegExp(`\\b${name}\\b`).test(text))
      .map(([name, description]) => ({ name, description }));
    return JSON.stringify({ characters });
  };
}
