import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import { isThread, type GuildRecord, type Sink, type State } from './state.ts';
import type { StoredMessage } from './types.ts';

/** Gateway intent bits the emulator honours. */
export const Intent = { Guilds: 1, GuildMembers: 1 << 1, GuildMessages: 1 << 9, MessageContent: 1 << 15 } as const;

/** A gateway session; it outlives its socket so a RESUME can replay what was missed. */
interface Session {
  id: string;
  intents: number;
  /** `[shard id, shard count]` from IDENTIFY; `[0, 1]` without sharding. */
  shard: [number, number];
  seq: number;
  ws: WebSocket | undefined;
  /** Recent dispatches for RESUME replay. */
  log: Array<{ s: number; t: string; d: unknown }>;
}

const LOG_LIMIT = 500;

/** Whether a guild's events go to `session`: Discord's `(guild_id >> 22) % shard_count`; DMs to shard 0. */
function onShard(session: Session, guildId: string | undefined): boolean {
  const [id, count] = session.shard;
  if (count <= 1) return true;
  return Number(guildId === undefined ? 0n : (BigInt(guildId) >> 22n) % BigInt(count)) === id;
}

/** Gateway v10 over `ws` (JSON, no compression): HELLO, IDENTIFY/READY, heartbeats, RESUME, dispatches. */
export class Gateway implements Sink {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions = new Map<string, Session>();
  private readonly pending = new Set<Promise<void>>();
  /** How many READY dispatches were sent. */
  readyCount = 0;
  /** Intents of the latest IDENTIFY. */
  lastIntents: number | undefined;

  constructor(
    private readonly state: State,
    private readonly opts: { token: string; url: () => string; heartbeatIntervalMs: number },
  ) {}

