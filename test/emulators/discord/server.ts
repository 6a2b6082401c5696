/**
 * A loopback Discord (REST v10 + Gateway v10) that an unmodified discord.js 14 client logs in to with
 * `new Client({ intents, rest: { api: emulator.apiBase } })`. One HTTP server serves REST under
 * `/api/v10`, the gateway as a WebSocket upgrade at `/gateway` and uploaded files at `/attachments`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Gateway, Intent } from './gateway.ts';
import { messageComponent, modalComponents, resolveOptions, shownModal } from './interactions.ts';
import { createRest } from './rest.ts';
import {
  ALL_PERMISSIONS,
  BOT_PERMISSIONS,
  DEFAULT_ATTACHMENT_LIMIT,
  DEFAULT_MEMBER_PERMISSIONS,
  State,
  type InteractionRecord,
} from './state.ts';
import type {
  EmulatorOptions,
  EmulatorUser,
  InteractionHandle,
  InteractionResult,
  RestCall,
  RestFault,
  StoredMessage,
  UploadFile,
} from './types.ts';
import { snowflake, snowflakeAt } from './util.ts';

export type * from './types.ts';
export { Intent } from './gateway.ts';

const DEFAULT_TIMEOUT_MS = 10_000;

/** Where an interaction happens and who triggers it. */
export interface InteractionTarget {
  guildId: string;
  channelId: string;
  user: EmulatorUser;
  /** When the interaction was created (ms since the epoch), as its snowflake id says; default now. For token-age tests. */
  createdAt?: number;
}

export class DiscordEmulator {
  /** `http://127.0.0.1:PORT/api`: pass as `rest.api`; discord.js appends `/v10`. */
  readonly apiBase: string;
  readonly applicationId: string;
  /** The bot's own user (`bot: true`); its id is what READY and message authors carry. */
  readonly botUser: EmulatorUser;
  /** The token the bot must log in with. */
  readonly token: string;
  /** Every REST request in order, for assertions and benchmarks. */
  readonly restCalls: RestCall[] = [];
  /** Requests no route matched (answered 404), so gaps in the emulator are visible. */
  readonly unhandled: Array<{ method: string; path: string; at: number }> = [];
  /** Every request for an uploaded file (`/attachments/...`), in order, found or not. */
  readonly fileRequests: Array<{ method: string; path: string; at: number }> = [];
  private readonly faults: RestFault[] = [];
  private readonly state: State;
  private readonly gateway: Gateway;
  private readonly commandIds = new Map<string, string>();
  /** The INTERACTION_CREATE payload of each injected interaction, by id, for {@link redeliver}. */
  private readonly delivered = new Map<string, unknown>();
  private closed = false;

  private constructor(
    private readonly server: Server,
    opts: EmulatorOptions,
    readonly origin: string,
  ) {
    this.applicationId = opts.applicationId ?? opts.botUser?.id ?? snowflake();
    this.botUser = { ...(opts.botUser ?? { id: this.applicationId, username: 'Limner' }), bot: true };
    // Shaped like a real token (base64 user id . timestamp . hmac) because discord.js splits it on '.'.
    this.token = opts.token ?? `${Buffer.from(this.botUser.id).toString('base64url')}.emulator.${randomBytes(20).toString('base64url')}`;
    this.apiBase = `${origin}/api`;
    this.state = new State(this.botUser, this.applicationId, () => this.origin);
    const gatewayUrl = () => `${origin.replace(/^http/, 'ws')}/gateway`;
    this.gateway = new Gateway(this.state, { token: this.token, url: gatewayUrl, heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 41_250 });
    this.state.sink = this.gateway;
    const rest = createRest({
      state: this.state,
      token: this.token,
      gatewayUrl,
      restCalls: this.restCalls,
      unhandled: this.unhandled,
      faults: this.faults,
      keepUploadBytes: opts.keepUploadBytes ?? true,
    });
    server.on('request', (req, res) => {
      const url = new URL(req.url ?? '/', origin);
      if (url.pathname.startsWith('/api/v10/')) void rest(req, res, url.pathname.slice('/api/v10'.length), url.searchParams);
      else this.serveFile(req, res, url.pathname);
    });
    server.on('upgrade', (req, socket, head) => {
      if (new URL(req.url ?? '/', origin).pathname === '/gateway') this.gateway.handleUpgrade(req, socket, head);
      else socket.destroy();
    });
  }

