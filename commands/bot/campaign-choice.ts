import type { AutocompleteInteraction, ChatInputCommandInteraction, SlashCommandStringOption } from 'discord.js';
import type { Limner } from '../../src/app.ts';
import { parseCampaignId, type CampaignId } from '../../src/campaigns/id.ts';
import type { BotContext } from '../types.ts';
import { requireVisible, visibleCampaigns } from './visibility.ts';
import { NoCampaignChosenError } from '../errors.ts';

/** Name of the option through which gallery and export reach any campaign with pictures that this server may see. */
export const CAMPAIGN_OPTION = 'campaign';

/** The optional, autocompleted {@link CAMPAIGN_OPTION} of gallery, export and storybook (ids are at most 64 characters). */
export function campaignOption(option: SlashCommandStringOption): SlashCommandStringOption {
  return option.setName(CAMPAIGN_OPTION).setDescription("Campaign (default: this channel's)").setAutocomplete(true).setMaxLength(64);
}

/**
 * The campaign a command is about: its `campaign` option when given (so one channel can browse
 * another campaign's pictures), else the channel's linked campaign. Either way it is a campaign this
 * guild may see (see `visibleIn`).
 * @throws NoCampaignChosenError when neither; InvalidCampaignIdError for a typed id that is not one;
 *   CampaignNotFoundError for a campaign that does not exist or belongs to another guild.
 */
export async function chosenCampaign(interaction: ChatInputCommandInteraction, { limner }: BotContext): Promise<CampaignId> {
  const typed = interaction.options.getString(CAMPAIGN_OPTION);
  const link = typed ? undefined : await limner.links.get(interaction.channelId);
  const id = typed ? parseCampaignId(typed) : link ? parseCampaignId(link.campaignId) : undefined;
  if (!id) throw new NoCampaignChosenError();
  await requireVisible(limner, id, interaction.guildId);
  return id;
}

/** A campaign's display name, or '' when its folder is gone (names then fall back to `campaign_<id>`). */
export async function campaignName(limner: Limner, id: CampaignId): Promise<string> {
  return (await limner.campaigns.list()).find((c) => c.id === id)?.name ?? '';
}

/**
 * Autocompletes the `campaign` option with the campaigns this guild may see that have pictures,
 * and how many, e.g. `Arrival at Kraghammer (12 images)`, matching what was typed against id and name.
 */
export async function autocompleteCampaignsWithPictures(interaction: AutocompleteInteraction, { limner }: BotContext): Promise<void> {
  const typed = interaction.options.getFocused().toLowerCase();
  const names = new Map((await visibleCampaigns(limner, interaction.guildId)).map((c) => [c.id as string, c.name]));
  const choices = (await limner.images.countByCampaign())
    .flatMap(({ campaignId, count }) => {
      const name = names.get(campaignId);
      return name === undefined ? [] : [{ id: campaignId, name, count }];
    })
    .filter((c) => c.id.includes(typed) || c.name.toLowerCase().includes(typed))
    .slice(0, 25)
    .map((c) => ({
      name: `${c.name} (${c.count.toLocaleString('en-US')} ${c.count === 1 ? 'image' : 'images'})`.slice(0, 100),
      value: c.id,
    }));
  await interaction.respond(choices);
}
