import { CampaignRepository } from './campaigns/repository.ts';
import type { Config, Secrets } from './config.ts';
import { GeminiGateway } from './generation/gemini.ts';
import { GenerationService } from './generation/service.ts';
import { ImageStore } from './images/store.ts';
import type { Logger } from './log.ts';
import { openStore, type Store } from './store/db.ts';
import { LinkStore } from './store/links.ts';
import { UsageLedger } from './store/usage.ts';

/** Everything a door (bot, CLI) needs, wired once per process. */
export interface Limner {
  readonly config: Config;
  readonly log: Logger;
  readonly store: Store;
  readonly campaigns: CampaignRepository;
  readonly images: ImageStore;
  readonly gateway: GeminiGateway;
  readonly generation: GenerationService;
  /** Channel links and posted scene messages (used by the Discord door). */
  readonly links: LinkStore;
  /** Every model call with tokens and estimated cost. */
  readonly usage: UsageLedger;
  /** Closes the database. */
  close(): void;
}

/**
 * Opens the database (applying migrations) and builds the services.
 * @throws UnsupportedModelError for an `imagen-*` model name, before anything runs.
 */
export function createLimner(config: Config, secrets: Secrets, log: Logger): Limner {
  const gateway = new GeminiGateway(config, secrets);
  const store = openStore(config.database_path);
  const campaigns = new CampaignRepository(config.campaigns_dir);
  const images = new ImageStore(store, config.campaigns_dir);
  const usage = new UsageLedger(store);
  const generation = new GenerationService({ config, campaigns, images, gateway, usage, log });
  const links = new LinkStore(store, config.discord.links);
  return { config, log, store, campaigns, images, gateway, generation, links, usage, close: () => store.close() };
}