  /** Starts listening on 127.0.0.1 (an ephemeral port unless `opts.port`). */
  static async start(opts: EmulatorOptions = {}): Promise<DiscordEmulator> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    return new DiscordEmulator(server, opts, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }

  // ---- world setup -------------------------------------------------------------------------------

  /** Adds a guild (default: one text channel `general`) with the bot as member; dispatches GUILD_CREATE when connected. */
  addGuild(
    g: {
      id?: string;
      name?: string;
      ownerId?: string;
      channels?: Array<{ id?: string; name?: string; type?: number; parent_id?: string }>;
    } = {},
  ): { id: string; channels: Array<{ id: string; name: string }> } {
    const id = g.id ?? snowflake();
    const channels = (g.channels ?? [{ name: 'general' }]).map((c, position) => ({
      id: c.id ?? snowflake(),
      name: c.name ?? `channel-${position}`,
      type: c.type ?? 0,
      guild_id: id,
      parent_id: c.parent_id ?? null,
      position,
    }));
    const now = new Date().toISOString();
    const record = {
      id,
      name: g.name ?? 'Emulated Guild',
      owner_id: g.ownerId ?? snowflake(),
      channels,
      members: new Map(),
      joined_at: now,
    };
    record.members.set(this.botUser.id, { user: this.botUser, permissions: BOT_PERMISSIONS.toString(), joined_at: now });
    this.state.guilds.set(id, record);
    for (const c of channels) this.state.channels.set(c.id, c);
    if (this.gateway.readyCount > 0) void this.gateway.dispatch('GUILD_CREATE', this.gateway.guildCreate(record));
    this.state.changed();
    return { id, channels: channels.map((c) => ({ id: c.id, name: c.name })) };
  }

  /**
   * Starts a thread (11 public, 12 private) in a channel and dispatches THREAD_CREATE, as Discord
   * does to the bot when a thread it can see is created. Threads are also in later GUILD_CREATEs' `threads`.
   */
  async addThread(p: { parentId: string; name?: string; type?: 11 | 12; id?: string }): Promise<{ id: string; name: string }> {
    const parent = this.state.channel(p.parentId);
    const g = this.state.guilds.get(parent.guild_id)!;
    const thread = {
      id: p.id ?? snowflake(),
      name: p.name ?? 'thread',
      type: p.type ?? 11,
      guild_id: g.id,
      parent_id: parent.id,
      position: 0,
    };
    g.channels.push(thread);
    this.state.channels.set(thread.id, thread);
    await this.gateway.dispatch('THREAD_CREATE', { ...this.state.apiChannel(thread), newly_created: true }, Intent.Guilds);
    this.state.changed();
    return { id: thread.id, name: thread.name };
  }

  /**
   * Adds (or updates) a member. `permissions` is the computed permission bitfield interactions carry;
   * the default allows viewing, sending, attaching and commands but not ManageGuild; the owner gets all.
   */
  addMember(guildId: string, user: EmulatorUser, opts: { permissions?: bigint | string } = {}): void {
    const g = this.state.guilds.get(guildId);
    if (!g) throw new Error(`addMember: unknown guild ${guildId}`);
    const permissions = opts.permissions ?? (g.owner_id === user.id ? ALL_PERMISSIONS : DEFAULT_MEMBER_PERMISSIONS);
    const isNew = !g.members.has(user.id);
    g.members.set(user.id, {
      user,
      permissions: permissions.toString(),
      joined_at: g.members.get(user.id)?.joined_at ?? new Date().toISOString(),
    });
    this.state.users.set(user.id, user);
    if (isNew)
      void this.gateway.dispatch('GUILD_MEMBER_ADD', { ...this.state.apiMember(guildId, user.id), guild_id: guildId }, Intent.GuildMembers);
    this.state.changed();
  }

  // ---- interactions ------------------------------------------------------------------------------

