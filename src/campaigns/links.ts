import { asc, eq } from 'drizzle-orm';
import type { CampaignId } from './id.ts';
import type { SqliteStore } from '../platform/db.ts';
import { channelLinks, sceneMessages, sheetMessages, type ChannelLinkRow } from '../platform/schema.ts';

/** Where a channel's campaign link came from. */
export type LinkSource = 'command' | 'config';

/** A channel's campaign. */
export interface ChannelLink {
  readonly channelId: string;
  readonly campaignId: string;
  readonly source: LinkSource;
}

/**
 * Channel-to-campaign links: rows made by `/scene link`, falling back to the operator's
 * `discord.links` in config. Ids are Discord snowflakes kept as strings.
 */
export class LinkStore {
  private readonly configured: ReadonlyMap<string, string>;

  constructor(
    private readonly store: SqliteStore,
    configLinks: ReadonlyArray<{ channel_id: string; campaign_id: string }> = [],
  ) {
    this.configured = new Map(configLinks.map((l) => [l.channel_id, l.campaign_id]));
  }

  /** The channel's link, or undefined when it has none. */
  get(channelId: string): ChannelLink | undefined {
    const row = this.store.db.select().from(channelLinks).where(eq(channelLinks.channelId, channelId)).get();
    if (row) return { channelId, campaignId: row.campaignId, source: 'command' };
    const configured = this.configured.get(channelId);
    return configured ? { channelId, campaignId: configured, source: 'config' } : undefined;
  }

  /** The guilds (snowflakes) with a channel linked to `campaignId` by command, in no order. */
  guildsOf(campaignId: string): string[] {
    const rows = this.store.db.selectDistinct({ guildId: channelLinks.guildId }).from(channelLinks).where(eq(channelLinks.campaignId, campaignId)).all();
    return rows.map((r) => r.guildId);
  }

  /** Every linked channel: `/scene link` rows, then the configured links of channels without one. */
  all(): ChannelLink[] {
    const rows = this.store.db.select().from(channelLinks).all();
    const linked = new Set(rows.map((r) => r.channelId));
    return [
      ...rows.map((r): ChannelLink => ({ channelId: r.channelId, campaignId: r.campaignId, source: 'command' })),
      ...[...this.configured]
        .filter(([channelId]) => !linked.has(channelId))
        .map(([channelId, campaignId]): ChannelLink => ({ channelId, campaignId, source: 'config' })),
    ];
  }

  /** Links (or relinks) a channel; returns the campaign it was linked to before, if any. */
  link(input: { channelId: string; guildId: string; campaignId: CampaignId; linkedBy: string }): string | undefined {
    const previous = this.get(input.channelId)?.campaignId;
    const row: ChannelLinkRow = { ...input, linkedAt: new Date().toISOString() };
    this.store.db
      .insert(channelLinks)
      .values(row)
      .onConflictDoUpdate({
        target: channelLinks.channelId,
        set: { campaignId: row.campaignId, linkedBy: row.linkedBy, linkedAt: row.linkedAt, guildId: row.guildId },
      })
      .run();
    return previous;
  }

  /** Removes a `/scene link` row; returns the campaign id it pointed to, or undefined. */
  unlink(channelId: string): string | undefined {
    const row = this.store.db.delete(channelLinks).where(eq(channelLinks.channelId, channelId)).returning().get();
    return row?.campaignId;
  }

  /** True when the channel's link comes from config (so `/scene unlink` cannot remove it). */
  isConfigured(channelId: string): boolean {
    return this.configured.has(channelId);
  }

  /** Records the message that shows a picture. */
  recordSceneMessage(input: { messageId: string; imageId: string; guildId: string | null; channelId: string }): void {
    this.store.db
      .insert(sceneMessages)
      .values({ ...input, postedAt: new Date().toISOString() })
      .onConflictDoNothing()
      .run();
  }

  /** The image a bot message shows, or undefined. */
  imageOfMessage(messageId: string): string | undefined {
    return this.store.db.select().from(sceneMessages).where(eq(sceneMessages.messageId, messageId)).get()?.imageId;
  }

  /** The messages showing a picture on its own, oldest first. */
  messagesOf(imageId: string): Array<{ messageId: string; channelId: string }> {
    return this.store.db
      .select({ messageId: sceneMessages.messageId, channelId: sceneMessages.channelId })
      .from(sceneMessages)
      .where(eq(sceneMessages.imageId, imageId))
      .orderBy(asc(sceneMessages.postedAt))
      .all();
  }

  /** Records a message showing several pictures (a contact sheet of variations), in their order on it. */
  recordSheetMessage(input: { messageId: string; imageIds: readonly string[]; guildId: string | null; channelId: string }): void {
    const postedAt = new Date().toISOString();
    const rows = input.imageIds.map((imageId, i) => ({
      messageId: input.messageId,
      imageId,
      position: i + 1,
      guildId: input.guildId,
      channelId: input.channelId,
      postedAt,
    }));
    if (rows.length > 0) this.store.db.insert(sheetMessages).values(rows).onConflictDoNothing().run();
  }

  /** The contact-sheet messages a picture is on. */
  sheetsOf(imageId: string): Array<{ messageId: string; channelId: string }> {
    return this.store.db
      .select({ messageId: sheetMessages.messageId, channelId: sheetMessages.channelId })
      .from(sheetMessages)
      .where(eq(sheetMessages.imageId, imageId))
      .all();
  }

  /** The pictures on a contact-sheet message, by position (deleted ones included). */
  sheetImages(messageId: string): string[] {
    return this.store.db
      .select({ imageId: sheetMessages.imageId })
      .from(sheetMessages)
      .where(eq(sheetMessages.messageId, messageId))
      .orderBy(asc(sheetMessages.position))
      .all()
      .map((r) => r.imageId);
  }
}
