import type { GenerationMode } from '../platform/schema.ts';

/**
 * A campaign name made safe for file names, per seed 17-6 (export and download) and its review:
 * every character outside `[A-Za-z0-9_-]` becomes `_` (ASCII only, so Content-Disposition needs
 * no RFC 5987 encoding), runs of `_` collapse, leading and trailing `_` go, at most 50 characters;
 * `campaign_<id>` when nothing is left.
 */
export function safeCampaignName(name: string, campaignId: string): string {
  const safe = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9_-]/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 50)
    .replace(/_+$/, '');
  return safe || `campaign_${campaignId}`;
}

/**
 * The name a user sees when saving a picture: `{campaign_name}_turn_{N}_{mode}.{ext}`
 * (seed 17-6), N being the 1-based turn.
 */
export function downloadName(input: {
  campaignName: string;
  campaignId: string;
  turn: number;
  mode: GenerationMode;
  extension?: 'png' | 'webp' | 'jpg';
}): string {
  return `${downloadStem(input)}.${input.extension ?? 'png'}`;
}

/** {@link downloadName} without the extension: `{campaign_name}_turn_{N}_{mode}`. */
export function downloadStem(input: { campaignName: string; campaignId: string; turn: number; mode: GenerationMode }): string {
  return `${safeCampaignName(input.campaignName, input.campaignId)}_turn_${input.turn}_${input.mode}`;
}

/**
 * Makes every name unique, keeping the first occurrence as is and numbering repeats `_2`, `_3`, ...
 * (seed 17-6's review: a zip must never overwrite one picture with another of the same turn and mode).
 * A numbered name that is itself taken is skipped, so the result never repeats.
 * @param stems - Names without extension, in the order their owners should be numbered.
 * @returns The unique names, in the same order.
 */
export function dedupeNames(stems: readonly string[]): string[] {
  const taken = new Set(stems);
  const used = new Set<string>();
  return stems.map((stem) => {
    if (!used.has(stem)) {
      used.add(stem);
      return stem;
    }
    let n = 2;
    while (used.has(`${stem}_${n}`) || taken.has(`${stem}_${n}`)) n++;
    used.add(`${stem}_${n}`);
    return `${stem}_${n}`;
  });
}

/**
 * The name of one zip of an export: `{campaign_name}_images.zip` when it is the only one (seed 17-6),
 * otherwise `{campaign_name}_images_part{k}of{n}.zip`.
 * @param safeName - From {@link safeCampaignName}.
 * @param part - 1-based.
 */
export function exportZipName(safeName: string, part: number, parts: number): string {
  return parts === 1 ? `${safeName}_images.zip` : `${safeName}_images_part${part}of${parts}.zip`;
}
