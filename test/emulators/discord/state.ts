import type { EmulatorUser, InteractionResult, StoredAttachment, StoredMessage, UploadFile } from './types.ts';
import { ApiError, guessContentType, imageSize, invalidForm, snowflake } from './util.ts';

/** Permission bits (as Discord's bitfield) used for defaults. */
export const Perm = {
  AddReactions: 1n << 6n,
  ViewChannel: 1n << 10n,
  SendMessages: 1n << 11n,
  ManageMessages: 1n << 13n,
  EmbedLinks: 1n << 14n,
  AttachFiles: 1n << 15n,
  ReadMessageHistory: 1n << 16n,
  UseExternalEmojis: 1n << 18n,
  UseApplicationCommands: 1n << 31n,
  CreatePublicThreads: 1n << 35n,
  SendMessagesInThreads: 1n << 38n,
} as const;
/** What a plain member may do: enough for commands and uploads, but not ManageGuild. */
export const DEFAULT_MEMBER_PERMISSIONS = Object.values(Perm).reduce((a, b) => a | b, 0n) & ~Perm.ManageMessages;
export const BOT_PERMISSIONS = DEFAULT_MEMBER_PERMISSIONS | Perm.ManageMessages;
/** Guild owners implicitly hold every permission. */
export const ALL_PERMISSIONS = (1n << 51n) - 1n;
/** Discord's default upload limit for unboosted guilds, in bytes. */
export const DEFAULT_ATTACHMENT_LIMIT = 10 * 1024 * 1024;
export const EPHEMERAL = 64;
const LOADING = 128;

export interface ChannelRecord {
  id: string;
  name: string;
  type: number;
  guild_id: string;
  parent_id: string | null;
  position: number;
}

/** Announcement (10), public (11) and private (12) threads: channels with a parent channel. */
export const isThread = (c: ChannelRecord): boolean => c.type === 10 || c.type === 11 || c.type === 12;
export interface MemberRecord {
  user: EmulatorUser;
  permissions: string;
  joined_at: string;
}
export interface GuildRecord {
  id: string;
  name: string;
  owner_id: string;
  channels: ChannelRecord[];
  members: Map<string, MemberRecord>;
  joined_at: string;
}

/** Server-side view of one injected interaction. */
export interface InteractionRecord {
  result: InteractionResult;
  guildId: string;
  channelId: string;
  user: EmulatorUser;
  /** Application command type (1 chat input, 2 user, 3 message) for type-2 interactions. */
  commandType?: number;
  name?: string;
  /** The message carrying the clicked component (or the one a modal was opened from). */
  messageId?: string;
  /** Bytes per file. */
  attachmentSizeLimit: number;
}

/** Where state changes go out to the gateway. */
export interface Sink {
  dispatch(event: string, data: unknown): void;
  message(event: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE' | 'MESSAGE_DELETE', m: StoredMessage): void;
}

export interface MessageInit {
  channelId: string;
  author: EmulatorUser;
  payload: any;
  files?: Map<string, UploadFile>;
  type?: number;
  interactionId?: string;
  /** A channel webhook's id: the message is posted through it. */
  webhookId?: string;
  /** Extra mentions beyond the `<@id>` ones found in the content. */
  mentions?: EmulatorUser[];
}

/** The emulator's world: guilds, channels, messages, files, interactions, commands. */
export class State {
  readonly guilds = new Map<string, GuildRecord>();
  readonly channels = new Map<string, ChannelRecord>();
  /** Visible (non-ephemeral, not deleted) messages per channel, oldest first. */
  readonly history = new Map<string, StoredMessage[]>();
  readonly messagesById = new Map<string, StoredMessage>();
  readonly attachments = new Map<string, StoredAttachment>();
  readonly interactions = new Map<string, InteractionRecord>();
  /** Registered commands by guild id; '' holds the global ones. */
  readonly commands = new Map<string, any[]>();
  readonly users = new Map<string, EmulatorUser>();
  sink: Sink = { dispatch() {}, message() {} };
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly botUser: EmulatorUser,
    readonly applicationId: string,
    readonly origin: () => string,
  ) {
    this.users.set(botUser.id, botUser);
  }

