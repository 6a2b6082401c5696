import { randomBytes } from 'node:crypto';
import { writeSync } from 'node:fs';
import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino blanks in every log line: keys and tokens must never reach a log,
 * whatever object a caller hands over.
 */
const REDACT = [
  'apiKey',
  'api_key',
  'token',
  'geminiApiKey',
  'discordToken',
  'storybookSecret',
  'interactionToken',
  'headers["x-goog-api-key"]',
  'headers.authorization',
  '*.apiKey',
  '*.api_key',
  '*.token',
  '*.geminiApiKey',
  '*.storybookSecret',
  '*.discordToken',
  '*.interactionToken',
  '*.headers["x-goog-api-key"]',
  '*.headers.authorization',
];

/** Discord webhook and interaction-callback URLs carry the interaction token in their path. */
const TOKEN_IN_URL = /\/(webhooks|interactions)\/(\d+)\/[^/?#\s]+/g;

/**
 * pino's error serializer, minus what a Discord REST error carries that must not be logged: the
 * interaction token in `url` (and in the message, for safety) and `requestBody`, whose files are
 * whole pictures.
 */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const out = stdSerializers.err(err) as unknown as Record<string, unknown>;
  delete out.requestBody;
  for (const key of ['url', 'message', 'stack'] as const) {
    if (typeof out[key] === 'string') out[key] = (out[key] as string).replace(TOKEN_IN_URL, '/$1/$2/[redacted]');
  }
  return out;
}

/** pino's level numbers, as words for {@link humanLine}. */
const LEVEL_NAMES: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warning', 50: 'error', 60: 'fatal' };

/** Fields of every pino line that say nothing to a person reading a terminal. */
const PLUMBING = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

/**
 * One pino JSON line as a line for a person: `limner: warning: <message> (key: value, ...)`. An
 * error field shows its message only; a line that is not JSON passes through unchanged.
 */
export function humanLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = LEVEL_NAMES[entry.level as number] ?? String(entry.level);
  const fields = Object.entries(entry)
    .filter(([key, value]) => !PLUMBING.has(key) && value !== undefined)
    .map(([key, value]) => {
      const shown = key === 'err' && value && typeof value === 'object' ? (value as { message?: unknown }).message : value;
      return `${key}: ${typeof shown === 'string' ? shown : JSON.stringify(shown)}`;
    });
  return `limner: ${level}: ${String(entry.msg ?? '')}${fields.length > 0 ? ` (${fields.join(', ')})` : ''}\n`;
}

/** A pino destination writing {@link humanLine}s to a file descriptor, synchronously so lines keep their order with other output. */
function humanDestination(fd: number): DestinationStream {
  return { write: (line: string) => void writeSync(fd, humanLine(line)) };
}

/**
 * Creates the process logger.
 * @param options.level - pino level name.
 * @param options.pretty - pino-pretty output (a dev dependency; falls back to JSON when absent).
 * @param options.human - One plain line per entry ({@link humanLine}) instead of JSON: for the CLI, whose
 *   operator reads stderr; `pretty` is ignored then.
 * @param options.destination - file descriptor, default 2 (stderr) so CLI `--json` output on stdout stays clean.
 */
export function createLogger(options: { level: string; pretty?: boolean; human?: boolean; destination?: number }): Logger {
  const destination = options.destination ?? 2;
  const base = { level: options.level, redact: { paths: REDACT, censor: '[redacted]' }, serializers: { err: serializeError } };
  if (options.human) return pino(base, humanDestination(destination));
  if (options.pretty) {
    try {
      return pino({ ...base, transport: { target: 'pino-pretty', options: { destination, colorize: true } } });
    } catch {
      // pino-pretty is a dev dependency; production installs log JSON.
    }
  }
  return pino(base, pino.destination({ fd: destination, sync: true }));
}

/** A logger that drops everything, for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' });

/**
 * A short id shown to users next to an unexpected failure and logged with its stack,
 * so an operator can find the log line from a screenshot. 8 hex characters.
 */
export function newErrorId(): string {
  return randomBytes(4).toString('hex');
}
