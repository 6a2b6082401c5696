/**
 * Standalone Gemini API emulator, for running the bot against it by hand:
 *
 *   npm run emulator:gemini -- --port 8089 [--latency 500] [--host 127.0.0.1]
 *
 * then set the bot's Gemini base URL to the printed address (any non-empty API key works).
 */
import { parseArgs } from 'node:util';
import { scannerScript } from '../../support/scanner-script.ts';
import { GeminiEmulator } from './server.ts';

const usage = 'usage: emulator:gemini -- [--port <port, 0 = ephemeral>] [--latency <ms>] [--host <address>]';

function parseNonNegativeInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, got ${JSON.stringify(value)}\n${usage}`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  let values: { port?: string; latency?: string; host?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', short: 'p' },
        latency: { type: 'string' },
        host: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    return;
  }

  const emulator = await GeminiEmulator.start({
    port: parseNonNegativeInt('port', values.port, 0),
    host: values.host ?? '127.0.0.1',
    latencyMs: parseNonNegativeInt('latency', values.latency, 0),
    onLog: (e) => {
      const status = e.status === 0 ? '---' : String(e.status);
      console.log(`${new Date().toISOString()} ${e.method} ${e.model ?? e.path} ${status} ${e.answer} ${e.ms}ms`);
    },
  });
  // Run by hand, the emulator should also answer /scene best's structured scanner calls sensibly.
  emulator.onText(scannerScript());
  // Scripts wait for this exact line to learn the port, so keep its wording stable.
  console.log(`gemini emulator listening on ${emulator.url}`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping gemini emulator`);
    void emulator.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

await main();
