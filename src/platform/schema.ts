import { type AnySQLiteColumn, index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * How a picture was asked for: the seeds' `current` (latest moment), `specific` (a chosen turn),
 * `best` (the scanner's pick) and `edit` (a change to an earlier picture); `portrait` is a cast
 * member's reference portrait (turn 0), which is no scene: galleries and exports leave it out.
 */
export const GENERATION_MODES = ['current', 'specific', 'best', 'edit', 'portrait', 'recap'] as const;
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
    /** 1-based turn the picture shows; 0 for portraits. */
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
export const CALL_PURPOSES = ['prompt', 'image', 'scan', 'compare', 'edit', 'cast', 'portrait'] as const;
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
  (t) => [
    index('usage_at').on(t.at),
    index('usage_guild_at').on(t.guildId, t.at),
    index('usage_user_at').on(t.userId, t.at),
    // Admission asks which jobs in flight already have their picture in the ledger.
    index('usage_job').on(t.jobId),
  ],
);

/** Cached transcript readings (`/scene best`, cast proposals), keyed by a hash of what was read. */
export const scanCache = sqliteTable('scan_cache', {
  /**
   * `passage:<sha256 of the passage's request and scanner settings>` (that passage's candidate),
   * `final:<entries>:<sha256 of every entry scanned and the scanner settings>` (the transcript's winner),
   * or `cast:<sha256 of the passage's request and settings>` (that passage's characters as JSON in
   * `rationale`, `turn` 0).
   */
  key: text('key').primaryKey(),
  campaignId: text('campaign_id').notNull(),
  turn: integer('turn').notNull(),
  rationale: text('rationale').notNull(),
  /** ISO 8601 UTC. */
  createdAt: text('created_at').notNull(),
});

/**
 * Recap storyboards the scanner chose (`/scene recap`), by content: `moments:<count>:<sha256>` of a
 * whole range, `moments-passage:<sha256>` of one passage of a long range.
 */
export const momentCache = sqliteTable('moment_cache', {
  key: text('key').primaryKey(),
  campaignId: text('campaign_id').notNull(),
  /** JSON: `{ moments: [{ turn, caption }], recap }`. */
  answer: text('answer').notNull(),
  /** ISO 8601 UTC. */
  createdAt: text('created_at').notNull(),
});

/** Recaps made, so the next recap in a channel starts where the last one ended. */
export const recaps = sqliteTable(
  'recaps',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id').notNull(),
    /** Where it was asked for; null from the CLI. */
    channelId: text('channel_id'),
    fromTurn: integer('from_turn').notNull(),
    toTurn: integer('to_turn').notNull(),
    /** JSON array of the panels' image ids, in story order. */
    imageIds: text('image_ids').notNull(),
    recap: text('recap').notNull(),
    /** ISO 8601 UTC. */
    createdAt: text('created_at').notNull(),
  },
  (t) => [index('recaps_channel').on(t.campaignId, t.channelId, t.createdAt)],
);

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
 * One row per command that does model work, and the queue shared by every process on the database:
 * a job is inserted `queued`, claimed `running` in the fair order (src/jobs/store.ts) and run by the
 * process that created it. A process that dies leaves rows queued or running; their heartbeat goes
 * stale, another process (or the shard's next start) marks them failed and, while the interaction
 * token is still valid (15 minutes), tells the user in the original reply.
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
    /**
     * ISO 8601 UTC; renewed by the creating process while the job is queued or running. A job whose
     * heartbeat is older than `queue.lease_s` belongs to a dead process.
     */
    heartbeatAt: text('heartbeat_at'),
    /**
     * Jobs with the same key run one after another in creation order (an edit session: user and
     * campaign, as JSON); null for jobs without an order.
     */
    sessionKey: text('session_key'),
    /** Pictures the job makes (a recap makes several), counted against budgets until they are in the ledger. */
    pictures: integer('pictures').notNull().default(1),
    /**
     * Arrival order over every process: one more than the highest so far, taken in the transaction
     * that admits the job. Clocks of several hosts differ and one process makes several jobs within
     * a millisecond, so `created_at` cannot order the queue or a session's edits.
     */
    seq: integer('seq').notNull().default(0),
    /**
     * ISO 8601 UTC when the door had answered the job's interaction (null: not yet). A job that
     * succeeded but was never answered (its process died between saving and posting) is posted
     * by another process ({@link JobStore.takeUndelivered} in src/jobs/store.ts); the interaction
     * token is kept until then.
     */
    deliveredAt: text('delivered_at'),
  },
  (t) => [
    index('jobs_status').on(t.status, t.shard),
    index('jobs_created_at').on(t.createdAt),
    index('jobs_user_started').on(t.userId, t.startedAt),
    uniqueIndex('jobs_seq').on(t.seq),
    // The job key: a replayed interaction cannot record a second job of the same kind.
    uniqueIndex('jobs_interaction').on(t.interactionId, t.kind),
  ],
);