  /** Wakes `waitFor` callers; call after every mutation tests may wait on. */
  changed(): void {
    for (const l of this.listeners) l();
  }
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  channel(id: string): ChannelRecord {
    const c = this.channels.get(id);
    if (!c) throw new ApiError(404, 10003, 'Unknown Channel');
    return c;
  }

  // ---- wire shapes -------------------------------------------------------------------------------

  apiUser(u: EmulatorUser): any {
    return {
      id: u.id,
      username: u.username,
      global_name: u.global_name ?? null,
      discriminator: '0',
      avatar: null,
      bot: u.bot ?? false,
      public_flags: 0,
    };
  }

  apiMember(guildId: string, userId: string, withUser = true): any {
    const m = this.guilds.get(guildId)?.members.get(userId);
    if (!m) return undefined;
    return {
      ...(withUser ? { user: this.apiUser(m.user) } : {}),
      nick: null,
      avatar: null,
      roles: [],
      joined_at: m.joined_at,
      premium_since: null,
      deaf: false,
      mute: false,
      flags: 0,
      pending: false,
      communication_disabled_until: null,
    };
  }

  apiChannel(c: ChannelRecord): any {
    const messages = this.history.get(c.id) ?? [];
    return {
      id: c.id,
      type: c.type,
      guild_id: c.guild_id,
      name: c.name,
      position: c.position,
      parent_id: c.parent_id,
      permission_overwrites: [],
      nsfw: false,
      topic: null,
      rate_limit_per_user: 0,
      flags: 0,
      last_message_id: messages.at(-1)?.id ?? null,
      ...(isThread(c)
        ? {
            owner_id: this.botUser.id,
            message_count: messages.length,
            total_message_sent: messages.length,
            member_count: 1,
            thread_metadata: {
              archived: false,
              auto_archive_duration: 1440,
              archive_timestamp: new Date().toISOString(),
              locked: false,
              ...(c.type === 12 ? { invitable: true } : {}),
            },
          }
        : {}),
    };
  }

  apiGuild(g: GuildRecord): any {
    return {
      id: g.id,
      name: g.name,
      icon: null,
      splash: null,
      discovery_splash: null,
      banner: null,
      description: null,
      owner_id: g.owner_id,
      afk_channel_id: null,
      afk_timeout: 300,
      verification_level: 0,
      default_message_notifications: 0,
      explicit_content_filter: 0,
      mfa_level: 0,
      nsfw_level: 0,
      premium_tier: 0,
      premium_subscription_count: 0,
      premium_progress_bar_enabled: false,
      system_channel_id: null,
      system_channel_flags: 0,
      rules_channel_id: null,
      public_updates_channel_id: null,
      safety_alerts_channel_id: null,
      vanity_url_code: null,
      preferred_locale: 'en-US',
      features: [],
      emojis: [],
      stickers: [],
      application_id: null,
      max_members: 500000,
      max_video_channel_users: 25,
      approximate_member_count: g.members.size,
      roles: [
        {
          id: g.id,
          name: '@everyone',
          color: 0,
          colors: { primary_color: 0, secondary_color: null, tertiary_color: null },
          hoist: false,
          icon: null,
          unicode_emoji: null,
          position: 0,
          permissions: DEFAULT_MEMBER_PERMISSIONS.toString(),
          managed: false,
          mentionable: false,
          flags: 0,
        },
      ],
    };
  }

  apiAttachment(a: StoredAttachment): any {
    return {
      id: a.id,
      filename: a.filename,
      size: a.size,
      url: a.url,
      proxy_url: a.url,
      ...(a.content_type ? { content_type: a.content_type } : {}),
      ...(a.width !== undefined ? { width: a.width, height: a.height } : {}),
    };
  }

