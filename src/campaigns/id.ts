
declare const campaignIdBrand: unique symbol;
/** A campaign id that passed {@link parseCampaignId}: `[a-z0-9][a-z0-9-]{0,63}`, safe as a folder name. */
export type CampaignId = string & { readonly [campaignIdBrand]: true };

const CAMPAIGN_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * Checks a campaign id before it is used in any path.
 * @throws InvalidCampaignIdError for anything else (dots, slashes, upper case, too long).
 */
export function parseCampaignId(value: string): CampaignId {
  if (!CAMPAIGN_ID.test(value)) throw new InvalidCampaignIdError(value);
  return value as CampaignId;
}

/** True when `value` is a valid campaign id. */
export function isCampaignId(value: string): value is CampaignId {
  return CAMPAIGN_ID.test(value);
}import { InvalidCampaignIdError } from './errors.ts';

