import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_ATTACHMENT_LIMIT, EPHEMERAL, isThread, type InteractionRecord, type State } from './state.ts';
import type { RestCall, RestFault, StoredMessage, UploadFile } from './types.ts';
import {
  ApiError,
  compareIds,
  compileRoute,
  invalidForm,
  notFound,
  parseBody,
  readBody,
  sendJson,
  snowflake,
  type ParsedBody,
} from './util.ts';

interface Ctx {
  params: Record<string, string>;
  query: URLSearchParams;
  body(): Promise<ParsedBody>;
}
interface Reply {
  status: number;
  body?: unknown;
}
interface Route {
  method: string;
  template: string;
  auth: boolean;
  match: (path: string) => Record<string, string> | undefined;
  handler: (c: Ctx) => Reply | Promise<Reply>;
}

export interface RestDeps {
  state: State;
  token: string;
  gatewayUrl: () => string;
  restCalls: RestCall[];
  unhandled: Array<{ method: string; path: string; at: number }>;
  faults: RestFault[];
  /** See `EmulatorOptions.keepUploadBytes`. */
  keepUploadBytes: boolean;
}

const ok = (body: unknown): Reply => ({ status: 200, body });
const NO_CONTENT: Reply = { status: 204 };

/** Discord rejects each file above the interaction's (or guild's) limit with 413 / 40005. */
function checkLimit(files: Map<string, UploadFile>, limit: number): void {
  for (const f of files.values()) if ((f.size ?? f.bytes.length) > limit) throw new ApiError(413, 40005, 'Request entity too large');
}

function snapshot(rec: InteractionRecord, m: StoredMessage): void {
  rec.result.history.push({ content: m.content, embeds: m.embeds, attachments: m.attachments.map((a) => a.filename), at: Date.now() });
}