  apiMessage(m: StoredMessage, nested = false): any {
    const ref = m.message_reference;
    const referenced = ref ? this.messagesById.get(ref.message_id) : undefined;
    const interaction = m.interaction_id ? this.interactions.get(m.interaction_id) : undefined;
    return {
      id: m.id,
      type: m.type,
      channel_id: m.channel_id,
      ...(m.guild_id ? { guild_id: m.guild_id } : {}),
      author: this.apiUser(m.author),
      content: m.content,
      timestamp: m.timestamp,
      edited_timestamp: m.edited_timestamp,
      tts: false,
      mention_everyone: false,
      mentions: m.mentions.map((u) => this.apiUser(u)),
      mention_roles: [],
      mention_channels: [],
      attachments: m.attachments.map((a) => this.apiAttachment(a)),
      embeds: m.embeds,
      components: m.components,
      pinned: false,
      flags: m.flags,
      ...(m.reactions.length
        ? {
            reactions: m.reactions.map((e) => ({
              emoji: parseEmoji(e),
              count: 1,
              me: true,
              me_burst: false,
              count_details: { burst: 0, normal: 1 },
              burst_colors: [],
            })),
          }
        : {}),
      ...(ref ? { message_reference: { type: 0, ...ref } } : {}),
      ...(ref && ref.type !== 1 && !nested
        ? { referenced_message: referenced && !referenced.deleted ? this.apiMessage(referenced, true) : null }
        : {}),
      ...(m.message_snapshots ? { message_snapshots: m.message_snapshots } : {}),
      ...(m.webhook_id ? { webhook_id: m.webhook_id } : {}),
      ...(interaction
        ? {
            webhook_id: this.applicationId,
            application_id: this.applicationId,
            interaction_metadata: {
              id: interaction.result.interactionId,
              type: interaction.result.type,
              user: this.apiUser(interaction.user),
              authorizing_integration_owners: { '0': interaction.guildId },
              ...(interaction.name ? { name: interaction.name, command_type: interaction.commandType } : {}),
              ...(interaction.messageId ? { interacted_message_id: interaction.messageId } : {}),
              ...(interaction.result.original && interaction.result.original.id !== m.id
                ? { original_response_message_id: interaction.result.original.id }
                : {}),
            },
            interaction: {
              id: interaction.result.interactionId,
              type: interaction.result.type,
              name: interaction.name ?? '',
              user: this.apiUser(interaction.user),
            },
          }
        : {}),
    };
  }

  /** A forwarded message as Discord snapshots it: its content without author, id or channel. */
  private snapshot(m: StoredMessage): any {
    return {
      type: m.type,
      content: m.content,
      embeds: m.embeds,
      attachments: m.attachments.map((a) => this.apiAttachment(a)),
      timestamp: m.timestamp,
      edited_timestamp: m.edited_timestamp,
      flags: m.flags & ~EPHEMERAL,
      mentions: m.mentions.map((u) => this.apiUser(u)),
      mention_roles: [],
      components: m.components,
    };
  }

  // ---- mutations ---------------------------------------------------------------------------------

  storeFile(channelId: string, file: UploadFile, filename = file.filename): StoredAttachment {
    const id = snowflake();
    // Discord replaces whitespace in uploaded file names.
    const name = filename.replace(/\s+/g, '_');
    const contentType = guessContentType(name, file.contentType);
    const a: StoredAttachment = {
      id,
      filename: name,
      size: file.size ?? file.bytes.length,
      url: file.url ?? `${this.origin()}/attachments/${channelId}/${id}/${encodeURIComponent(name)}`,
      bytes: file.bytes,
      ...(contentType ? { content_type: contentType } : {}),
      ...imageSize(file.bytes),
      ...(file.redirectTo ? { redirectTo: file.redirectTo } : {}),
    };
    this.attachments.set(id, a);
    return a;
  }

