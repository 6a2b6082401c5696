import {
  type AnyPgColumn,
  boolean,
  customType,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { GENERATION_MODES, CALL_PURPOSES, JOB_STATUSES, CAST_STATUSES } from './schema.ts';

/**
 * The PostgreSQL twin of `schema.ts`, for processes on several hosts sharing one database. Drizzle
 * has no schema for both dialects, so each table is declared twice: same table and column names,
 * same TypeScript row types (text timestamps, `boolean` for SQLite's 0/1, `double precision` for
 * `real`); the column documentation lives in `schema.ts`, and test/platform/schema-postgres.test.ts
 * fails when the two drift apart. Migrations: `migrations/postgres/` (`npm run db:generate`).
 */

/**
 * PostgreSQL's `text`, which refuses U+0000 (SQLite stores it): the character is dropped on the way
 * in, so a NUL in a story message, a setting or a model's answer cannot fail a write on PostgreSQL
 * alone. `enum` only narrows the TypeScript type, as drizzle's own `text` does.
 */
const text = customType<{ data: string; driverData: string; config: { enum?: readonly string[] } }>({
  dataType: () => 'text',
  toDriver: (value) => value.replaceAll('\u0000', ''),
});
export const images = pgTable(
  'images',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id').notNull(),
    turn: integer('turn').notNull(),
    mode: text('mode', { enum: GENERATION_MODES }).notNull(),
    prompt: text('prompt').notNull(),
    imagePath: text('image_path').notNull(),
    provider: text('provider').notNull(),
    model: text('model').notNull(),
    textModel: text('text_model'),
    width: integer('width').notNull(),
    height: integer('height').notNull(),
    bytes: integer('bytes').notNull(),
    inputTokens: integer('input_tokens').notNull().default(0),
    outputTokens: integer('output_tokens').notNull().default(0),
    costUsd: doublePrecision('cost_usd').notNull().default(0),
    requestedBy: text('requested_by').notNull(),
    createdAt: text('created_at').notNull(),
    parentImageId: text('parent_image_id').references((): AnyPgColumn => images.id, { onDelete: 'set null' }),
    sceneKey: text('scene_key'),
    deletedAt: text('deleted_at'),
    deletedBy: text('deleted_by'),
  },
  (t) => [
    index('images_campaign_turn').on(t.campaignId, t.turn),
    index('images_scene_key').on(t.campaignId, t.sceneKey, t.createdAt),
    index('images_created_at').on(t.createdAt),
    index('images_parent').on(t.parentImageId),
  ],
);

export const channelLinks = pgTable('channel_links', {
  channelId: text('channel_id').primaryKey(),
  guildId: text('guild_id').notNull(),
  campaignId: text('campaign_id').notNull(),
  linkedBy: text('linked_by').notNull(),
  linkedAt: text('linked_at').notNull(),
});

export const sceneMessages = pgTable(
  'scene_messages',
  {
    messageId: text('message_id').primaryKey(),
    imageId: text('image_id')
      .notNull()
      .references(() => images.id, { onDelete: 'cascade' }),
    guildId: text('guild_id'),
    channelId: text('channel_id').notNull(),
    postedAt: text('posted_at').notNull(),
  },
  (t) => [index('scene_messages_image').on(t.imageId)],
);

export const sheetMessages = pgTable(
  'sheet_messages',
  {
    messageId: text('message_id').notNull(),
    imageId: text('image_id')
      .notNull()
      .references(() => images.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    guildId: text('guild_id'),
    channelId: text('channel_id').notNull(),
    postedAt: text('posted_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.messageId, t.imageId] }), index('sheet_messages_image').on(t.imageId)],
);

export const usage = pgTable(
  'usage',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    at: text('at').notNull(),
    campaignId: text('campaign_id'),
    guildId: text('guild_id'),
    channelId: text('channel_id'),
    userId: text('user_id').notNull(),
    model: text('model').notNull(),
    purpose: text('purpose', { enum: CALL_PURPOSES }).notNull(),
    inputTokens: integer('input_tokens').notNull(),
    outputTokens: integer('output_tokens').notNull(),
    imageTokens: integer('image_tokens').notNull().default(0),
    estimatedInputTokens: integer('estimated_input_tokens'),
    images: integer('images').notNull().default(0),
    costUsd: doublePrecision('cost_usd').notNull(),
    imageId: text('image_id'),
    jobId: text('job_id'),
    budgetBypassed: boolean('budget_bypassed').notNull().default(false),
  },
  (t) => [
    index('usage_at').on(t.at),
    index('usage_guild_at').on(t.guildId, t.at),
    index('usage_user_at').on(t.userId, t.at),
    index('usage_job').on(t.jobId),
  ],
);

export const scanCache = pgTable('scan_cache', {
  key: text('key').primaryKey(),
  campaignId: text('campaign_id').notNull(),
  turn: integer('turn').notNull(),
  rationale: text('rationale').notNull(),
  createdAt: text('created_at').notNull(),
});

export const momentCache = pgTable('moment_cache', {
  key: text('key').primaryKey(),
  campaignId: text('campaign_id').notNull(),
  answer: text('answer').notNull(),
  createdAt: text('created_at').notNull(),
});

export const recaps = pgTable(
  'recaps',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id').notNull(),
    channelId: text('channel_id'),
    fromTurn: integer('from_turn').notNull(),
    toTurn: integer('to_turn').notNull(),
    imageIds: text('image_ids').notNull(),
    recap: text('recap').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [index('recaps_channel').on(t.campaignId, t.channelId, t.createdAt)],
);

export const editSessions = pgTable(
  'edit_sessions',
  {
    userId: text('user_id').notNull(),
    campaignId: text('campaign_id').notNull(),
    currentImageId: text('current_image_id')
      .notNull()
      .references(() => images.id, { onDelete: 'cascade' }),
    lastPrompt: text('last_prompt').notNull(),
    referenceHash: text('reference_hash').notNull().default(''),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.campaignId] })],
);

