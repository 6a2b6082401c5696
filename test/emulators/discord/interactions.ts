/**
 * Builders for the `data` of injected interactions, in the wire shape discord.js 14.28 parses.
 */
import type { State } from './state.ts';
import type { StoredAttachment, StoredMessage } from './types.ts';

/** Depth-first search through action rows (1), sections (9 accessory) and containers (17). */
export function findComponent(components: any[], customId: string): any {
  for (const c of components) {
    if (c?.custom_id === customId) return c;
    const inner = [...(c?.components ?? []), ...(c?.accessory ? [c.accessory] : []), ...(c?.component ? [c.component] : [])];
    const hit = inner.length ? findComponent(inner, customId) : undefined;
    if (hit) return hit;
  }
  return undefined;
}

/**
 * Completes command options the way Discord does: an attachment option (type 11) whose value is an
 * index into the uploaded files is pointed at the stored attachment, and user (6), channel (7) and
 * mentionable (9) options get their `resolved` entries.
 */
export function resolveOptions(state: State, guildId: string, options: any[], files: StoredAttachment[], resolved: any): any[] {
  return options.map((o) => {
    if (Array.isArray(o.options)) return { ...o, options: resolveOptions(state, guildId, o.options, files, resolved) };
    if (o.type === 11) {
      const byIndex = files[Number(o.value)];
      return byIndex && !files.some((f) => f.id === String(o.value)) ? { ...o, value: byIndex.id } : o;
    }
    if (o.type === 6 || o.type === 9) {
      const user = state.users.get(String(o.value));
      if (user) {
        (resolved.users ??= {})[user.id] = state.apiUser(user);
        const member = state.apiMember(guildId, user.id, false);
        if (member)
          (resolved.members ??= {})[user.id] = { ...member, permissions: state.guilds.get(guildId)?.members.get(user.id)?.permissions };
      }
    }
    if (o.type === 7) {
      const ch = state.channels.get(String(o.value));
      if (ch) (resolved.channels ??= {})[ch.id] = { id: ch.id, name: ch.name, type: ch.type, parent_id: ch.parent_id, permissions: '0' };
    }
    return o;
  });
}

/** The modal most recently shown (type-9 callback) with this custom id. */
export function shownModal(state: State, customId: string): any {
  return [...state.interactions.values()].reverse().find((r) => r.result.modal?.custom_id === customId)?.result.modal;
}

/**
 * Modal submit components mirroring the modal that was shown: label components (18) come back as
 * `{ type: 18, component }`, legacy action rows (1) as `{ type: 1, components }`. Without a known
 * modal every field is sent as a legacy row with a text input.
 */
export function modalComponents(modal: any, fields: Record<string, string | string[]>): any[] {
  if (!modal) return Object.entries(fields).map(([k, v]) => ({ type: 1, components: [{ type: 4, custom_id: k, value: String(v) }] }));
  const unknown = Object.keys(fields).filter((k) => !findComponent(modal.components ?? [], k));
  if (unknown.length) throw new Error(`submitModal: modal '${modal.custom_id}' has no field(s) ${unknown.join(', ')}`);
  const submitted = (c: any) => {
    const v = fields[c.custom_id];
    return c.type === 4
      ? { type: 4, id: c.id, custom_id: c.custom_id, value: String(v ?? '') }
      : { type: c.type, id: c.id, custom_id: c.custom_id, values: v === undefined ? [] : ([] as string[]).concat(v) };
  };
  return (modal.components ?? []).map((row: any) =>
    row.type === 18
      ? { type: 18, id: row.id, component: submitted(row.component) }
      : row.type === 1
        ? { type: 1, id: row.id, components: (row.components ?? []).map(submitted) }
        : { type: row.type, id: row.id },
  );
}

/** The clickable component on a message, or a descriptive error for the test. */
export function messageComponent(m: StoredMessage | undefined, messageId: string, customId: string, types: number[]): any {
  if (!m || m.deleted) throw new Error(`no message ${messageId} to interact with`);
  const c = findComponent(m.components, customId);
  if (!c || !types.includes(c.type)) throw new Error(`message ${messageId} has no component '${customId}' of type ${types.join('/')}`);
  if (c.disabled) throw new Error(`component '${customId}' on message ${messageId} is disabled`);
  return c;
}
