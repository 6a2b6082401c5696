import type { SceneOptionValue } from '../support/bot-harness.ts';
/**
 * Turns what the Discord emulator recorded for one interaction into the lines a person would read in
 * the channel. Pure functions: no I/O, so the demo's printed output and `transcript.txt` are the same text.
 */
import type { InteractionResult, StoredMessage } from '../emulators/discord/types.ts';

/** Discord's "only you can see this" marker for ephemeral messages. */
const EPHEMERAL = 64;
/** Deferred replies show this until the first edit; Discord renders it from the defer, not from a message. */
const THINKING = 'thinking…';
/** Terminal-friendly width for the wrapped embed description. */
const WRAP_COLUMNS = 100;
const INDENT = '  ';

/** A file the demo saved from an attachment, keyed by the emulator's attachment id. */
export interface SavedFile {
  /** Path shown to the reader, relative to the repository root, e.g. `demo-output/02_x.png`. */
  path: string;
  size: number;
}

/** Who said what, for the lines of one step. */
export interface RenderContext {
  /** The bot's name as Discord shows it. */
  botName: string;
  /** The user who ran the command (ephemeral messages are only theirs to see). */
  userName: string;
  /** Files saved so far, by attachment id; attachments not in here are shown without a local path. */
  saved: ReadonlyMap<string, SavedFile>;
}

/** `#campaign · Vox Machina`. */
export function channelHeader(channel: string, guild: string): string {
  return `#${channel} · ${guild}`;
}

/** `matt used /scene link campaign:kraghammer`, as Discord labels a command response. */
export function commandLine(user: string, command: string, sub: string, options: Record<string, SceneOptionValue>): string {
  const args = Object.entries(options)
    .map(([name, value]) => ` ${name}:${typeof value !== 'object' ? value : 'decimal' in value ? value.decimal : `📎 ${value.filename}`}`)
    .join('');
  return `${INDENT}${user} used /${command} ${sub}${args}`;
}

/**
 * The autocomplete popup a person sees while typing an option, before they pick a value.
 * Values are right-aligned so the previews line up like Discord's list.
 */
export function autocompleteLines(
  user: string,
  command: string,
  sub: string,
  option: string,
  typed: string,
  choices: ReadonlyArray<{ name: string; value: string | number }>,
): string[] {
  const lines = [
    `${INDENT}${user} types /${command} ${sub} ${option}:${typed} … Discord suggests ${choices.length} choice${choices.length === 1 ? '' : 's'}:`,
  ];
  if (choices.length === 0) return [...lines, `${INDENT.repeat(3)}(none)`];
  const width = Math.max(...choices.map((c) => String(c.value).length));
  for (const c of choices) lines.push(`${INDENT.repeat(3)}${String(c.value).padStart(width)}  ${c.name}`);
  return lines;
}

/**
 * Everything one interaction left in the channel, in the order a person saw it: the deferred
 * "thinking" reply and its progress edits on one line, the final @original (if still there),
 * then follow-ups; ephemeral ones are marked as only visible to the user who ran the command.
 */
export function interactionLines(r: InteractionResult, ctx: RenderContext): string[] {
  const lines: string[] = [];
  const original = r.original;
  const deferred = r.callbacks[0]?.type === 5;
  if (deferred && !r.ephemeral) {
    // Only the intermediate states: the final one is printed in full below (or was deleted).
    const finalIndex = original && !original.deleted ? r.history.length - 1 : r.history.length;
    const states = [
      THINKING,
      ...r.history
        .slice(0, finalIndex)
        .map((s) => s.content)
        .filter((c) => c.length > 0),
    ];
    const progress = states.filter((s, i) => s !== states[i - 1]).join(' → ');
    lines.push(`${INDENT}${ctx.botName}: ${progress}${original?.deleted || !original ? ' (then removed)' : ''}`);
  }
  if (original && !original.deleted) lines.push(...messageLines(original, ctx));
  for (const m of r.followUps) if (!m.deleted) lines.push(...messageLines(m, ctx));
  if (lines.length === 0) lines.push(`${INDENT}(${ctx.botName} did not answer)`);
  return lines;
}

/** One stored message: its text, then each embed and attachment on lines aligned under the text. */
export function messageLines(m: StoredMessage, ctx: RenderContext): string[] {
  const prefix = `${INDENT}${m.flags & EPHEMERAL ? `(only ${ctx.userName} sees this) ` : ''}${ctx.botName}: `;
  const pad = ' '.repeat(prefix.length);
  const body: string[] = [];
  if (m.content) body.push(...m.content.split('\n'));
  for (const e of m.embeds) {
    body.push(`[embed] ${e.title ?? '(untitled)'}`);
    if (e.description) body.push(...wrap(String(e.description), WRAP_COLUMNS - pad.length));
    for (const field of (e.fields ?? []) as Array<{ name: string; value: string }>) {
      body.push(...wrap(`${field.name}: ${field.value.replace(/\n/g, ' ')}`, WRAP_COLUMNS - pad.length));
    }
    if (e.footer?.text) body.push(String(e.footer.text));
  }
  for (const a of m.attachments) {
    const saved = ctx.saved.get(a.id);
    body.push(`📎 ${a.filename} (${kib(a.size)})${saved ? ` → ${saved.path}` : ''}`);
  }
  if (body.length === 0) body.push('(empty message)');
  return body.map((line, i) => (i === 0 ? prefix : pad) + line);
}

/** `123 KiB`, as file sizes read in a chat client. */
export function kib(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${Math.round(bytes / 1024).toLocaleString('en-US')} KiB`;
}

/** Greedy word wrap; words longer than `width` stay whole on their own line. */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > width) {
        out.push(line);
        line = word;
      } else {
        line = line ? `${line} ${word}` : word;
      }
    }
    out.push(line);
  }
  return out;
}
