import { CampaignNotFoundError } from '../../src/campaigns/errors.ts';
import type { Limner } from '../../src/app.ts';
import type { CampaignSource } from '../../src/campaigns/campaign.ts';
import type { CampaignSummary } from '../../src/campaigns/repository.ts';
import { LimnerError } from '../../src/errors.ts';
import type { ChannelLink } from '../../src/campaigns/links.ts';

/**
 * The one rule for which campaigns a Discord guild may reach: a play-by-post campaign holds its
 * guild's private messages, registered characters, portraits and prompts, and a campaign made from a
 * transcript uploaded in a guild (`/scene new`) holds that guild's story, so only the guild named in
 * its `source` sees either; campaign folders the operator put there with a transcript file are for
 * every guild. Outside a guild (`guildId` null) only those are seen.
 */
export function visibleIn(source: CampaignSource, guildId: string | null): boolean {
  return source.guildId === undefined || source.guildId === guildId;
}

/**
 * Whether `guildId` may see campaign `id` ({@link visibleIn}). A campaign without a readable
 * `campaign.yaml` has no known owner, so it is seen by no guild (the operator CLI still reaches it).
 */
export async function isVisible(limner: Limner, id: string, guildId: string | null): Promise<boolean> {
  try {
    return visibleIn(await limner.campaigns.source(id), guildId);
  } catch (err) {
    if (err instanceof LimnerError) return false;
    throw err;
  }
}

/**
 * Refuses a campaign the guild may not see exactly as one that does not exist, so another guild's
 * play-by-post campaigns cannot even be confirmed.
 * @throws CampaignNotFoundError
 */
export async function requireVisible(limner: Limner, id: string, guildId: string | null): Promise<void> {
  if (!(await isVisible(limner, id, guildId))) throw new CampaignNotFoundError(id);
}

/** The campaigns the guild may see, for autocompletes; sorted by id like `CampaignRepository.list`. */
export async function visibleCampaigns(limner: Limner, guildId: string | null): Promise<CampaignSummary[]> {
  const all = await limner.campaigns.list();
  const visible = await Promise.all(all.map((c) => isVisible(limner, c.id, guildId)));
  return all.filter((_, i) => visible[i]);
}

/**
 * The channel's link, unless it names another guild's play-by-post campaign (a link made before
 * links were checked), which is then treated as no link at all. A link whose `campaign.yaml` is gone
 * or broken is kept: nothing of that campaign can be shown, and the command says what is wrong.
 */
export async function visibleLink(limner: Limner, channelId: string, guildId: string | null): Promise<ChannelLink | undefined> {
  const link = await limner.links.get(channelId);
  if (!link) return undefined;
  let source: CampaignSource;
  try {
    source = await limner.campaigns.source(link.campaignId);
  } catch (err) {
    if (err instanceof LimnerError) return link;
    throw err;
  }
  return visibleIn(source, guildId) ? link : undefined;
}