  get connected(): boolean {
    return [...this.sessions.values()].some((s) => s.ws?.readyState === 1);
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  /**
   * Sends a dispatch to every session holding `intent` (0: all) whose shard has the event's guild
   * (`guild_id`, or `id` of GUILD_CREATE; DMs go to shard 0); resolves once handed to the sockets.
   */
  dispatch(t: string, d: unknown, intent = 0): Promise<void> {
    const data = d as { guild_id?: string; id?: string } | null;
    const guildId = t === 'GUILD_CREATE' ? data?.id : data?.guild_id;
    const targets = [...this.sessions.values()].filter((s) => (s.intents & intent) === intent && onShard(s, guildId));
    return Promise.all(targets.map((s) => this.send(s, t, d))).then(() => undefined);
  }

  /** Resolves once every dispatch queued so far was handed to its socket. */
  flush(): Promise<void> {
    return Promise.all(this.pending).then(() => undefined);
  }

  message(t: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE' | 'MESSAGE_DELETE', m: StoredMessage): void {
    const bot = this.state.botUser.id;
    for (const s of this.sessions.values()) {
      if (!(s.intents & Intent.GuildMessages) || !onShard(s, m.guild_id ?? undefined)) continue;
      if (t === 'MESSAGE_DELETE') {
        void this.send(s, t, { id: m.id, channel_id: m.channel_id, guild_id: m.guild_id });
        continue;
      }
      const d = this.state.apiMessage(m);
      const member = m.guild_id ? this.state.apiMember(m.guild_id, m.author.id, false) : undefined;
      if (member) d.member = member;
      // Without MessageContent Discord blanks these, except on the bot's own messages and ones that mention it.
      const visible = s.intents & Intent.MessageContent || m.author.id === bot || m.mentions.some((u) => u.id === bot);
      if (!visible) Object.assign(d, { content: '', embeds: [], attachments: [], components: [] });
      void this.send(s, t, d);
    }
  }

  guildCreate(g: GuildRecord): any {
    return {
      ...this.state.apiGuild(g),
      joined_at: g.joined_at,
      large: false,
      unavailable: false,
      member_count: g.members.size,
      members: [...g.members.keys()].map((id) => this.state.apiMember(g.id, id)),
      // Active threads come in their own list, as Discord sends them.
      channels: g.channels.filter((c) => !isThread(c)).map((c) => this.state.apiChannel(c)),
      threads: g.channels.filter(isThread).map((c) => this.state.apiChannel(c)),
      presences: [],
      voice_states: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  close(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private accept(ws: WebSocket): void {
    let session: Session | undefined;
    ws.send(JSON.stringify({ op: 10, d: { heartbeat_interval: this.opts.heartbeatIntervalMs }, s: null, t: null }));
    ws.on('message', (raw) => {
      let msg: any;
      try {
        msg = JSON.parse(String(raw));
      } catch {
        ws.close(4002, 'Error while decoding payload.');
        return;
      }
      switch (msg.op) {
        case 1:
          ws.send(JSON.stringify({ op: 11, d: null, s: null, t: null }));
          break;
        case 2:
          if (session) return ws.close(4005, 'Already authenticated.');
          if (!this.tokenOk(msg.d?.token)) return ws.close(4004, 'Authentication failed.');
          session = this.identify(
            ws,
            Number(msg.d?.intents ?? 0),
            Array.isArray(msg.d?.shard) ? [Number(msg.d.shard[0]), Number(msg.d.shard[1])] : [0, 1],
          );
          break;
        case 6: {
          const old = this.sessions.get(msg.d?.session_id);
          if (!old || !this.tokenOk(msg.d?.token)) {
            ws.send(JSON.stringify({ op: 9, d: false, s: null, t: null }));
            break;
          }
          session = old;
          session.ws = ws;
          for (const e of session.log) if (e.s > Number(msg.d.seq ?? 0)) ws.send(JSON.stringify({ op: 0, ...e }));
          void this.send(session, 'RESUMED', {});
          break;
        }
        case 8:
          if (session) this.memberChunks(session, msg.d ?? {});
          break;
        case 3:
        case 4:
          break;
        default:
          ws.close(4001, 'Unknown opcode.');
      }
    });
    ws.on('close', () => {
      if (session?.ws === ws) session.ws = undefined;
      this.state.changed();
    });
  }

  private tokenOk(token: unknown): boolean {
    return typeof token === 'string' && token.replace(/^Bot\s+/i, '') === this.opts.token;
  }

  private identify(ws: WebSocket, intents: number, shard: [number, number]): Session {
    const session: Session = { id: randomBytes(16).toString('hex'), intents, shard, seq: 0, ws, log: [] };
    this.sessions.set(session.id, session);
    this.lastIntents = intents;
    const guilds = [...this.state.guilds.values()].filter((g) => onShard(session, g.id));
    void this.send(session, 'READY', {
      v: 10,
      user: { ...this.state.apiUser(this.state.botUser), bot: true, verified: true, mfa_enabled: false, flags: 0 },
      guilds: guilds.map((g) => ({ id: g.id, unavailable: true })),
      session_id: session.id,
      resume_gateway_url: this.opts.url(),
      shard,
      application: { id: this.state.applicationId, flags: 0 },
      private_channels: [],
      relationships: [],
      presences: [],
      user_settings: {},
      guild_join_requests: [],
      geo_ordered_rtc_regions: [],
    });
    // Sent regardless of the Guilds intent: without them discord.js waits 15 s for the listed guilds.
    for (const g of guilds) void this.send(session, 'GUILD_CREATE', this.guildCreate(g));
    this.readyCount += 1;
    this.state.changed();
    return session;
  }

  private memberChunks(session: Session, d: any): void {
    const ids: string[] = Array.isArray(d.guild_id) ? d.guild_id : [d.guild_id];
    for (const gid of ids) {
      const g = this.state.guilds.get(gid);
      if (!g) continue;
      const wanted: string[] | undefined = d.user_ids ? [].concat(d.user_ids) : undefined;
      const members = [...g.members.values()]
        .filter((m) =>
          wanted ? wanted.includes(m.user.id) : m.user.username.toLowerCase().startsWith(String(d.query ?? '').toLowerCase()),
        )
        .slice(0, d.limit || undefined)
        .map((m) => this.state.apiMember(gid, m.user.id));
      const notFound = wanted?.filter((id) => !g.members.has(id)) ?? [];
      void this.send(session, 'GUILD_MEMBERS_CHUNK', {
        guild_id: gid,
        members,
        chunk_index: 0,
        chunk_count: 1,
        not_found: notFound,
        ...(d.nonce ? { nonce: d.nonce } : {}),
      });
    }
  }

  private send(s: Session, t: string, d: unknown): Promise<void> {
    const entry = { s: ++s.seq, t, d };
    s.log.push(entry);
    if (s.log.length > LOG_LIMIT) s.log.shift();
    const ws = s.ws;
    if (!ws || ws.readyState !== 1) return Promise.resolve();
    const sent = new Promise<void>((resolve) => ws.send(JSON.stringify({ op: 0, ...entry }), () => resolve()));
    this.pending.add(sent);
    void sent.then(() => this.pending.delete(sent));
    return sent;
  }
}
