import { asc, eq } from 'drizzle-orm';
import type { CampaignId } from './id.ts';
import type { Store } from '../platform/db.ts';
import type { ChannelLinkRow } from '../platform/schema.ts';

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
 * `discord.links` in config, and the bot's messages showing pictures. Ids are Discord snowflakes
 * kept as strings.
 */
export class LinkStore {
  private readonly configured: ReadonlyMap<string, string>;

  constructor(
    private readonly store: Store,
    configLinks: ReadonlyArray<{ channel_id: string; campaign_id: string }> = [],
  ) {
    this.configured = new Map(configLinks.map((l) => [l.channel_id, l.campaign_id]));
  }

  /** The channel's link, or undefined when it has none. */
  async get(channelId: string): Promise<ChannelLink | undefined> {
    const { channelLinks } = this.store.tables;
    const [row] = await this.store.db.select().from(channelLinks).where(eq(channelLinks.channelId, channelId)).limit(1);
    if (row) return { channelId, campaignId: row.campaignId, source: 'command' };
    const configured = this.configured.get(channelId);
    return configured ? { channelId, campaignId: configured, source: 'config' } : undefined;
  }

  /** The guilds (snowflakes) with a channel linked to `campaignId` by command, in no order. */
  async guildsOf(campaignId: string): Promise<string[]> {
    const { channelLinks } = this.store.tables;
    const rows = await this.store.db
      .selectDistinct({ guildId: channelLinks.guildId })
      .from(channelLinks)
      .where(eq(channelLinks.campaignId, campaignId));
    return rows.map((r) => r.guildId);
  }

  /** Every linked channel: `/scene link` rows (by channel id), then the configured links of channels without one. */
  async all(): Promise<ChannelLink[]> {
    const { channelLinks } = this.store.tables;
    const rows = await this.store.db.select().from(channelLinks).orderBy(asc(channelLinks.channelId));
    const linked = new Set(rows.map((r) => r.channelId));
    return [
      ...rows.map((r): ChannelLink => ({ channelId: r.channelId, campaignId: r.campaignId, source: 'command' })),
      ...[...this.configured]
        .filter(([channelId]) => !linked.has(channelId))
        .map(([channelId, campaignId]): ChannelLink => ({ channelId, campaignId, source: 'config' })),
    ];
  }

  /** Links (or relinks) a channel; returns the campaign it was linked to before, if any. */
  async link(input: { channelId: string; guildId: string; campaignId: CampaignId; linkedBy: string }): Promise<string | undefined> {
    const { channelLinks } = this.store.tables;
    const previous = (await this.get(input.channelId))?.campaignId;
    const row: ChannelLinkRow = { ...input, linkedAt: new Date().toISOString() };
    await this.store.db
      .insert(channelLinks)
      .values(row)
      .onConflictDoUpdate({
        target: channelLinks.channelId,
        set: { campaignId: row.campaignId, linkedBy: row.linkedBy, linkedAt: row.linkedAt, guildId: row.guildId },
      });
    return previous;
  }

  /** Removes a `/scene link` row; returns the campaign id it pointed to, or undefined. */
  async unlink(channelId: string): Promise<string | undefined> {
    const { channelLinks } = this.store.tables;
    const [row] = await this.store.db
      .delete(channelLinks)
      .where(eq(channelLinks.channelId, channelId))
      .returning({ campaignId: channelLinks.campaignId });
    return row?.campaignId;
  }

  /** True when the channel's link comes from config (so `/scene unlink` cannot remove it). */
  isConfigured(channelId: string): boolean {
    return this.configured.has(channelId);
  }

  /** Records the message that shows a picture (a message already recorded stays as it was). */
  async recordSceneMessage(input: { messageId: string; imageId: string; guildId: string | null; channelId: string }): Promise<void> {
    const { sceneMessages } = this.store.tables;
    await this.store.db
      .insert(sceneMessages)
      .values({ ...input, postedAt: new Date().toISOString() })
      .onConflictDoNothing();
  }

  /** The image a bot message shows, or undefined. */
  async imageOfMessage(messageId: string): Promise<string | undefined> {
    const { sceneMessages } = this.store.tables;
    const [row] = await this.store.db
      .select({ imageId: sceneMessages.imageId })
      .from(sceneMessages)
      .where(eq(sceneMessages.messageId, messageId))
      .limit(1);
    return row?.imageId;
  }

  /** The messages showing a picture on its own, oldest first. */
  async messagesOf(imageId: string): Promise<Array<{ messageId: string; channelId: string }>> {
    const { sceneMessages } = this.store.tables;
    return this.store.db
      .select({ messageId: sceneMessages.messageId, channelId: sceneMessages.channelId })
      .from(sceneMessages)
      .where(eq(sceneMessages.imageId, imageId))
      .orderBy(asc(sceneMessages.postedAt), asc(sceneMessages.messageId));
  }

  /** Records a message showing several pictures (a contact sheet of variations), in their order on it. */
  async recordSheetMessage(input: { messageId: string; imageIds: readonly string[]; guildId: string | null; channelId: string }): Promise<void> {
    const { sheetMessages } = this.store.tables;
    const postedAt = new Date().toISOString();
    const rows = input.imageIds.map((imageId, i) => ({
      messageId: input.messageId,
      imageId,
      position: i + 1,
      guildId: input.guildId,
      channelId: input.channelId,
      postedAt,
    }));
    if (rows.length > 0) await this.store.db.insert(sheetMessages).values(rows).onConflictDoNothing();
  }

  /** The contact-sheet messages a picture is on, oldest first. */
  async sheetsOf(imageId: string): Promise<Array<{ messageId: string; channelId: string }>> {
    const { sheetMessages } = this.store.tables;
    return this.store.db
      .select({ messageId: sheetMessages.messageId, channelId: sheetMessages.channelId })
      .from(sheetMessages)
      .where(eq(sheetMessages.imageId, imageId))
      .orderBy(asc(sheetMessages.postedAt), asc(sheetMessages.messageId));
  }

  /** The pictures on a contact-sheet message, by position (deleted ones included). */
  async sheetImages(messageId: string): Promise<string[]> {
    const { sheetMessages } = this.store.tables;
    const rows = await this.store.db
      .select({ imageId: sheetMessages.imageId })
      .from(sheetMessages)
      .where(eq(sheetMessages.messageId, messageId))
      .orderBy(asc(sheetMessages.position));
    return rows.map((r) => r.imageId);
  }
}
