import { CampaignRepository } from './campaigns/repository.ts';
import type { Config, Secrets } from './platform/config.ts';
import { GeminiGateway } from './platform/gemini.ts';
import { EditPicture } from './edits/edit.ts';
import { SceneScanner } from './scenes/best/scanner.ts';
import { IllustrateScene } from './scenes/illustrate.ts';
import { ExportCampaign } from './exports/export-campaign.ts';
import { DeletePicture } from './images/delete.ts';
import { ImageStore } from './images/store.ts';
import type { Logger } from './platform/log.ts';
import { openStore, type Store } from './platform/db.ts';
import { LinkStore } from './campaigns/links.ts';
import { ScanCache } from './scenes/best/scan-cache.ts';
import { SessionStore } from './edits/sessions.ts';
import { StoryStore } from './campaigns/stories.ts';
import { UsageLedger } from './usage/ledger.ts';
import { BudgetGuard } from './jobs/budget.ts';
import { JobRunner } from './jobs/runner.ts';
import { JobStore } from './jobs/store.ts';
import { Metrics } from './platform/metrics.ts';
import { storybookServer, type StorybookServer } from './exports/serve.ts';

/** Everything a door (bot, CLI) needs, wired once per process. */
export interface Limner {
  readonly config: Config;
  readonly log: Logger;
  readonly store: Store;
  readonly campaigns: CampaignRepository;
  readonly images: ImageStore;
  readonly gateway: GeminiGateway;
  /** Use case: illustrate a scene (current, turn, best). */
  readonly scenes: IllustrateScene;
  /** Use cases: edit, reroll and undo a picture. */
  readonly edits: EditPicture;
  /** Use case: delete a picture (to the trash, purged after `images.trash_days`). */
  readonly deletions: DeletePicture;
  /** Use case: export a campaign's pictures as zips. */
  readonly exports: ExportCampaign;
  /** Channel links and posted scene messages (used by the Discord door). */
  readonly links: LinkStore;
  /** Every model call with tokens and estimated cost. */
  readonly usage: UsageLedger;
  /** Each user's active edit session per campaign. */
  readonly sessions: SessionStore;
  /** Play-by-post channels' recorded messages and their members' characters. */
  readonly stories: StoryStore;
  /** Job rows, for restarts and reports. */
  readonly jobs: JobStore;
  /** Daily budgets and the cooldown. */
  readonly budgets: BudgetGuard;
  /** Budgets, the fair queue and job rows, under every use case that calls a model. */
  readonly runner: JobRunner;
  readonly metrics: Metrics;
  /** Serves campaign storybooks and signs links to them (started by the bot); null when `storybook.port` is null. */
  readonly storybook: StorybookServer | null;
  /** Closes the database. */
  close(): void;
}

/**
 * Opens the database (applying migrations) and builds the services. `config` comes from
 * `loadConfig`, whose schema has already refused unusable model names such as `imagen-*`.
 * @throws ConfigError when storybooks are served without a secret to sign their links.
 */
export function createLimner(config: Config, secrets: Secrets, log: Logger, options: { metrics?: Metrics; shard?: number } = {}): Limner {
  // Process metrics (event loop, memory) only matter when /metrics is served.
  const metrics = options.metrics ?? new Metrics({ processMetrics: config.runtime.health_port !== null });
  const store = openStore(config.database_path);
  const stories = new StoryStore(store, config.play_by_post.ooc_prefix);
  const campaigns = new CampaignRepository(config.campaigns_dir, stories);
  const images = new ImageStore(store, config.campaigns_dir);
  const usage = new UsageLedger(store, metrics);
  const gateway = new GeminiGateway(config, secrets, usage, (model, seconds, outcome) =>
    metrics.modelLatency.observe({ model, outcome }, seconds),
  );
  const jobs = new JobStore(store, options.shard ?? 0);
  const budgets = new BudgetGuard(config, usage, jobs);
  const runner = new JobRunner({ jobs, budgets, metrics, log }, { concurrency: config.queue.concurrency, perUser: config.queue.per_user });
  const sessions = new SessionStore(store);
  const scanner = new SceneScanner({ config, gateway, cache: new ScanCache(store), log });
  const scenes = new IllustrateScene({ config, campaigns, images, gateway, usage, sessions, scanner, runner, log });
  const edits = new EditPicture({ config, campaigns, images, gateway, usage, sessions, runner, log });
  const exports = new ExportCampaign({ campaigns, images });
  const links = new LinkStore(store, config.discord.links);
  const deletions = new DeletePicture({ images, sessions, links, log, trashDays: config.images.trash_days });
  const storybook = storybookServer(config, secrets, { campaigns, images, log, shard: options.shard ?? 0 });
  return {
    config,
    log,
    store,
    campaigns,
    images,
    gateway,
    scenes,
    edits,
    deletions,
    exports,
    links,
    usage,
    sessions,
    stories,
    jobs,
    budgets,
    runner,
    metrics,
    storybook,
    close: () => store.close(),
  };
}
