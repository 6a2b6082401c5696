import type { GenerationMode } from '../store/schema.ts';

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
  return `${safeCampaignName(input.campaignName, input.campaignId)}_turn_${input.turn}_${input.mode}.${input.extension ?? 'png'}`;
}
