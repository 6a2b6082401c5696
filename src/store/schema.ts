import { type AnySQLiteColumn, index, integer, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

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
  },
  (t) => [
    index('images_campaign_turn').on(t.campaignId, t.turn),
    index('images_created_at').on(t.createdAt),
    index('images_parent').on(t.parentImageId),
  ],
);

export type ImageRow = typeof images.$inferSelect;
export type NewImageRow = typeof images.$inferInsert;


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

export type SceneMessageRow = typeof sceneMessages.$inferSelect;