  /**
   * Injects an application command (default chat input). Options use the wire shape; an attachment
   * option (type 11) whose value is an index into `attachments` is pointed at that stored file.
   * `attachmentSizeLimit` is in bytes (default 10 MiB). Resolves once INTERACTION_CREATE was sent.
   */
  async sendCommand(
    p: InteractionTarget & {
      name: string;
      options?: any[];
      attachments?: UploadFile[];
      attachmentSizeLimit?: number;
      commandType?: number;
      targetId?: string;
    },
  ): Promise<InteractionHandle> {
    const commandType = p.commandType ?? 1;
    const files = (p.attachments ?? []).map((f) => this.state.storeFile(p.channelId, f));
    const resolved: any = {};
    if (files.length) resolved.attachments = Object.fromEntries(files.map((a) => [a.id, this.state.apiAttachment(a)]));
    const options = p.options ? resolveOptions(this.state, p.guildId, p.options, files, resolved) : undefined;
    if (commandType === 3) {
      const target = this.state.messagesById.get(p.targetId ?? '');
      if (!target) throw new Error(`sendCommand: message context target ${p.targetId} not found`);
      resolved.messages = { [target.id]: this.state.apiMessage(target) };
    } else if (commandType === 2) {
      resolveOptions(this.state, p.guildId, [{ type: 6, value: p.targetId }], [], resolved);
    }
    const data = {
      id: this.commandId(p.guildId, p.name, commandType),
      name: p.name,
      type: commandType,
      guild_id: p.guildId,
      ...(options ? { options } : {}),
      ...(p.targetId ? { target_id: p.targetId } : {}),
      ...(Object.keys(resolved).length ? { resolved } : {}),
    };
    return this.inject(p, 2, data, { commandType, name: p.name, attachmentSizeLimit: p.attachmentSizeLimit });
  }

  /** Injects an autocomplete interaction; mark the focused option with `focused: true`. */
  async sendAutocomplete(p: InteractionTarget & { name: string; options: any[] }): Promise<InteractionHandle> {
    const data = { id: this.commandId(p.guildId, p.name, 1), name: p.name, type: 1, guild_id: p.guildId, options: p.options };
    return this.inject(p, 4, data, { commandType: 1, name: p.name });
  }

  /** Clicks a button on a stored message; throws if the message has no such enabled button. */
  async clickButton(p: InteractionTarget & { messageId: string; customId: string }): Promise<InteractionHandle> {
    messageComponent(this.state.messagesById.get(p.messageId), p.messageId, p.customId, [2]);
    return this.inject(p, 3, { custom_id: p.customId, component_type: 2 }, { messageId: p.messageId });
  }

  /**
   * Picks values in a select menu (string, user, role, mentionable or channel) on a stored message.
   * `attachmentSizeLimit` is in bytes (default 10 MiB).
   */
  async selectMenu(
    p: InteractionTarget & { messageId: string; customId: string; values: string[]; attachmentSizeLimit?: number },
  ): Promise<InteractionHandle> {
    const c = messageComponent(this.state.messagesById.get(p.messageId), p.messageId, p.customId, [3, 5, 6, 7, 8]);
    const resolved: any = {};
    if (c.type === 5 || c.type === 7)
      resolveOptions(
        this.state,
        p.guildId,
        p.values.map((value) => ({ type: 6, value })),
        [],
        resolved,
      );
    const data = { custom_id: p.customId, component_type: c.type, values: p.values, ...(Object.keys(resolved).length ? { resolved } : {}) };
    return this.inject(p, 3, data, { messageId: p.messageId, attachmentSizeLimit: p.attachmentSizeLimit });
  }

  /**
   * Injects a component interaction with any `data` (custom id, component type, values), on a stored
   * message or none, without checking that the message carries such a component: what a modified
   * client or a direct API call can send.
   */
  async forgeComponent(
    p: InteractionTarget & { messageId?: string; data: { custom_id: string; component_type: number; values?: string[] } },
  ): Promise<InteractionHandle> {
    return this.inject(p, 3, p.data, { ...(p.messageId ? { messageId: p.messageId } : {}) });
  }