export const jobs = pgTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    status: text('status', { enum: JOB_STATUSES }).notNull(),
    guildId: text('guild_id'),
    channelId: text('channel_id'),
    userId: text('user_id').notNull(),
    campaignId: text('campaign_id'),
    interactionId: text('interaction_id'),
    interactionToken: text('interaction_token'),
    createdAt: text('created_at').notNull(),
    startedAt: text('started_at'),
    finishedAt: text('finished_at'),
    imageId: text('image_id'),
    errorId: text('error_id'),
    errorMessage: text('error_message'),
    shard: integer('shard').notNull().default(0),
    heartbeatAt: text('heartbeat_at'),
    sessionKey: text('session_key'),
    pictures: integer('pictures').notNull().default(1),
    seq: integer('seq').notNull().default(0),
    deliveredAt: text('delivered_at'),
  },
  (t) => [
    index('jobs_status').on(t.status, t.shard),
    index('jobs_created_at').on(t.createdAt),
    index('jobs_user_started').on(t.userId, t.startedAt),
    uniqueIndex('jobs_seq').on(t.seq),
    uniqueIndex('jobs_interaction').on(t.interactionId, t.kind),
  ],
);

export const guildService = pgTable('guild_service', {
  guildId: text('guild_id').primaryKey(),
  served: integer('served').notNull(),
});

export const sceneLeases = pgTable('scene_leases', {
  sceneKey: text('scene_key').primaryKey(),
  jobId: text('job_id').notNull(),
  takenAt: text('taken_at').notNull(),
});

export const storyMessages = pgTable(
  'story_messages',
  {
    messageId: text('message_id').primaryKey(),
    channelId: text('channel_id').notNull(),
    sortKey: text('sort_key').notNull(),
    authorId: text('author_id').notNull(),
    authorName: text('author_name').notNull(),
    content: text('content').notNull(),
    createdAt: text('created_at').notNull(),
    editedAt: text('edited_at'),
    deleted: boolean('deleted').notNull().default(false),
    webhookId: text('webhook_id'),
  },
  (t) => [index('story_messages_channel').on(t.channelId, t.sortKey)],
);

export const storyCharacters = pgTable(
  'story_characters',
  {
    campaignId: text('campaign_id').notNull(),
    userId: text('user_id').notNull(),
    name: text('name').notNull(),
    description: text('description').notNull(),
    portrait: text('portrait'),
    proxyName: text('proxy_name'),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.campaignId, t.userId] })],
);

export const guildSettings = pgTable(
  'guild_settings',
  {
    guildId: text('guild_id').notNull(),
    campaignId: text('campaign_id').notNull(),
    key: text('key').notNull(),
    value: text('value').notNull(),
    updatedBy: text('updated_by').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.guildId, t.campaignId, t.key] })],
);

export const settingChanges = pgTable(
  'setting_changes',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
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

export const castMembers = pgTable(
  'cast_members',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    campaignId: text('campaign_id').notNull(),
    name: text('name').notNull(),
    nameKey: text('name_key').notNull(),
    description: text('description').notNull(),
    status: text('status', { enum: CAST_STATUSES }).notNull(),
    portraitImageId: text('portrait_image_id').references(() => images.id, { onDelete: 'set null' }),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [uniqueIndex('cast_members_name').on(t.campaignId, t.nameKey)],
);
