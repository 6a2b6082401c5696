import { and, desc, eq } from 'drizzle-orm';
import type { Config } from '../platform/config.ts';
import { writeTransaction, type Db, type Store } from '../platform/db.ts';
import type { Logger } from '../platform/log.ts';
import type { guildSettings } from '../platform/schema.ts';
import { qualityModel, SHAPE_NAMES, SHAPES, type Quality, type Shape } from '../scenes/canvas.ts';
import { QualityNotAllowedError, SettingValueError } from './errors.ts';

/**
 * A guild's quality policy for a campaign: `fast` (fast pictures only), `pro-allowed` (fast unless a
 * request asks for pro) or `pro` (pro unless a request asks for fast). Pro needs `generation.quality_models.pro`.
 */
export const QUALITY_POLICIES = ['fast', 'pro-allowed', 'pro'] as const;
export type QualityPolicy = (typeof QUALITY_POLICIES)[number];

/** Longest art style, characters (as in `campaign.yaml`). */
export const MAX_ART_STYLE_CHARS = 500;

/** Settings of one campaign in one guild. */
export const CAMPAIGN_SETTING_KEYS = ['art_style', 'shape', 'quality'] as const;
/** Settings of a whole guild: its daily budgets within the operator's ceilings (`budgets.*`). */
export const GUILD_SETTING_KEYS = ['daily_images', 'daily_usd'] as const;
export type SettingKey = (typeof CAMPAIGN_SETTING_KEYS)[number] | (typeof GUILD_SETTING_KEYS)[number];

/** A setting's stored value; null everywhere means "the default" (campaign.yaml or config). */
export interface StoredSettings {
  readonly art_style: string | null;
  readonly shape: Shape | null;
  readonly quality: QualityPolicy | null;
  /** Pictures a UTC day. */
  readonly daily_images: number | null;
  /** Estimated USD a UTC day. */
  readonly daily_usd: number | null;
}

/** One change to make: a new value, or null to return to the default. */
export interface SettingChange {
  readonly key: SettingKey;
  readonly value: string | number | null;
}

/** A change as recorded: who, when, and the value before and after (null: the default). */
export interface RecordedChange {
  readonly at: string;
  readonly campaignId: string | null;
  readonly key: SettingKey;
  readonly oldValue: string | number | null;
  readonly newValue: string | number | null;
  readonly changedBy: string;
}

/** How a scene for a guild is painted, settings and request applied. */
export interface SceneLook {
  /** Appended to the prompt. */
  readonly artStyle: string;
  /** `imageConfig.aspectRatio`. */
  readonly aspectRatio: string;
  readonly quality: Quality;
  /** The image model of {@link quality}. */
  readonly imageModel: string;
}

/** A guild's daily limits as budgets apply them (null: no limit). */
export interface GuildLimits {
  readonly images: number | null;
  readonly usd: number | null;
}

/**
 * A Discord guild's settings (`/scene settings`), kept in the database: per campaign its art style,
 * default shape and quality policy; per guild its daily picture and spend budgets, which stay within
 * the operator's ceilings (`budgets.guild_daily_images`, `budgets.guild_daily_usd`). `campaign.yaml` and
 * config are the defaults. Every change is recorded (`setting_changes`) and logged. Use cases read
 * it for the requester's guild, so the CLI acting for a guild (`--guild`) follows it too; without a
 * guild only the defaults apply.
 */
export class GuildSettings {
  constructor(
    private readonly store: Store,
    private readonly config: Config,
    private readonly log: Logger,
  ) {}

  /** The stored values of a campaign in a guild and of the guild (null: the default). */
  async stored(guildId: string, campaignId: string | null): Promise<StoredSettings> {
    return storedSettings(await this.rowsOn(this.store.db, guildId), campaignId);
  }

  /** Whether the operator offers pro quality at all (`generation.quality_models.pro`). */
  get proOffered(): boolean {
    return qualityModel(this.config, 'pro') !== null;
  }

  /** The quality policy in force: the stored one while the operator offers pro, else `fast`; by default `pro-allowed` when pro is offered. */
  qualityPolicy(stored: StoredSettings): QualityPolicy {
    if (!this.proOffered) return 'fast';
    return stored.quality ?? 'pro-allowed';
  }