  /**
   * Delivers an interaction injected earlier once more: the same INTERACTION_CREATE payload (same
   * id and token), as a gateway replay or a resend would. Resolves once the dispatch was sent.
   */
  async redeliver(interactionId: string): Promise<void> {
    const payload = this.delivered.get(interactionId);
    if (!payload) throw new Error(`redeliver: no interaction ${interactionId} was injected`);
    await this.gateway.dispatch('INTERACTION_CREATE', payload);
  }

  /**
   * Submits a modal. The submitted layout mirrors the modal the bot showed with that custom id
   * (label components or legacy action rows); string arrays are select-menu values.
   */
  async submitModal(
    p: InteractionTarget & { customId: string; fields: Record<string, string | string[]>; messageId?: string },
  ): Promise<InteractionHandle> {
    const data = { custom_id: p.customId, components: modalComponents(shownModal(this.state, p.customId), p.fields) };
    return this.inject(p, 5, data, { ...(p.messageId ? { messageId: p.messageId } : {}) });
  }

  /**
   * Posts a user message (MESSAGE_CREATE). `replyTo` makes it a reply that pings the replied-to
   * author (so a reply to the bot counts as mentioning it); `mentionsBot` adds the bot to `mentions`.
   * `forwardOf` makes it a forward of that message (`message_reference.type` 1, the message in
   * `message_snapshots`, no content of its own, no ping); pass `content: ''` with it.
   * Resolves once the dispatch was sent.
   */
  async postUserMessage(p: {
    channelId: string;
    user: EmulatorUser;
    content: string;
    replyTo?: string;
    forwardOf?: string;
    attachments?: UploadFile[];
    mentionsBot?: boolean;
  }): Promise<StoredMessage> {
    const channel = this.state.channels.get(p.channelId);
    if (!channel) throw new Error(`postUserMessage: unknown channel ${p.channelId}`);
    if (!this.state.guilds.get(channel.guild_id)?.members.has(p.user.id)) this.addMember(channel.guild_id, p.user);
    const payload = {
      content: p.content,
      ...(p.replyTo ? { message_reference: { message_id: p.replyTo } } : {}),
      // HAS_SNAPSHOT (1 << 14) is set on every forward.
      ...(p.forwardOf ? { message_reference: { type: 1, message_id: p.forwardOf }, flags: 1 << 14 } : {}),
      ...(p.mentionsBot === false ? { allowed_mentions: { replied_user: false } } : {}),
    };
    const files = new Map((p.attachments ?? []).map((f, i) => [String(i), f]));
    const m = this.state.createMessage({
      channelId: p.channelId,
      author: p.user,
      payload,
      files,
      mentions: p.mentionsBot ? [this.botUser] : [],
    });
    await this.gateway.flush();
    return m;
  }

  /**
   * Posts a message through a channel webhook, as proxy bots (Tupperbox, PluralKit) and dice bots do
   * (MESSAGE_CREATE with `webhook_id`; the author is the webhook, with `username` the name the
   * message was posted under and `bot: true`). In a thread the webhook is its parent's, as on Discord.
   * Resolves once the dispatch was sent.
   */
  async postWebhookMessage(p: { channelId: string; webhookId: string; username: string; content: string }): Promise<StoredMessage> {
    if (!this.state.channels.get(p.channelId)) throw new Error(`postWebhookMessage: unknown channel ${p.channelId}`);
    const m = this.state.createMessage({
      channelId: p.channelId,
      author: { id: p.webhookId, username: p.username, bot: true },
      payload: { content: p.content },
      webhookId: p.webhookId,
    });
    await this.gateway.flush();
    return m;
  }

  /**
   * Edits a stored message as its author would (MESSAGE_UPDATE; sessions without Message Content
   * get it blanked like MESSAGE_CREATE). Resolves once the dispatch was sent.
   */
  async editUserMessage(messageId: string, content: string): Promise<StoredMessage> {
    const m = this.state.messagesById.get(messageId);
    if (!m || m.deleted) throw new Error(`editUserMessage: no message ${messageId}`);
    this.state.editMessage(m, { content }, new Map());
    await this.gateway.flush();
    return m;
  }

