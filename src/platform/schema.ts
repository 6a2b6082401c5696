import { type AnySQLiteColumn, index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * How a picture was asked for: the seeds' `current` (latest moment), `specific` (a chosen turn),
 * `best` (the scanner's pick) and `edit` (a change to an earlier picture).
 */
export const GENERATION_MODES = ['current', 'specific', 'best', 'edit'] as const;
export type GenerationMode = (typeof GENERATION_MODES)[number];

/**
 * One row per stored picture. A row is written only after its PNG is in place (see
 * `ImageStore.save`), so every row has a file; a crash can leave a file without a row, never
 * the reverse.
 */
export const images = sqliteTable(
  'images',
  {
    /** UUID; also the PNG's file name. */
    id: text('id').primaryKey(),
    campaignId: text('campaign_id').notNull(),
    /** 1-based turn the picture shows. */
    turn: integer('turn').notNull(),
    mode: text('mode', { enum: GENERATION_MODES }).notNull(),
    /** The final prompt sent to the image model (scene description plus art style). */
    prompt: text('prompt').notNull(),
    /** Relative to the campaigns folder, with forward slashes: `<campaign>/images/<id>.png`. */
    imagePath: text('image_path').notNull(),
    provider: text('provider').notNull(),
    /** Image model that drew it. */
    model: text('model').notNull(),
    /** Text model that wrote the prompt; null for edits that reuse a user's words. */
    textModel: text('text_model'),
    /** Pixels. */
    width: integer('width').notNull(),
    height: integer('height').notNull(),
    /** Size of the PNG file in bytes. */
    bytes: integer('bytes').notNull(),
    /** Sum of `usageMetadata.promptTokenCount` over the calls that made this picture. */
    inputTokens: integer('input_tokens').notNull().default(0),
    /** Sum of `usageMetadata.candidatesTokenCount` (image tokens included). */
    outputTokens: integer('output_tokens').notNull().default(0),
    /** Estimated cost in USD from the configured price table. */
    costUsd: real('cost_usd').notNull().default(0),
    /** A Discord user id (snowflake) or `cli`. */
    requestedBy: text('requested_by').notNull(),
    /** ISO 8601 UTC. */
    createdAt: text('created_at').notNull(),
    parentImageId: text('parent_image_id').references((): AnySQLiteColumn => images.id, { onDelete: 'set null' }),
    /**
     * SHA-256 of everything that shaped a scene's picture (`sceneKey` in src/scenes/illustrate.ts), for
     * reusing an identical scene within the dedupe window; null for edits and rerolls.
     */
    sceneKey: text('scene_key'),
    /**
     * ISO 8601 UTC when the picture was deleted (null: it is live). A deleted picture's row stays, with
     * `image_path` pointing into `<campaign>/images/trash/` until the file is purged, so the record of
     * who deleted what survives; every reader but the trash's skips it.
     */
    deletedAt: text('deleted_at'),
    /** Discord user id (or `cli`) of who deleted it. */
    deletedBy: text('deleted_by'),
  },
  (t) => [
    index('images_campaign_turn').on(t.campaignId, t.turn),
    index('images_scene_key').on(t.campaignId, t.sceneKey, t.createdAt),
    index('images_created_at').on(t.createdAt),
    index('images_parent').on(t.parentImageId),
  ],
);

export type ImageRow = typeof images.$inferSelect;

/** A Discord channel (or thread) linked to a campaign with `/scene link`. Ids are snowflakes. */
export const channelLinks = sqliteTable('channel_links', {
  channelId: text('channel_id').primaryKey(),
  guildId: text('guild_id').notNull(),
  campaignId: text('campaign_id').notNull(),
  linkedBy: text('linked_by').notNull(),
  /** ISO 8601 UTC. */
  linkedAt: text('linked_at').notNull(),
});

export type ChannelLinkRow = typeof channelLinks.$inferSelect;

/** A message the bot posted showing a picture, for galleries, replies and buttons. */
export const sceneMessages = sqliteTable(
  'scene_messages',
  {
    messageId: text('message_id').primaryKey(),
    imageId: text('image_id')
      .notNull()
      .references(() => images.id, { onDelete: 'cascade' }),
    guildId: text('guild_id'),
    channelId: text('channel_id').notNull(),
    /** ISO 8601 UTC. */
    postedAt: text('posted_at').notNull(),
  },
  (t) => [index('scene_messages_image').on(t.imageId)],
);

/**
 * A message showing several pictures side by side (variations on one contact sheet): one row per
 * picture on it, `position` its 1-based place on the sheet.
 */
export const sheetMessages = sqliteTable(
  'sheet_messages',
  {
    messageId: text('message_id').notNull(),
    imageId: text('image_id')
      .notNull()
      .references(() => images.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    guildId: text('guild_id'),
    channelId: text('channel_id').notNull(),
    /** ISO 8601 UTC. */
    postedAt: text('posted_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.messageId, t.imageId] }), index('sheet_messages_image').on(t.imageId)],
);

/** What a model call was for. */
export const CALL_PURPOSES = ['prompt', 'image', 'scan', 'compare', 'edit'] as const;
export type CallPurpose = (typeof CALL_PURPOSES)[number];

/** The usage ledger: one row per model call, for spend reports and budgets. */
export const usage = sqliteTable(
  'usage',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** ISO 8601 UTC. */
    at: text('at').notNull(),
    campaignId: text('campaign_id'),
    guildId: text('guild_id'),
    channelId: text('channel_id'),
    /** Discord user id or `cli`. */
    userId: text('user_id').notNull(),
    model: text('model').notNull(),
    purpose: text('purpose', { enum: CALL_PURPOSES }).notNull(),
    /** `usageMetadata.promptTokenCount`. */
    inputTokens: integer('input_tokens').notNull(),
    /** Output tokens including image and thought tokens. */
    outputTokens: integer('output_tokens').notNull(),
    imageTokens: integer('image_tokens').notNull().default(0),
    /** Limner's own estimate of the input tokens, made before the call without a network request. */
    estimatedInputTokens: integer('estimated_input_tokens'),
    /** Pictures this call produced (0 or 1). */
    images: integer('images').notNull().default(0),
    /** Estimated USD from the price table. */
    costUsd: real('cost_usd').notNull(),
    imageId: text('image_id'),
    jobId: text('job_id'),
    /** 1 when the operator bypassed budgets for this call (CLI `--ignore-budget`). */
    budgetBypassed: integer('budget_bypassed', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [index('usage_at').on(t.at), index('usage_guild_at').on(t.guildId, t.at), index('usage_user_at').on(t.userId, t.at)],
);

/** Cached `/scene best` results, keyed by a hash of what was scanned. */
export const scanCache = sqliteTable('scan_cache', {
  /**
   * `passage:<sha256 of the passage's request and scanner settings>` (that passage's candidate) or
   * `final:<entries>:<sha256 of every entry scanned and the scanner settings>` (the transcript's winner).
   */
  key: text('key').primaryKey(),
  campaignId: text('campaign_id').notNull(),
  turn: integer('turn').notNull(),
  rationale: text('rationale').notNull(),
  /** ISO 8601 UTC. */
  createdAt: text('created_at').notNull(),
});

/** One active edit session per user per campaign: the picture their next edit changes. */
export const editSessions = sqliteTable(
  'edit_sessions',
  {
    userId: text('user_id').notNull(),
    campaignId: text('campaign_id').notNull(),
    currentImageId: text('current_image_id')
      .notNull()
      .references(() => images.id, { onDelete: 'cascade' }),
    lastPrompt: text('last_prompt').notNull(),
    /** sha256 of the reference images sent with the last edit (empty string when none). */
    referenceHash: text('reference_hash').notNull().default(''),
    /** ISO 8601 UTC. */
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.campaignId] })],
);

export type EditSessionRow = typeof editSessions.$inferSelect;

/** Life of a job: queued, then running, then succeeded or failed. */
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;

/**
 * One row per command that does model work. A process that dies leaves rows `running`; the next
 * start marks them failed and, while the interaction token is still valid (15 minutes), tells the
 * user in the original reply.
 */
export const jobs = sqliteTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    /** e.g. `scene current`, `scene edit`. */
    kind: text('kind').notNull(),
    status: text('status', { enum: JOB_STATUSES }).notNull(),
    guildId: text('guild_id'),
    channelId: text('channel_id'),
    userId: text('user_id').notNull(),
    campaignId: text('campaign_id'),
    /** Discord interaction id and token, to answer after a restart; the token is cleared when the job ends. */
    interactionId: text('interaction_id'),
    interactionToken: text('interaction_token'),
    /** ISO 8601 UTC. */
    createdAt: text('created_at').notNull(),
    startedAt: text('started_at'),
    finishedAt: text('finished_at'),
    imageId: text('image_id'),
    /** The id shown to the user for an unexpected failure, or the typed error's code. */
    errorId: text('error_id'),
    errorMessage: text('error_message'),
    /**
     * The Discord shard whose process runs the job (0 without sharding). At start-up a shard fails
     * only its own leftovers: the other shards' running jobs are alive.
     */
    shard: integer('shard').notNull().default(0),
  },
  (t) => [
    index('jobs_status').on(t.status, t.shard),
    index('jobs_created_at').on(t.createdAt),
    index('jobs_user_started').on(t.userId, t.startedAt),
  ],
);

export type JobRow = typeof jobs.$inferSelect;

/**
 * Messages of play-by-post channels as they read now, kept as they arrive and backfilled from the
 * channel's history. Only people's messages are kept (never bots', system or command messages);
 * which of them are story is decided when the story is read. A deleted message stays as a
 * tombstone without its text, so a history page fetched before the deletion cannot bring it back.
 */
export const storyMessages = sqliteTable(
  'story_messages',
  {
    /** Snowflake. */
    messageId: text('message_id').primaryKey(),
    /** The channel or thread. */
    channelId: text('channel_id').notNull(),
    /** The message id left-padded with zeros to 20 digits: text order is time order. */
    sortKey: text('sort_key').notNull(),
    authorId: text('author_id').notNull(),
    /** Display name when last seen. */
    authorName: text('author_name').notNull(),
    /** Text with mentions written as names; '' once deleted. */
    content: text('content').notNull(),
    /** ISO 8601 UTC. */
    createdAt: text('created_at').notNull(),
    /** ISO 8601 UTC of the latest edit; an older version never overwrites a newer one. */
    editedAt: text('edited_at'),
    deleted: integer('deleted', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [index('story_messages_channel').on(t.channelId, t.sortKey)],
);

/** Characters members of a play-by-post campaign registered with `/scene character`: one per member per campaign. */
export const storyCharacters = sqliteTable(
  'story_characters',
  {
    campaignId: text('campaign_id').notNull(),
    /** Discord user id of the member who plays it. */
    userId: text('user_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull(),
    /** PNG relative to the campaign folder (`characters/<user id>.png`), or null. */
    portrait: text('portrait'),
    /** ISO 8601 UTC. */
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.campaignId, t.userId] })],
);
