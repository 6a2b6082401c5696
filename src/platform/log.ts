import { randomBytes } from 'node:crypto';
import { pino, stdSerializers, type Logger } from 'pino';

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

/**
 * Creates the process logger.
 * @param options.level - pino level name.
 * @param options.pretty - pino-pretty output (a dev dependency; falls back to JSON when absent).
 * @param options.destination - file descriptor, default 2 (stderr) so CLI `--json` output on stdout stays clean.
 */
export function createLogger(options: { level: string; pretty?: boolean; destination?: number }): Logger {
  const destination = options.destination ?? 2;
  const base = { level: options.level, redact: { paths: REDACT, censor: '[redacted]' }, serializers: { err: serializeError } };
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