/** Builds the `/api/v10` request handler. `path` excludes the `/api/v10` prefix. */
export function createRest(
  d: RestDeps,
): (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams) => Promise<void> {
  const { state } = d;
  const bot = state.botUser;
  const routes: Route[] = [];
  const route = (method: string, template: string, handler: Route['handler'], auth = true): void => {
    routes.push({ method, template, auth, match: compileRoute(template), handler });
  };

  const guild = (id: string) =>
    state.guilds.get(id) ??
    (() => {
      throw notFound(10004, 'Guild');
    })();
  const channelMessage = (channelId: string, messageId: string): StoredMessage => {
    state.channel(channelId);
    const m = state.messagesById.get(messageId);
    if (!m || m.deleted || m.channel_id !== channelId || m.flags & EPHEMERAL) throw notFound(10008, 'Message');
    return m;
  };
  const interaction = (c: Ctx): InteractionRecord => {
    const rec = [...state.interactions.values()].find((r) => r.result.token === c.params.token);
    // Interaction webhooks only exist once the interaction has been acknowledged.
    if (c.params.app !== state.applicationId || !rec || rec.result.callbacks.length === 0) throw notFound(10015, 'Webhook');
    return rec;
  };
  const interactionMessage = (rec: InteractionRecord, id: string | undefined): StoredMessage => {
    const r = rec.result;
    const m = id === '@original' ? r.original : [r.original, ...r.followUps].find((x) => x?.id === id);
    if (!m || m.deleted) throw notFound(10008, 'Message');
    return m;
  };
  const responseType = (rec: InteractionRecord): number => (rec.result.type === 2 ? (rec.commandType === 1 ? 20 : 23) : 0);

  // ---- gateway, users, applications ----------------------------------------------------------------
  route('GET', '/gateway', () => ok({ url: d.gatewayUrl() }), false);
  route('GET', '/gateway/bot', () =>
    ok({
      url: d.gatewayUrl(),
      shards: 1,
      session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 },
    }),
  );
  route('GET', '/users/@me', () => ok({ ...state.apiUser(bot), bot: true, verified: true, mfa_enabled: false, flags: 0 }));
  route('GET', '/users/:user', (c) => {
    const u = state.users.get(c.params.user ?? '');
    if (!u) throw notFound(10013, 'User');
    return ok(state.apiUser(u));
  });
  route('GET', '/applications/@me', () =>
    ok({
      id: state.applicationId,
      name: bot.username,
      icon: null,
      description: '',
      summary: '',
      type: null,
      bot_public: true,
      bot_require_code_grant: false,
      bot: state.apiUser(bot),
      verify_key: '0'.repeat(64),
      flags: 0,
      team: null,
      owner: { id: '1', username: 'owner', global_name: null, discriminator: '0', avatar: null },
      approximate_guild_count: state.guilds.size,
      redirect_uris: [],
      interactions_endpoint_url: null,
      tags: [],
    }),
  );

  const commandScope = (c: Ctx): string => {
    if (c.params.app !== state.applicationId) throw new ApiError(403, 50001, 'Missing Access');
    return c.params.guild ? guild(c.params.guild).id : '';
  };
  const storeCommand = (scope: string, cmd: any, existing: any[]): any => {
    if (typeof cmd?.name !== 'string') throw invalidForm('name', 'BASE_TYPE_REQUIRED', 'This field is required');
    const type = cmd.type ?? 1;
    // Discord keeps a command's id when it is overwritten under the same name and type.
    const prior = existing.find((x) => x.name === cmd.name && x.type === type);
    return {
      description: '',
      options: [],
      default_member_permissions: null,
      dm_permission: true,
      nsfw: false,
      integration_types: [0],
      contexts: null,
      name_localizations: null,
      description_localizations: null,
      ...cmd,
      type,
      id: prior?.id ?? snowflake(),
      application_id: state.applicationId,
      version: snowflake(),
      ...(scope ? { guild_id: scope } : {}),
    };
  };
  for (const base of ['/applications/:app/commands', '/applications/:app/guilds/:guild/commands']) {
    route('GET', base, (c) => ok(state.commands.get(commandScope(c)) ?? []));
    route('PUT', base, async (c) => {
      const scope = commandScope(c);
      const { json } = await c.body();
      if (!Array.isArray(json)) throw invalidForm('_root', 'ARRAY_TYPE_CONVERT', 'Must be an array');
      const existing = state.commands.get(scope) ?? [];
      const stored = json.map((cmd) => storeCommand(scope, cmd, existing));
      state.commands.set(scope, stored);
      state.changed();
      return ok(stored);
    });
    route('POST', base, async (c) => {
      const scope = commandScope(c);
      const existing = state.commands.get(scope) ?? [];
      const cmd = storeCommand(scope, (await c.body()).json, existing);
      state.commands.set(scope, [...existing.filter((x) => x.id !== cmd.id), cmd]);
      state.changed();
      return { status: existing.some((x) => x.id === cmd.id) ? 200 : 201, body: cmd };
    });
    route('GET', `${base}/:command`, (c) => {
      const cmd = state.commands.get(commandScope(c))?.find((x) => x.id === c.params.command);
      if (!cmd) throw notFound(10063, 'application command');
      return ok(cmd);
    });
    route('DELETE', `${base}/:command`, (c) => {
      const scope = commandScope(c);
      const list = state.commands.get(scope) ?? [];
      if (!list.some((x) => x.id === c.params.command)) throw notFound(10063, 'application command');
      state.commands.set(
        scope,
        list.filter((x) => x.id !== c.params.command),
      );
      return NO_CONTENT;
    });
  }

  // ---- guilds and channels -------------------------------------------------------------------------
  route('GET', '/guilds/:guild', (c) => {
    const g = guild(c.params.guild ?? '');
    return ok({ ...state.apiGuild(g), approximate_member_count: g.members.size, approximate_presence_count: 0 });
  });
  // As Discord: the guild's channels without threads; active threads (the emulator archives none) apart.
  route('GET', '/guilds/:guild/channels', (c) =>
    ok(
      guild(c.params.guild ?? '')
        .channels.filter((ch) => !isThread(ch))
        .map((ch) => state.apiChannel(ch)),
    ),
  );
  route('GET', '/guilds/:guild/threads/active', (c) =>
    ok({
      threads: guild(c.params.guild ?? '')
        .channels.filter(isThread)
        .map((ch) => state.apiChannel(ch)),
      members: [],
    }),
  );
  route('GET', '/guilds/:guild/roles', (c) => ok(state.apiGuild(guild(c.params.guild ?? '')).roles));
  route('GET', '/guilds/:guild/members', (c) => {
    const g = guild(c.params.guild ?? '');
    const after = c.query.get('after') ?? '0';
    const ids = [...g.members.keys()].filter((id) => compareIds(id, after) > 0).sort(compareIds);
    return ok(ids.slice(0, Number(c.query.get('limit') ?? 1)).map((id) => state.apiMember(g.id, id)));
  });
  route('GET', '/guilds/:guild/members/:user', (c) => {
    const member = state.apiMember(guild(c.params.guild ?? '').id, c.params.user ?? '');
    if (!member) throw notFound(10007, 'Member');
    return ok(member);
  });
  route('GET', '/channels/:channel', (c) => ok(state.apiChannel(state.channel(c.params.channel ?? ''))));
  route('POST', '/channels/:channel/typing', (c) => (state.channel(c.params.channel ?? ''), NO_CONTENT));
  route('GET', '/channels/:channel/messages', (c) => {
    const all = state.history.get(state.channel(c.params.channel ?? '').id) ?? [];
    const limit = Number(c.query.get('limit') ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalidForm('limit', 'NUMBER_TYPE_MAX', 'Must be between 1 and 100.');
    const [around, before, after] = ['around', 'before', 'after'].map((k) => c.query.get(k));
    let page: StoredMessage[];
    if (around) {
      const older = all.filter((m) => compareIds(m.id, around) <= 0).slice(-Math.ceil(limit / 2));
      page = [...older, ...all.filter((m) => compareIds(m.id, around) > 0).slice(0, Math.floor(limit / 2))];
    } else if (before) page = all.filter((m) => compareIds(m.id, before) < 0).slice(-limit);
    else if (after) page = all.filter((m) => compareIds(m.id, after) > 0).slice(0, limit);
    else page = all.slice(-limit);
    return ok(page.reverse().map((m) => state.apiMessage(m)));
  });
  route('POST', '/channels/:channel/messages', async (c) => {
    const { json, files } = await c.body();
    checkLimit(files, DEFAULT_ATTACHMENT_LIMIT);
    // Ephemeral is only for interaction responses; Discord ignores the flag here.
    const payload = { ...json, flags: Number(json.flags ?? 0) & ~EPHEMERAL };
    const m = state.createMessage({ channelId: c.params.channel ?? '', author: bot, payload, files });
    return ok({ ...state.apiMessage(m), ...(json.nonce !== undefined ? { nonce: json.nonce } : {}) });
  });
  route('GET', '/channels/:channel/messages/:message', (c) =>
    ok(state.apiMessage(channelMessage(c.params.channel ?? '', c.params.message ?? ''))),
  );
  route('PATCH', '/channels/:channel/messages/:message', async (c) => {
    const m = channelMessage(c.params.channel ?? '', c.params.message ?? '');
    if (m.author.id !== bot.id) throw new ApiError(403, 50005, 'Cannot edit a message authored by another user');
    const { json, files } = await c.body();
    checkLimit(files, DEFAULT_ATTACHMENT_LIMIT);
    return ok(state.apiMessage(state.editMessage(m, json, files)));
  });
  route('DELETE', '/channels/:channel/messages/:message', (c) => {
    state.deleteMessage(channelMessage(c.params.channel ?? '', c.params.message ?? ''));
    return NO_CONTENT;
  });
  route('PUT', '/channels/:channel/messages/:message/reactions/:emoji/@me', (c) => {
    const m = channelMessage(c.params.channel ?? '', c.params.message ?? '');
    if (!m.reactions.includes(c.params.emoji ?? '')) m.reactions.push(c.params.emoji ?? '');
    state.changed();
    return NO_CONTENT;
  });
  route('DELETE', '/channels/:channel/messages/:message/reactions/:emoji/@me', (c) => {
    const m = channelMessage(c.params.channel ?? '', c.params.message ?? '');
    m.reactions = m.reactions.filter((e) => e !== c.params.emoji);
    state.changed();
    return NO_CONTENT;
  });

  // ---- interactions --------------------------------------------------------------------------------
  route(
    'POST',
    '/interactions/:interaction/:token/callback',
    async (c) => {
      const rec = state.interactions.get(c.params.interaction ?? '');
      if (!rec || rec.result.token !== c.params.token) throw notFound(10062, 'interaction');
      const r = rec.result;
      if (r.callbacks.length) throw new ApiError(400, 40060, 'Interaction has already been acknowledged.');
      const { json, files } = await c.body();
      checkLimit(files, rec.attachmentSizeLimit);
      const type = Number(json.type);
      const data = json.data;
      const allowed = r.type === 4 ? [8] : r.type === 5 ? [4, 5, 6, 7] : r.type === 3 ? [4, 5, 6, 7, 9, 10, 12] : [1, 4, 5, 9, 10, 12];
      if (!allowed.includes(type) || ((type === 6 || type === 7) && !rec.messageId)) {
        throw invalidForm('type', 'INTERACTION_CALLBACK_TYPE_INVALID', `Callback type ${type} is not valid for interaction type ${r.type}`);
      }
      let message: StoredMessage | undefined;
      if (type === 4) {
        message = state.createMessage({
          channelId: rec.channelId,
          author: bot,
          payload: data ?? {},
          files,
          type: responseType(rec),
          interactionId: r.interactionId,
        });
        r.original = message;
        r.ephemeral = Boolean(message.flags & EPHEMERAL);
        snapshot(rec, message);
      } else if (type === 5) {
        r.ephemeral = Boolean(Number(data?.flags ?? 0) & EPHEMERAL);
      } else if (type === 6 || type === 7) {
        message = state.messagesById.get(rec.messageId ?? '');
        if (!message || message.deleted) throw notFound(10008, 'Message');
        r.original = message;
        if (type === 7) {
          state.editMessage(message, data ?? {}, files);
          snapshot(rec, message);
        }
      } else if (type === 8) {
        r.autocompleteChoices = data?.choices ?? [];
      } else if (type === 9) {
        r.modal = checkModal(data);
      }
      r.callbacks.push({ type, data, at: Date.now() });
      state.changed();
      if (c.query.get('with_response') !== 'true') return NO_CONTENT;
      return ok({
        interaction: {
          id: r.interactionId,
          type: r.type,
          response_message_loading: type === 5,
          ...(message ? { response_message_id: message.id, response_message_ephemeral: Boolean(message.flags & EPHEMERAL) } : {}),
        },
        resource: { type, ...(message ? { message: state.apiMessage(message) } : {}) },
      });
    },
    false,
  );

  route(
    'POST',
    '/webhooks/:app/:token',
    async (c) => {
      const rec = interaction(c);
      const r = rec.result;
      const { json, files } = await c.body();
      checkLimit(files, rec.attachmentSizeLimit);
      // After a defer, Discord turns the first follow-up into the @original response.
      const replacesDefer = !r.original && r.callbacks[0]?.type === 5;
      const flags = Number(json.flags ?? 0) | (replacesDefer && r.ephemeral ? EPHEMERAL : 0);
      const m = state.createMessage({
        channelId: rec.channelId,
        author: bot,
        payload: { ...json, flags },
        files,
        type: responseType(rec),
        interactionId: r.interactionId,
      });
      if (replacesDefer) {
        r.original = m;
        snapshot(rec, m);
      }
      r.followUps.push(m);
      state.changed();
      return c.query.get('wait') === 'true' ? ok(state.apiMessage(m)) : NO_CONTENT;
    },
    false,
  );
  route(
    'GET',
    '/webhooks/:app/:token/messages/:message',
    (c) => ok(state.apiMessage(interactionMessage(interaction(c), c.params.message))),
    false,
  );
  route(
    'PATCH',
    '/webhooks/:app/:token/messages/:message',
    async (c) => {
      const rec = interaction(c);
      const r = rec.result;
      const { json, files } = await c.body();
      checkLimit(files, rec.attachmentSizeLimit);
      if (c.params.message === '@original' && !r.original && r.callbacks[0]?.type === 5) {
        const flags = Number(json.flags ?? 0) | (r.ephemeral ? EPHEMERAL : 0);
        r.original = state.createMessage({
          channelId: rec.channelId,
          author: bot,
          payload: { ...json, flags },
          files,
          type: responseType(rec),
          interactionId: r.interactionId,
        });
        snapshot(rec, r.original);
        state.changed();
        return ok(state.apiMessage(r.original));
      }
      const m = state.editMessage(interactionMessage(rec, c.params.message), json, files);
      if (m === r.original) snapshot(rec, m);
      state.changed();
      return ok(state.apiMessage(m));
    },
    false,
  );
  route(
    'DELETE',
    '/webhooks/:app/:token/messages/:message',
    (c) => {
      state.deleteMessage(interactionMessage(interaction(c), c.params.message));
      return NO_CONTENT;
    },
    false,
  );

  return async (req, res, path, query) => {
    const method = req.method ?? 'GET';
    // discord.js percent-encodes '@' in '@original' and '@me'.
    const normalized = path.replace(/%40/gi, '@');
    let found: { route: Route; params: Record<string, string> } | undefined;
    for (const r of routes) {
      if (r.method !== method) continue;
      const params = r.match(normalized);
      if (params) {
        found = { route: r, params };
        break;
      }
    }
    const record = (route: string, status: number) => d.restCalls.push({ method, route, path, status, at: Date.now() });
    if (!found) {
      await readBody(req);
      d.unhandled.push({ method, path, at: Date.now() });
      console.warn(`[discord-emulator] unhandled ${method} /api/v10${path}`);
      record('(unhandled)', 404);
      return sendJson(res, 404, { message: '404: Not Found', code: 0 });
    }
    const { route: r, params } = found;
    const fault = d.faults.find((f) => f.method === method && f.route === r.template);
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.times <= 0) d.faults.splice(d.faults.indexOf(fault), 1);
      await readBody(req);
      record(r.template, fault.status);
      return sendJson(res, fault.status, fault.body ?? { message: `Injected ${fault.status}`, code: 0 }, fault.headers);
    }
    if (r.auth && req.headers.authorization !== `Bot ${d.token}`) {
      await readBody(req);
      record(r.template, 401);
      return sendJson(res, 401, { message: '401: Unauthorized', code: 0 });
    }
    let parsed: Promise<ParsedBody> | undefined;
    const ctx: Ctx = { params, query, body: () => (parsed ??= parseBody(req, { keepUploadBytes: d.keepUploadBytes })) };
    try {
      const reply = await r.handler(ctx);
      if (!parsed) await readBody(req);
      record(r.template, reply.status);
      sendJson(res, reply.status, reply.body);
    } catch (err) {
      if (!parsed) await readBody(req).catch(() => undefined);
      if (!(err instanceof ApiError)) console.error('[discord-emulator] handler error', err);
      const e = err instanceof ApiError ? err : new ApiError(500, 0, '500: Internal Server Error');
      record(r.template, e.status);
      sendJson(res, e.status, e.body);
    }
  };
}

/**
 * Discord's limits on a modal: a title of at most 45 characters, labels of at most 45, text inputs
 * whose `max_length` is at most 4,000 and whose pre-filled `value` fits it; 50035 otherwise.
 */
function checkModal(data: any): any {
  if (String(data?.title ?? '').length > 45) throw invalidForm('data.title', 'BASE_TYPE_MAX_LENGTH', 'Must be 45 or fewer in length.');
  for (const [i, row] of (data?.components ?? []).entries()) {
    if (row?.type === 18 && String(row.label ?? '').length > 45) {
      throw invalidForm(`data.components.${i}.label`, 'BASE_TYPE_MAX_LENGTH', 'Must be 45 or fewer in length.');
    }
    for (const input of [row?.component, ...(row?.components ?? [])]) {
      if (input?.type !== 4) continue;
      const max = input.max_length ?? 4000;
      if (max > 4000) throw invalidForm(`data.components.${i}.max_length`, 'NUMBER_TYPE_MAX', 'Must be less than or equal to 4000.');
      if (typeof input.value === 'string' && input.value.length > max) {
        throw invalidForm(`data.components.${i}.value`, 'BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`);
      }
    }
  }
  return data;
}
