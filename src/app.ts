import { CampaignRepository } from './campaigns/repository.ts';
import type { Config, Secrets } from './platform/config.ts';
import { GeminiGateway } from './platform/gemini.ts';
import { EditPicture } from './edits/edit.ts';
import { SceneScanner } from './scenes/best/scanner.ts';
import { IllustrateScene } from './scenes/illustrate.ts';
import { ExportCampaign } from './exports/export-campaign.ts';
import { DeletePicture } from './images/delete.ts';
import { ImageStore } from './images/store.ts';
import { openPictureStorage } from './images/open-storage.ts';
import type { PictureStorage } from './images/storage.ts';
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
import { SceneLeases } from './jobs/scene-leases.ts';
import { Metrics } from './platform/metrics.ts';
import { storybookServer, type StorybookServer } from './exports/serve.ts';
import { GuildSettings } from './settings/settings.ts';
import { CreateCampaign } from './campaigns/create-campaign.ts';
import { CastCampaign } from './cast/cast.ts';
import { CastProposer } from './cast/proposer.ts';
import { CastStore } from './cast/store.ts';
import { MomentCache } from './scenes/best/moment-cache.ts';
import { MomentScanner } from './scenes/best/moments.ts';
import { RecapSession } from './scenes/recap.ts';
import { RecapStore } from './scenes/recap-store.ts';

/** Everything a door (bot, CLI) needs, wired once per process. */
export interface Limner {
  readonly config: Config;
  readonly log: Logger;
  /** The database (SQLite or PostgreSQL) every store reads and writes. */
  readonly store: Store;
  readonly campaigns: CampaignRepository;
  readonly images: ImageStore;
  readonly gateway: GeminiGateway;
  /** Use case: illustrate a scene (current, turn, best). */
  readonly scenes: IllustrateScene;
  /** Use case: an illustrated recap of a range of turns. */
  readonly recaps: RecapSession;
  /** Use cases: edit, reroll, repaint from a changed prompt and undo a picture, and pick a variation. */
  readonly edits: EditPicture;
  /** Use case: delete a picture (to the trash, purged after `images.trash_days`). */
  readonly deletions: DeletePicture;
  /** Use case: export a campaign's pictures as zips. */
  readonly exports: ExportCampaign;
  /** Use case: the campaign's cast, proposed from the story, with reference portraits. */
  readonly cast: CastCampaign;
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
  /** Guilds' settings: art style, shape, quality and budgets within the operator's ceilings. */
  readonly settings: GuildSettings;
  /** Use cases: create a guild's campaign from a transcript, and replace or extend its transcript. */
  readonly newCampaigns: CreateCampaign;
  /** Budgets, the fair queue and job rows, under every use case that calls a model. */
  readonly runner: JobRunner;
  readonly metrics: Metrics;
  /** Serves campaign storybooks and signs links to them (started by the bot); null when `storybook.port` is null. */
  readonly storybook: StorybookServer | null;
  /** Closes the database and the picture storage's connections (S3). */
  close(): Promise<void>;
}

/**
 * Opens the database (applying migrations) and builds the services. `config` comes from
 * `loadConfig`, whose schema has already refused unusable model names such as `imagen-*`.
 * `options.pictures` replaces the picture storage `config.storage` names (tests).
 * @throws ConfigError when storybooks are served without a secret to sign their links,
 *   DatabaseUnavailableError when the database cannot be opened or migrated.
 */
export async function createLimner(
  config: Config,
  secrets: Secrets,
  log: Logger,
  options: { metrics?: Metrics; shard?: number; pictures?: PictureStorage } = {},
): Promise<Limner> {
  // Process metrics (event loop, memory) only matter when /metrics is served.
  const metrics = options.metrics ?? new Metrics({ processMetrics: config.runtime.health_port !== null });
  const store = await openStore(config.database_target);
  const stories = new StoryStore(store, config.play_by_post.ooc_prefix);
  const castStore = new CastStore(store);
  const campaigns = new CampaignRepository(config.campaigns_dir, stories, castStore);
  const pictures = options.pictures ?? openPictureStorage(config);
  const images = new ImageStore(store, pictures);
  const usage = new UsageLedger(store, metrics);
  const gateway = new GeminiGateway(config, secrets, usage, (model, seconds, outcome) =>
    metrics.modelLatency.observe({ model, outcome }, seconds),
  );
  const jobs = new JobStore(store, options.shard ?? 0);
  const settings = new GuildSettings(store, config, log);
  const budgets = new BudgetGuard(config, usage, jobs, settings);
  const runner = new JobRunner(
    { jobs, budgets, metrics, log },
    { concurrency: config.queue.concurrency, perUser: config.queue.per_user, pollMs: config.queue.poll_ms, leaseS: config.queue.lease_s },
  );
  const sessions = new SessionStore(store);
  const scanCache = new ScanCache(store);
  const scanner = new SceneScanner({ config, gateway, cache: scanCache, log });
  const proposer = new CastProposer({ config, gateway, cache: scanCache, log });
  const leases = new SceneLeases(store, config.queue.lease_s);
  const cast = new CastCampaign({ config, campaigns, images, gateway, cast: castStore, proposer, runner, leases, settings, log });
  const scenes = new IllustrateScene({ config, campaigns, images, gateway, sessions, scanner, runner, settings, leases, log });
  const moments = new MomentScanner({ config, gateway, cache: new MomentCache(store), log });
  const recaps = new RecapSession({
    config,
    campaigns,
    images,
    gateway,
    moments,
    recaps: new RecapStore(store),
    runner,
    settings,
    log,
  });
  const edits = new EditPicture({ config, campaigns, images, gateway, sessions, runner, log });
  const exports = new ExportCampaign({ campaigns, images });
  const links = new LinkStore(store, config.discord.links);
  const deletions = new DeletePicture({ images, links, log, trashDays: config.images.trash_days });
  const newCampaigns = new CreateCampaign({ campaigns, log });
  let storybook: StorybookServer | null;
  try {
    storybook = storybookServer(config, secrets, { campaigns, images, log, shard: Math.max(0, options.shard ?? 0) });
  } catch (err) {
    // A PostgreSQL pool left open would keep the refusing process alive.
    await store.close();
    throw err;
  }
  return {
    config,
    log,
    store,
    campaigns,
    images,
    gateway,
    scenes,
    recaps,
    edits,
    deletions,
    exports,
    cast,
    links,
    usage,
    sessions,
    stories,
    jobs,
    budgets,
    settings,
    newCampaigns,
    runner,
    metrics,
    storybook,
    close: async () => {
      await store.close();
      // An S3 client keeps its sockets open until destroyed; the local folder has nothing to close.
      if ('close' in pictures && typeof pictures.close === 'function') await (pictures.close as () => Promise<void>)();
    },
  };
}