export type JobRow = typeof jobs.$inferSelect;

/** When each guild was last served by the queue, for "the least recently served guild next". */
export const guildService = sqliteTable('guild_service', {
  /** Discord guild id, `cli`, or `none` for jobs without a guild. */
  guildId: text('guild_id').primaryKey(),
  /** A counter over all guilds: the higher, the more recently served. */
  served: integer('served').notNull(),
});

/**
 * Single flight of identical scenes across processes: the job painting a scene key holds its lease
 * while it paints; identical requests wait for its picture, or take the lease over when that job
 * has ended without one or its process died (stale heartbeat).
 */
export const sceneLeases = sqliteTable('scene_leases', {
  /** `sceneKey` of src/scenes/illustrate.ts. */
  sceneKey: text('scene_key').primaryKey(),
  jobId: text('job_id').notNull(),
  /** ISO 8601 UTC. */
  takenAt: text('taken_at').notNull(),
});

/**
 * Messages of play-by-post channels as they read now, kept as they arrive and backfilled from the
 * channel's history. People's messages are kept, and those posted through a channel webhook
 * (proxied characters) or by a narrator bot the operator listed; never other bots', system or command
 * messages. Which of them are story is decided when the story is read. A deleted message stays as a
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
    /** The webhook a proxied message was posted through (its author is the webhook); null for others. */
    webhookId: text('webhook_id'),
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
    /** The name a proxy bot (Tupperbox, PluralKit) posts the character's messages under, or null. */
    proxyName: text('proxy_name'),
    /** ISO 8601 UTC. */
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.campaignId, t.userId] })],
);

/**
 * A Discord guild's settings, set with `/scene settings`: one row per setting, for one of the guild's
 * campaigns or (`campaign_id` '') for the guild as a whole. `campaign.yaml` and config stay the
 * defaults; a missing row means the default. Values are JSON text (see src/settings/settings.ts).
 */
export const guildSettings = sqliteTable(
  'guild_settings',
  {
    guildId: text('guild_id').notNull(),
    /** The campaign the setting is for, or '' for a guild-wide one (budgets). */
    campaignId: text('campaign_id').notNull(),
    /** e.g. `art_style`, `shape`, `quality`, `daily_images`, `daily_usd`. */
    key: text('key').notNull(),
    /** JSON. */
    value: text('value').notNull(),
    /** Discord user id, or `cli`. */
    updatedBy: text('updated_by').notNull(),
    /** ISO 8601 UTC. */
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.guildId, t.campaignId, t.key] })],
);

/** Every change of a {@link guildSettings} row: who, when, what, the old and the new value (JSON; null: the default). */
export const settingChanges = sqliteTable(
  'setting_changes',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** ISO 8601 UTC. */
    at: text('at').notNull(),
    guildId: text('guild_id').notNull(),
    campaignId: text('campaign_id').notNull(),
    key: text('key').notNull(),
    oldValue: text('old_value'),
    newValue: text('new_value'),
    changedBy: text('changed_by').notNull(),
  },
  (t) => [index('setting_changes_guild_at').on(t.guildId, t.at)],
);
/** A cast member's state: proposed by the text model, accepted by the owner, or dropped (not proposed again). */
export const CAST_STATUSES = ['proposed', 'accepted', 'dropped'] as const;
export type CastStatus = (typeof CAST_STATUSES)[number];

/**
 * The recurring characters of a campaign's story as the text model proposed them (`/scene cast`),
 * and what the owner made of each. Accepted ones join the campaign's characters, after those of
 * `campaign.yaml`, which win on the same name.
 */
export const castMembers = sqliteTable(
  'cast_members',
  {
    /** Short, so that button custom ids can name it. */
    id: integer('id').primaryKey({ autoIncrement: true }),
    campaignId: text('campaign_id').notNull(),
    name: text('name').notNull(),
    /** `name` compared loosely (see `castNameKey`): proposals of several passages merge on it. */
    nameKey: text('name_key').notNull(),
    /** Looks in words, at most 1,000 characters. */
    description: text('description').notNull(),
    status: text('status', { enum: CAST_STATUSES }).notNull(),
    /** The current reference portrait (a picture of mode `portrait`), or null. */
    portraitImageId: text('portrait_image_id').references(() => images.id, { onDelete: 'set null' }),
    /** ISO 8601 UTC. */
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [uniqueIndex('cast_members_name').on(t.campaignId, t.nameKey)],
);

export type CastMemberRow = typeof castMembers.$inferSelect;
