import { CampaignRepository } from './campaigns/repository.ts';
import type { Config, Secrets } from './config.ts';
import { GeminiGateway } from './generation/gemini.ts';
import { EditService } from './generation/edit.ts';
import { SceneScanner } from './generation/scanner.ts';
import { GenerationService } from './generation/service.ts';
import { ImageStore } from './images/store.ts';
import type { Logger } from './log.ts';
import { openStore, type Store } from './store/db.ts';
import { LinkStore } from './store/links.ts';
import { ScanCache } from './store/scan-cache.ts';
import { SessionStore } from './store/sessions.ts';
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
  /** Each user's active edit session per campaign. */
  readonly sessions: SessionStore;
  /** Edits, rerolls and undo on those sessions. */
  readonly editing: EditService;
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
  const sessions = new SessionStore(store);
  const scanner = new SceneScanner({ config, gateway, cache: new ScanCache(store), usage, log });
  const generation = new GenerationService({ config, campaigns, images, gateway, usage, sessions, scanner, log });
  const editing = new EditService({ config, campaigns, images, gateway, usage, sessions, log });
  const links = new LinkStore(store, config.discord.links);
  return { config, log, store, campaigns, images, gateway, generation, links, usage, sessions, editing, close: () => store.close() };
}