  /**
   * How a scene is painted for `guildId` (null: no guild, defaults only): the request's shape and
   * quality when given, else the guild's settings, else `campaignArtStyle` and config.
   * @throws QualityNotAllowedError when pro is asked for and the config or the settings do not allow it.
   */
  async look(
    guildId: string | null,
    campaignId: string,
    campaignArtStyle: string,
    request: { shape?: Shape; quality?: Quality } = {},
  ): Promise<SceneLook> {
    const stored = guildId ? await this.stored(guildId, campaignId) : undefined;
    const policy = stored ? this.qualityPolicy(stored) : this.proOffered ? 'pro-allowed' : 'fast';
    if (request.quality === 'pro') {
      if (!this.proOffered) throw new QualityNotAllowedError('config');
      if (policy === 'fast') throw new QualityNotAllowedError('settings');
    }
    const quality: Quality = request.quality ?? (policy === 'pro' ? 'pro' : 'fast');
    const shape = request.shape ?? stored?.shape ?? undefined;
    return {
      artStyle: stored?.art_style ?? campaignArtStyle,
      aspectRatio: shape ? SHAPES[shape] : this.config.generation.aspect_ratio,
      quality,
      imageModel: qualityModel(this.config, quality)!,
    };
  }

  /** The operator's ceilings (`budgets.guild_daily_*`; null: no limit). */
  get ceilings(): GuildLimits {
    return { images: this.config.budgets.guild_daily_images, usd: this.config.budgets.guild_daily_usd };
  }

  /** A guild's daily limits: its own settings, never above the operator's ceilings. */
  async limits(guildId: string): Promise<GuildLimits> {
    return this.limitsOf(await this.stored(guildId, null));
  }

  /** The daily limits of a guild whose settings are `stored` ({@link limits}). */
  limitsOf(stored: StoredSettings): GuildLimits {
    const { images, usd } = this.ceilings;
    return { images: lower(stored.daily_images, images), usd: lower(stored.daily_usd, usd) };
  }

  /**
   * Applies `changes` for a guild (campaign settings for `campaignId`), all or none: every value is
   * checked first. Each change that alters a value is recorded with `by` and the time, and logged.
   * Another process changing the guild's settings at the same time waits, so the values recorded
   * as old are those each change replaced.
   * @param campaignId - Needed for campaign settings; null when the channel has no campaign.
   * @returns The changes made (unchanged values are left out).
   * @throws SettingValueError naming the first setting whose value is refused.
   */
  async change(guildId: string, campaignId: string | null, changes: readonly SettingChange[], by: string): Promise<RecordedChange[]> {
    const checked = changes.map((c) => ({ key: c.key, value: c.value === null ? null : this.checkValue(c.key, c.value) }));
    for (const { key } of checked) {
      if (campaignId === null && !isGuildWide(key)) throw new SettingValueError(key, 'this channel is not linked to a campaign');
    }
    const at = new Date().toISOString();
    const { guildSettings, settingChanges } = this.store.tables;
    /** The changes that alter a value, and the statements that make and record them. */
    const plan = (tx: Db, rows: readonly GuildSettingRow[]) => {
      const before = storedSettings(rows, campaignId);
      const made: RecordedChange[] = [];
      const statements: Array<{ run(): unknown } & PromiseLike<unknown>> = [];
      for (const { key, value } of checked) {
        const scope = isGuildWide(key) ? '' : campaignId!;
        const oldValue = before[key];
        if (oldValue === value) continue;
        const where = and(eq(guildSettings.guildId, guildId), eq(guildSettings.campaignId, scope), eq(guildSettings.key, key));
        if (value === null) statements.push(tx.delete(guildSettings).where(where));
        else {
          const row = { guildId, campaignId: scope, key, value: JSON.stringify(value), updatedBy: by, updatedAt: at };
          statements.push(
            tx
              .insert(guildSettings)
              .values(row)
              .onConflictDoUpdate({
                target: [guildSettings.guildId, guildSettings.campaignId, guildSettings.key],
                set: { value: row.value, updatedBy: by, updatedAt: at },
              }),
          );
        }
        statements.push(
          tx.insert(settingChanges).values({
            at,
            guildId,
            campaignId: scope,
            key,
            oldValue: oldValue === null ? null : JSON.stringify(oldValue),
            newValue: value === null ? null : JSON.stringify(value),
            changedBy: by,
          }),
        );
        made.push({ at, campaignId: scope || null, key, oldValue, newValue: value, changedBy: by });
      }
      return { made, statements };
    };
    const made = await writeTransaction(this.store, `guild_settings:${guildId}`, {
      sqlite: (tx) => {
        const { made, statements } = plan(tx, this.rowsOn(tx, guildId).all());
        for (const statement of statements) statement.run();
        return made;
      },
      postgres: async (tx) => {
        const { made, statements } = plan(tx, await this.rowsOn(tx, guildId));
        for (const statement of statements) await statement;
        return made;
      },
    });
    for (const c of made) {
      this.log.info({ guild: guildId, campaign: c.campaignId, setting: c.key, old: c.oldValue, new: c.newValue, by }, 'setting changed');
    }
    return made;
  }