  /** Deletes a stored message as its author or a moderator would (MESSAGE_DELETE). Resolves once the dispatch was sent. */
  async deleteUserMessage(messageId: string): Promise<void> {
    const m = this.state.messagesById.get(messageId);
    if (!m || m.deleted) throw new Error(`deleteUserMessage: no message ${messageId}`);
    this.state.deleteMessage(m);
    await this.gateway.flush();
  }

  // ---- inspection --------------------------------------------------------------------------------

  /** Visible messages of a channel, oldest first (ephemeral and deleted ones are left out). */
  messages(channelId: string): StoredMessage[] {
    return [...(this.state.history.get(channelId) ?? [])];
  }

  /** Any stored message by id, including ephemeral and deleted ones. */
  message(id: string): StoredMessage | undefined {
    return this.state.messagesById.get(id);
  }

  /** Commands stored by PUT/POST; no argument: the global ones. */
  registeredCommands(guildId?: string): any[] {
    return this.state.commands.get(guildId ?? '') ?? [];
  }

  /** Intents of the latest IDENTIFY. */
  get gatewayIntents(): number | undefined {
    return this.gateway.lastIntents;
  }

  get gatewayConnected(): boolean {
    return this.gateway.connected;
  }

  /** Resolves once a client identified and got READY and its GUILD_CREATEs. */
  waitForReady(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    return this.waitFor(() => this.gateway.readyCount > 0 && this.gateway.connected, { timeoutMs, label: 'gateway READY' }).then(
      () => undefined,
    );
  }

