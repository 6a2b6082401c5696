import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { downloadName, safeCampaignName } from '../exports/names.ts';
import { writeFileAtomic } from '../platform/files.ts';
import type { RecapResult } from './recap.ts';

/** The storyboard's file name: `{campaign}_recap_turns_{from}-{to}.jpg`. */
export function storyboardName(result: Pick<RecapResult, 'campaign' | 'from' | 'to'>): string {
  return `${safeCampaignName(result.campaign.name, result.campaign.id)}_recap_turns_${result.from}-${result.to}.jpg`;
}

/**
 * Writes a recap into `dir` (created when missing): the storyboard as
 * `{campaign}_recap_turns_{from}-{to}.jpg` and each panel as `{campaign}_turn_{N}_recap_{i}.png`.
 * @returns Absolute paths of the storyboard and of the panels in order.
 */
export async function writeRecap(result: RecapResult, dir: string): Promise<{ storyboard: string; panels: string[] }> {
  await mkdir(dir, { recursive: true });
  const { campaign } = result;
  const storyboard = path.join(dir, storyboardName(result));
  await writeFileAtomic(storyboard, result.storyboard.data);
  const panels: string[] = [];
  for (const [i, panel] of result.panels.entries()) {
    const name = downloadName({ campaignName: campaign.name, campaignId: campaign.id, turn: panel.image.turn, mode: 'recap' });
    const file = path.join(dir, name.replace(/\.png$/, `_${i + 1}.png`));
    await writeFileAtomic(file, panel.png);
    panels.push(file);
  }
  return { storyboard, panels };
}