  /** The guild's latest changes, newest first. */
  async history(guildId: string, limit = 5): Promise<RecordedChange[]> {
    const { settingChanges } = this.store.tables;
    const rows = await this.store.db
      .select()
      .from(settingChanges)
      .where(eq(settingChanges.guildId, guildId))
      .orderBy(desc(settingChanges.id))
      .limit(limit);
    return rows.map((r) => ({
      at: r.at,
      campaignId: r.campaignId || null,
      key: r.key as SettingKey,
      oldValue: r.oldValue === null ? null : (JSON.parse(r.oldValue) as string | number),
      newValue: r.newValue === null ? null : (JSON.parse(r.newValue) as string | number),
      changedBy: r.changedBy,
    }));
  }

  /** The query of a guild's setting rows on `db` (the store's or a transaction's), to run as the caller needs. */
  private rowsOn(db: Db, guildId: string) {
    const { guildSettings } = this.store.tables;
    return db.select().from(guildSettings).where(eq(guildSettings.guildId, guildId));
  }

  /** @throws SettingValueError */
  private checkValue(key: SettingKey, value: string | number): string | number {
    const refuse = (reason: string) => new SettingValueError(key, reason);
    switch (key) {
      case 'art_style': {
        const style = String(value).trim();
        if (style === '' || style.length > MAX_ART_STYLE_CHARS) throw refuse(`an art style has 1-${MAX_ART_STYLE_CHARS} characters`);
        return style;
      }
      case 'shape':
        if (!(SHAPE_NAMES as readonly unknown[]).includes(value)) throw refuse(`one of ${SHAPE_NAMES.join(', ')}`);
        return value;
      case 'quality':
        if (!(QUALITY_POLICIES as readonly unknown[]).includes(value)) throw refuse(`one of ${QUALITY_POLICIES.join(', ')}`);
        if (value !== 'fast' && !this.proOffered) throw refuse('the operator has configured no pro image model');
        return value;
      case 'daily_images':
      case 'daily_usd': {
        const n = Number(value);
        if (key === 'daily_images' ? !Number.isSafeInteger(n) || n < 0 : !Number.isFinite(n) || n < 0) {
          throw refuse(key === 'daily_images' ? 'a whole number of pictures, 0 or more' : 'an amount in USD, 0 or more');
        }
        const ceiling = key === 'daily_images' ? this.ceilings.images : this.ceilings.usd;
        if (ceiling !== null && n > ceiling) throw refuse(`at most ${ceiling}, the operator's ceiling`);
        return key === 'daily_usd' ? Math.round(n * 100) / 100 : n;
      }
    }
  }
}

/** A `guild_settings` row. */
type GuildSettingRow = typeof guildSettings.$inferSelect;

/** True for a setting of the whole guild (a budget), false for a campaign's. */
function isGuildWide(key: SettingKey): boolean {
  return (GUILD_SETTING_KEYS as readonly string[]).includes(key);
}

/** The values a guild's setting rows hold for `campaignId` and the guild (null: the default; no campaign: its settings null). */
function storedSettings(rows: readonly GuildSettingRow[], campaignId: string | null): StoredSettings {
  const value = (key: SettingKey) => {
    const scope = isGuildWide(key) ? '' : campaignId;
    const row = scope === null ? undefined : rows.find((r) => r.campaignId === scope && r.key === key);
    return row ? (JSON.parse(row.value) as string | number) : null;
  };
  return {
    art_style: value('art_style') as string | null,
    shape: value('shape') as Shape | null,
    quality: value('quality') as QualityPolicy | null,
    daily_images: value('daily_images') as number | null,
    daily_usd: value('daily_usd') as number | null,
  };
}

/** The lower of two limits, null being no limit. */
function lower(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.min(a, b);
}