  /**
   * Resolves with the first truthy value of `fn`, re-checked on every state change and every 10 ms
   * (so predicates on the test's own state work too). A predicate may answer with a promise (a
   * store's read); it is asked again once that settles. A throwing (or rejecting) predicate counts as "not yet".
   */
  waitFor<T>(
    fn: () => T | undefined | null | false | PromiseLike<T | undefined | null | false>,
    opts: { timeoutMs?: number; label?: string } = {},
  ): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<T>((resolve, reject) => {
      let lastError: unknown;
      let asking = false;
      let done = false;
      const settle = (v: T | undefined | null | false) => {
        if (v && !done) {
          finish();
          resolve(v);
        }
      };
      const check = () => {
        if (asking || done) return;
        try {
          const v = fn();
          if (!isPromiseLike(v)) return settle(v);
          asking = true;
          v.then(settle, (err: unknown) => void (lastError = err)).then(() => void (asking = false));
        } catch (err) {
          lastError = err;
        }
      };
      const off = this.state.onChange(check);
      const poll = setInterval(check, 10);
      const timer = setTimeout(() => {
        finish();
        const recent = this.restCalls
          .slice(-5)
          .map((c) => `${c.method} ${c.route} ${c.status}`)
          .join('; ');
        reject(
          new Error(
            `waitFor(${opts.label ?? String(fn).slice(0, 120)}) timed out after ${timeoutMs} ms` +
              (lastError ? `; predicate threw: ${String(lastError)}` : '') +
              `; recent REST: ${recent || 'none'}` +
              (this.unhandled.length ? `; unhandled: ${this.unhandled.map((u) => `${u.method} ${u.path}`).join(', ')}` : ''),
          ),
        );
      }, timeoutMs);
      const finish = () => {
        done = true;
        off();
        clearInterval(poll);
        clearTimeout(timer);
      };
      check();
    });
  }

  // ---- control -----------------------------------------------------------------------------------

  /** Answers the next `times` (default 1) requests to `method route` with a canned status, e.g. 429. */
  failNext(fault: RestFault): void {
    this.faults.push({ ...fault });
  }

  /** Sends an arbitrary gateway dispatch to every connected session. */
  dispatch(event: string, data: unknown): Promise<void> {
    return this.gateway.dispatch(event, data);
  }

  /** Closes gateway sockets, keep-alive connections and the server. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.gateway.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- internals ---------------------------------------------------------------------------------

  private commandId(guildId: string, name: string, type: number): string {
    const registered = [...(this.state.commands.get(guildId) ?? []), ...(this.state.commands.get('') ?? [])].find(
      (c) => c.name === name && (c.type ?? 1) === type,
    );
    if (registered) return registered.id;
    const key = `${name}/${type}`;
    if (!this.commandIds.has(key)) this.commandIds.set(key, snowflake());
    return this.commandIds.get(key) ?? '';
  }

  private async inject(
    t: InteractionTarget,
    type: number,
    data: unknown,
    extra: { commandType?: number; name?: string; messageId?: string; attachmentSizeLimit?: number | undefined },
  ): Promise<InteractionHandle> {
    await this.waitForReady();
    const channel = this.state.channels.get(t.channelId);
    if (!channel || channel.guild_id !== t.guildId) throw new Error(`no channel ${t.channelId} in guild ${t.guildId}`);
    if (!this.state.guilds.get(t.guildId)?.members.has(t.user.id)) this.addMember(t.guildId, t.user);
    const id = t.createdAt === undefined ? snowflake() : snowflakeAt(t.createdAt);
    const token = Buffer.from(`interaction:${id}:${randomBytes(24).toString('hex')}`).toString('base64url');
    const result: InteractionResult = { interactionId: id, token, type, callbacks: [], followUps: [], ephemeral: false, history: [] };
    const attachmentSizeLimit = extra.attachmentSizeLimit ?? DEFAULT_ATTACHMENT_LIMIT;
    const rec: InteractionRecord = {
      result,
      guildId: t.guildId,
      channelId: t.channelId,
      user: t.user,
      attachmentSizeLimit,
      ...(extra.commandType ? { commandType: extra.commandType } : {}),
      ...(extra.name ? { name: extra.name } : {}),
      ...(extra.messageId ? { messageId: extra.messageId } : {}),
    };
    this.state.interactions.set(id, rec);
    const message = extra.messageId ? this.state.messagesById.get(extra.messageId) : undefined;
    const payload = {
      id,
      application_id: this.applicationId,
      type,
      token,
      version: 1,
      guild_id: t.guildId,
      channel_id: t.channelId,
      channel: { ...this.state.apiChannel(channel), permissions: this.state.guilds.get(t.guildId)?.members.get(t.user.id)?.permissions },
      guild: { id: t.guildId, locale: 'en-US', features: [] },
      member: {
        ...this.state.apiMember(t.guildId, t.user.id),
        permissions: this.state.guilds.get(t.guildId)?.members.get(t.user.id)?.permissions,
      },
      app_permissions: BOT_PERMISSIONS.toString(),
      locale: 'en-US',
      guild_locale: 'en-US',
      entitlements: [],
      authorizing_integration_owners: { '0': t.guildId },
      context: 0,
      attachment_size_limit: attachmentSizeLimit,
      data,
      ...(message ? { message: this.state.apiMessage(message) } : {}),
    };
    this.delivered.set(id, payload);
    await this.gateway.dispatch('INTERACTION_CREATE', payload);
    return {
      result,
      acknowledged: (timeoutMs) =>
        this.waitFor(() => result.callbacks.length > 0 && result, { timeoutMs, label: `interaction ${extra.name ?? type} acknowledged` }),
      waitUntil: (pred, timeoutMs) =>
        this.waitFor(() => pred(result) && result, {
          timeoutMs,
          label: `interaction ${extra.name ?? type} waitUntil(${String(pred).slice(0, 80)})`,
        }),
    };
  }

  private serveFile(req: IncomingMessage, res: ServerResponse, pathname: string): void {
    this.fileRequests.push({ method: req.method ?? 'GET', path: pathname, at: Date.now() });
    const m = /^\/attachments\/([^/]+)\/([^/]+)\/[^/]+$/.exec(pathname);
    const a = m ? this.state.attachments.get(m[2] ?? '') : undefined;
    if (!a || !a.url.includes(`/attachments/${m?.[1]}/`) || (req.method !== 'GET' && req.method !== 'HEAD')) {
      this.unhandled.push({ method: req.method ?? 'GET', path: pathname, at: Date.now() });
      res.writeHead(404, { 'content-type': 'text/plain' }).end('This content is no longer available.');
      return;
    }
    if (a.redirectTo) {
      res.writeHead(302, { location: a.redirectTo }).end();
      return;
    }
    res.writeHead(200, { 'content-type': a.content_type ?? 'application/octet-stream', 'content-length': a.size });
    res.end(req.method === 'HEAD' ? undefined : a.bytes);
  }
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
