import { ConfigError } from './errors.ts';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { PROJECT_ROOT } from './root.ts';

/** The repository's `config/` folder, found from this file so the CLI works from any directory. */
export const CONFIG_DIR = path.join(PROJECT_ROOT, 'config');

const modelName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.\-]*$/, 'a Gemini model name such as gemini-3.1-flash-image')
  .refine((m) => !m.startsWith('imagen'), {
    message:
      'Imagen models are shut down on the Gemini API and the SDK refuses generateImages there; use a Gemini image model such as gemini-3.1-flash-image',
  });

/**
 * Aspect ratios the Gemini image models accept in `imageConfig.aspectRatio`
 * (source: Gemini API image generation docs).
 */
export const ASPECT_RATIOS = ['1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', '21:9'] as const;
/** Values of `imageConfig.imageSize` (source: Gemini API image generation docs). */
export const IMAGE_SIZES = ['1K', '2K', '4K'] as const;

const price = z.strictObject({
  input_per_million: z.number().nonnegative(),
  output_per_million: z.number().nonnegative(),
  image_output_per_million: z.number().nonnegative(),
});

/**
 * The one schema of Limner's configuration. Defaults live in `config/defaults.yaml`,
 * not here, so that file is the single place to read them; unknown keys are errors
 * so a typo never passes silently.
 */
export const configSchema = z.strictObject({
  campaigns_dir: z.string().min(1),
  database: z.string().min(1).nullable(),
  generation: z.strictObject({
    enabled: z.boolean(),
    text_model: modelName,
    image_model: modelName,
    /** The image models `/scene settings` and a request's `quality` choose between; `fast: null` is `image_model`, `pro: null` offers no pro quality. */
    quality_models: z.strictObject({ fast: modelName.nullable(), pro: modelName.nullable() }),
    scanner_model: modelName,
    scanner_token_limit: z.int().min(1000),
    scanner_concurrency: z.int().min(1).max(64),
    aspect_ratio: z.enum(ASPECT_RATIOS),
    image_size: z.enum(IMAGE_SIZES),
    current_entries: z.int().min(1).max(200),
    turn_radius: z.int().min(0).max(100),
    max_prompt_chars: z.int().min(100).max(10000),
    prompt_token_limit: z.int().min(1000),
    max_input_pixels: z.int().min(1_000_000),
  }),
  gemini: z.strictObject({
    base_url: z.url().nullable(),
    api_version: z.string().min(1),
    total_timeout_ms: z.int().positive(),
    attempt_timeout_ms: z.int().positive(),
    retry: z.strictObject({
      attempts: z.int().min(1).max(10),
      initial_delay_s: z.number().nonnegative(),
      max_delay_s: z.number().nonnegative(),
    }),
  }),
  prices: z.record(z.string(), price),
  queue: z.strictObject({
    concurrency: z.int().min(1).max(256),
    per_user: z.int().min(1).max(16),
    poll_ms: z.int().min(10).max(10_000),
    lease_s: z.number().min(1).max(3600),
  }),
  budgets: z.strictObject({
    guild_daily_images: z.int().min(0).nullable(),
    guild_daily_usd: z.number().min(0).nullable(),
    user_daily_images: z.int().min(0).nullable(),
    user_cooldown_s: z.number().min(0),
    dedupe_window_s: z.number().min(0),
  }),
  runtime: z
    .strictObject({
      shutdown_grace_ms: z.int().min(0),
      health_port: z.int().min(0).max(65535).nullable(),
      shards: z.union([z.literal('auto'), z.int().min(1).max(1000)]),
      /**
       * The shards this host runs (discord.js ShardingManager `shardList`), or null for all of them;
       * with several hosts each runs its own list of the same `shards` total.
       */
      shard_list: z.array(z.int().min(0)).min(1).nullable(),
    })
    .refine((r) => r.shard_list === null || (r.shards !== 'auto' && r.shard_list.every((id) => id < (r.shards as number))), {
      path: ['shard_list'],
      message: 'needs runtime.shards set to a number, and each shard id below it',
    }),
  discord: z.strictObject({
    application_id: z
      .string()
      .regex(/^\d{17,20}$/, 'a Discord application id (snowflake)')
      .nullable(),
    guild_id: z
      .string()
      .regex(/^\d{17,20}$/, 'a Discord guild id (snowflake)')
      .nullable(),
    api_base: z.url().nullable(),
    message_content_intent: z.boolean(),
    attachment_max_bytes: z.int().min(1024),
    attachment_timeout_ms: z.int().positive(),
    links: z.array(
      z.strictObject({
        channel_id: z.string().regex(/^\d{17,20}$/, 'a Discord channel id (snowflake)'),
        campaign_id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a campaign id'),
      }),
    ),
  }),
  play_by_post: z.strictObject({
    ooc_prefix: z.string().max(20),
    narrator_bots: z.array(z.string().regex(/^\d{17,20}$/, 'a Discord user id (17-20 digits)')).max(100),
  }),
  images: z.strictObject({
    trash_days: z.number().min(0).max(3650),
  }),
  /** Where picture files live: the campaigns folder, or an S3-compatible bucket (credentials from the AWS environment). */
  storage: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('local') }),
    z.strictObject({
      kind: z.literal('s3'),
      bucket: z.string().min(1),
      /** Prepended to every key (`<prefix><campaign>/images/<id>.png`); empty or ending in `/`. */
      prefix: z.string().regex(/^(|.*\/)$/, 'empty or ending in /'),
      endpoint: z.url().nullable(),
      region: z.string().min(1),
      force_path_style: z.boolean(),
    }),
  ]),
  storybook: z.strictObject({
    port: z.int().min(0).max(65535).nullable(),
    host: z.string().min(1),
    public_url: z.url().nullable(),
    link_ttl_s: z.int().min(60).max(31_536_000),
  }),
  log: z.strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    pretty: z.boolean(),
  }),
});