  /** Validates and stores a message, then echoes it to the gateway (unless ephemeral). */
  createMessage(init: MessageInit): StoredMessage {
    const channel = this.channel(init.channelId);
    const ref = init.payload.message_reference;
    // A forward (reference type 1) copies the message into a snapshot; it is neither a reply nor a ping.
    const forward = ref?.type === 1;
    let reference: StoredMessage | undefined;
    if (ref?.message_id) {
      reference = this.messagesById.get(String(ref.message_id));
      if ((!reference || reference.deleted) && ref.fail_if_not_exists !== false) {
        throw invalidForm('message_reference', 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', 'Unknown message');
      }
    }
    const now = new Date().toISOString();
    const m: StoredMessage = {
      id: snowflake(),
      channel_id: channel.id,
      guild_id: channel.guild_id,
      author: init.author,
      content: '',
      embeds: [],
      components: [],
      attachments: [],
      flags: 0,
      type: init.type ?? (reference && !forward ? 19 : 0),
      mentions: [...(init.mentions ?? [])],
      reactions: [],
      edits: 0,
      timestamp: now,
      edited_timestamp: null,
      ...(init.interactionId ? { interaction_id: init.interactionId } : {}),
      ...(init.webhookId ? { webhook_id: init.webhookId } : {}),
      ...(reference
        ? {
            message_reference: {
              ...(forward ? { type: 1 as const } : {}),
              message_id: reference.id,
              channel_id: reference.channel_id,
              ...(reference.guild_id ? { guild_id: reference.guild_id } : {}),
            },
          }
        : {}),
      ...(reference && forward ? { message_snapshots: [{ message: this.snapshot(reference) }] } : {}),
    };
    this.applyPayload(m, init.payload, init.files ?? new Map(), false);
    // A reply pings the replied-to author unless allowed_mentions.replied_user is false.
    if (
      reference &&
      !forward &&
      init.payload.allowed_mentions?.replied_user !== false &&
      !m.mentions.some((u) => u.id === reference.author.id)
    ) {
      m.mentions.push(reference.author);
    }
    this.messagesById.set(m.id, m);
    if (!(m.flags & EPHEMERAL)) {
      const list = this.history.get(channel.id) ?? [];
      list.push(m);
      this.history.set(channel.id, list);
      this.sink.message('MESSAGE_CREATE', m);
    }
    this.changed();
    return m;
  }

  editMessage(m: StoredMessage, payload: any, files: Map<string, UploadFile>): StoredMessage {
    // Work on a draft so a rejected edit (e.g. 50006) leaves the message untouched.
    const draft: StoredMessage = { ...m, mentions: [...m.mentions] };
    this.applyPayload(draft, payload, files, true);
    Object.assign(m, draft);
    m.edits += 1;
    m.edited_timestamp = new Date().toISOString();
    if (!(m.flags & EPHEMERAL)) this.sink.message('MESSAGE_UPDATE', m);
    this.changed();
    return m;
  }

  deleteMessage(m: StoredMessage): void {
    m.deleted = true;
    const list = this.history.get(m.channel_id);
    const i = list?.indexOf(m) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
    if (!(m.flags & EPHEMERAL)) this.sink.message('MESSAGE_DELETE', m);
    this.changed();
  }

  /** Applies a create/edit payload: fields present replace, absent ones stay (edits). */
  private applyPayload(m: StoredMessage, p: any, files: Map<string, UploadFile>, isEdit: boolean): void {
    if ('content' in p) m.content = p.content == null ? '' : String(p.content);
    if ('embeds' in p) m.embeds = p.embeds ?? [];
    if ('components' in p) m.components = checkComponents(p.components ?? []);
    if ('flags' in p || !isEdit) {
      const flags = Number(p.flags ?? 0);
      // Ephemerality is fixed at creation; an edit clears the deferred "loading" state.
      m.flags = isEdit ? (m.flags & EPHEMERAL) | (flags & ~(EPHEMERAL | LOADING)) : flags & ~LOADING;
    }
    if (Array.isArray(p.attachments)) {
      const used = new Set<string>();
      m.attachments = p.attachments.map((ref: any) => {
        const id = String(ref.id);
        const kept = m.attachments.find((a) => a.id === id);
        if (kept) return kept;
        const file = files.get(id);
        if (!file) throw invalidForm('attachments', 'ATTACHMENT_NOT_FOUND', `Attachment ${id} is neither uploaded nor on the message`);
        used.add(id);
        return this.storeFile(m.channel_id, file, ref.filename ?? file.filename);
      });
      for (const [id, file] of files) if (!used.has(id)) m.attachments.push(this.storeFile(m.channel_id, file));
    } else {
      for (const file of files.values()) m.attachments.push(this.storeFile(m.channel_id, file));
    }
    m.embeds = m.embeds.map((e) => resolveEmbedFiles(e, m.attachments));
    for (const match of m.content.matchAll(/<@!?(\d+)>/g)) {
      const u = this.users.get(match[1] ?? '');
      if (u && !m.mentions.some((x) => x.id === u.id)) m.mentions.push(u);
    }
    if (m.content.length > 2000) throw invalidForm('content', 'BASE_TYPE_MAX_LENGTH', 'Must be 2000 or fewer in length.');
    if (m.embeds.length > 10) throw invalidForm('embeds', 'BASE_TYPE_MAX_LENGTH', 'Must be 10 or fewer in length.');
    if (
      !m.content &&
      !m.embeds.length &&
      !m.attachments.length &&
      !m.components.length &&
      !m.message_snapshots?.length &&
      !p.sticker_ids?.length &&
      !p.poll
    ) {
      throw new ApiError(400, 50006, 'Cannot send an empty message');
    }
  }
}

function parseEmoji(e: string): { id: string | null; name: string } {
  const [name, id] = e.split(':');
  return { id: id ?? null, name: name ?? e };
}

/** Discord rewrites `attachment://name` in embeds to the uploaded file's URL. */
function resolveEmbedFiles(embed: any, attachments: StoredAttachment[]): any {
  const find = (url: unknown) =>
    typeof url === 'string' && url.startsWith('attachment://') ? attachments.find((a) => a.filename === url.slice(13)) : undefined;
  const out = { ...embed };
  for (const key of ['image', 'thumbnail'] as const) {
    const a = find(out[key]?.url);
    if (a)
      out[key] = {
        url: a.url,
        proxy_url: a.url,
        ...(a.width !== undefined ? { width: a.width, height: a.height } : {}),
        ...(a.content_type ? { content_type: a.content_type } : {}),
      };
  }
  for (const key of ['author', 'footer'] as const) {
    const a = find(out[key]?.icon_url);
    if (a) out[key] = { ...out[key], icon_url: a.url, proxy_icon_url: a.url };
  }
  return out;
}

/**
 * Discord's limits on a message's legacy components, answered with 50035 as Discord does: at most 5
 * action rows, at most 5 buttons (or one select menu) in a row, custom ids of at most 100 characters.
 */
export function checkComponents(components: any[]): any[] {
  if (components.length > 5) throw invalidForm('components', 'BASE_TYPE_MAX_LENGTH', 'Must be 5 or fewer in length.');
  for (const [i, row] of components.entries()) {
    if (row?.type !== 1) continue;
    const inner: any[] = row.components ?? [];
    if (inner.length === 0 || inner.length > 5) {
      throw invalidForm(`components.${i}.components`, 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 5 in length.');
    }
    for (const [j, c] of inner.entries()) {
      if (typeof c?.custom_id === 'string' && c.custom_id.length > 100) {
        throw invalidForm(`components.${i}.components.${j}.custom_id`, 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.');
      }
    }
  }
  return components;
}