/**
 * Where Limner keeps its rows: a SQLite file (the default, one host) or a PostgreSQL database that
 * processes on several hosts share.
 */
export type DatabaseTarget =
  | { readonly kind: 'sqlite'; /** Absolute path of the file, or `:memory:`. */ readonly path: string }
  | { readonly kind: 'postgres'; /** A `postgres://` or `postgresql://` connection URL. */ readonly url: string };

/** Validated configuration as read from the YAML layers and environment. Paths are absolute. */
export type Config = z.infer<typeof configSchema> & {
  /** The database named by `database` (a file path or a PostgreSQL URL), else `<campaigns_dir>/limner.db`. */
  readonly database_target: DatabaseTarget;
};

/** Reads `database`: a `postgres://` / `postgresql://` URL selects PostgreSQL, anything else is a SQLite file. */
export function databaseTarget(database: string | null, campaignsDir: string): DatabaseTarget {
  if (database === null) return { kind: 'sqlite', path: path.join(campaignsDir, 'limner.db') };
  if (/^postgres(ql)?:\/\//.test(database)) return { kind: 'postgres', url: database };
  return { kind: 'sqlite', path: database === ':memory:' ? database : path.resolve(database) };
}

/** Secrets are kept apart from {@link Config} so that logging a config can never leak them. */
export interface Secrets {
  /** From GEMINI_API_KEY, else GOOGLE_API_KEY. */
  readonly geminiApiKey: string | undefined;
  /** From DISCORD_TOKEN. */
  readonly discordToken: string | undefined;
  /** From LIMNER_STORYBOOK_SECRET: the HMAC key of the served storybooks' links. */
  readonly storybookSecret: string | undefined;
}

/** Price of one model, USD per million tokens. */
export type ModelPrice = z.infer<typeof price>;

type Env = Record<string, string | undefined>;

/** Layers applied on top of `config/defaults.yaml`, lowest first. */
export interface LoadConfigOptions {
  /** Environment to read (default `process.env`). */
  env?: Env;
  /** Override file; default `$LIMNER_CONFIG`, else `config/local.yaml` when it exists. */
  localFile?: string;
  /** Last layer, for tests and CLI flags. */
  overrides?: Record<string, unknown>;
  /** Folder holding `defaults.yaml` (default the repository's `config/`). */
  configDir?: string;
}

/**
 * Loads defaults, the optional local file, environment variables and `overrides`, in that
 * order, and validates the result with {@link configSchema}.
 *
 * Environment: `LIMNER_CAMPAIGNS_DIR`, `LIMNER_DB` / `LIMNER_DATABASE_URL` (a file or a `postgres://` URL), `LIMNER_GEMINI_BASE_URL`, `LIMNER_LOG_LEVEL`,
 * `LIMNER_CONFIG` (the local file), `LIMNER_SHARDS`, `DISCORD_APPLICATION_ID`, `DISCORD_GUILD_ID`, `DISCORD_API_BASE`;
 * secrets `GEMINI_API_KEY` / `GOOGLE_API_KEY`, `DISCORD_TOKEN` and `LIMNER_STORYBOOK_SECRET`.
 *
 * @throws ConfigError listing every invalid field with its path (and the file for YAML errors).
 */
export function loadConfig(options: LoadConfigOptions = {}): { config: Config; secrets: Secrets } {
  const env = options.env ?? process.env;
  const dir = options.configDir ?? CONFIG_DIR;
  let merged = readYaml(path.join(dir, 'defaults.yaml'));
  const localFile = options.localFile ?? env.LIMNER_CONFIG ?? path.join(dir, 'local.yaml');
  if (options.localFile !== undefined || env.LIMNER_CONFIG !== undefined || existsSync(localFile)) {
    merged = deepMerge(merged, readYaml(localFile));
  }
  merged = deepMerge(merged, envLayer(env));
  if (options.overrides) merged = deepMerge(merged, options.overrides);

  const result = configSchema.safeParse(merged);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`));
  }
  const parsed = result.data;
  const campaignsDir = path.resolve(parsed.campaigns_dir);
  const config: Config = {
    ...parsed,
    campaigns_dir: campaignsDir,
    database_target: databaseTarget(parsed.database, campaignsDir),
  };
  const key = env.GEMINI_API_KEY || env.GOOGLE_API_KEY || undefined;
  return {
    config,
    secrets: { geminiApiKey: key, discordToken: env.DISCORD_TOKEN || undefined, storybookSecret: env.LIMNER_STORYBOOK_SECRET || undefined },
  };
}

function envLayer(env: Env): Record<string, unknown> {
  const layer: Record<string, unknown> = {};
  if (env.LIMNER_CAMPAIGNS_DIR) layer.campaigns_dir = env.LIMNER_CAMPAIGNS_DIR;
  if (env.LIMNER_DB) layer.database = env.LIMNER_DB;
  if (env.LIMNER_DATABASE_URL) layer.database = env.LIMNER_DATABASE_URL;
  if (env.LIMNER_GEMINI_BASE_URL) layer.gemini = { base_url: env.LIMNER_GEMINI_BASE_URL };
  if (env.LIMNER_LOG_LEVEL) layer.log = { level: env.LIMNER_LOG_LEVEL };
  const runtime: Record<string, unknown> = {};
  if (env.LIMNER_SHARDS) runtime.shards = env.LIMNER_SHARDS === 'auto' ? 'auto' : Number(env.LIMNER_SHARDS);
  if (env.LIMNER_SHARD_LIST) runtime.shard_list = env.LIMNER_SHARD_LIST.split(',').map((id) => Number(id.trim()));
  if (Object.keys(runtime).length > 0) layer.runtime = runtime;
  const discord: Record<string, unknown> = {};
  if (env.DISCORD_APPLICATION_ID) discord.application_id = env.DISCORD_APPLICATION_ID;
  if (env.DISCORD_GUILD_ID) discord.guild_id = env.DISCORD_GUILD_ID;
  if (env.DISCORD_API_BASE) discord.api_base = env.DISCORD_API_BASE;
  if (Object.keys(discord).length > 0) layer.discord = discord;
  return layer;
}

function readYaml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  try {
    const value: unknown = parseYaml(text);
    if (value === null || value === undefined) return {};
    if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError([`${file}: must be a mapping of keys`]);
    return value as Record<string, unknown>;
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const where = err.linePos?.[0] ? `line ${err.linePos[0].line}` : 'unknown line';
      throw new ConfigError([`${file}: ${where}: ${err.message.split('\n')[0]}`]);
    }
    // What the yaml library refuses for its own safety (aliases expanding past maxAliasCount, an alias with no anchor) is a plain ReferenceError.
    if (err instanceof ReferenceError) throw new ConfigError([`${file}: YAML refused: ${err.message}`]);
    throw err;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; anything else (arrays, scalars, null) replaces. */
function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : v;
  }
  return out;
}

/**
 * Loads `.env` from the working directory into `process.env` when the file exists (Node's own
 * `process.loadEnvFile`); variables already set in the environment win. Entry points call this
 * once before {@link loadConfig}.
 */
export function loadDotEnv(file = '.env'): void {
  if (!existsSync(file)) return;
  const before = { ...process.env };
  process.loadEnvFile(file);
  for (const [k, v] of Object.entries(before)) process.env[k] = v;
}
