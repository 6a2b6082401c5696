/**
 * Diagnostic preload for the bot child: logs to stderr each SQLite call (synchronous, on the main
 * thread) and each `fs.promises` operation (run on libuv's thread pool) slower than
 * `$LIMNER_BENCH_SLOW_MS` (default 15), as `SLOW <what> <ms> at <epoch ms>`. How the cause of
 * figure 1's tail was found:
 *
 *   LIMNER_BENCH_NODE_ARGS="--import ./bench/bot-slowops.ts" LIMNER_BENCH_BOT_LOG=/tmp/slow \
 *     LIMNER_BENCH_ONLY=main npx tsx bench/bot.ts     # then read /tmp/slow.main
 *
 * Observation only: every call is passed through unchanged.
 */
import fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as { prototype: Record<string, (...a: unknown[]) => unknown> };
const LIMIT = Number(process.env.LIMNER_BENCH_SLOW_MS ?? 15);
const log = (what: string, ms: number) =>
  process.stderr.write(`SLOW ${what} ${ms.toFixed(1)} at ${(performance.timeOrigin + performance.now()).toFixed(0)}\n`);
type Fn = (this: unknown, ...a: unknown[]) => unknown;

/** Wraps `target[name]`, timing synchronous calls, or asynchronous ones until their promise settles. */
function time(target: Record<string, unknown>, name: string, what: (self: unknown, args: unknown[]) => string, async: boolean): void {
  const orig = target[name] as Fn;
  target[name] = function (this: unknown, ...args: unknown[]) {
    const started = performance.now();
    const report = () => {
      const ms = performance.now() - started;
      if (ms > LIMIT) log(what(this, args), ms);
    };
    if (!async) {
      try {
        return orig.apply(this, args);
      } finally {
        report();
      }
    }
    const result = orig.apply(this, args) as Promise<unknown>;
    result.then(report, report);
    return result;
  };
}

let statements = false;
const prepare = Database.prototype.prepare!;
Database.prototype.prepare = function (this: unknown, ...args: unknown[]) {
  const statement = prepare.apply(this, args) as object;
  if (!statements) {
    statements = true;
    const proto = Object.getPrototypeOf(statement) as Record<string, unknown>;
    for (const m of ['run', 'get', 'all'])
      time(
        proto,
        m,
        (self) =>
          `sqlite.${m} ${String((self as { source?: string }).source)
            .slice(0, 60)
            .replace(/\s+/g, ' ')}`,
        false,
      );
  }
  return statement;
};
for (const m of ['exec', 'pragma']) time(Database.prototype, m, (_, a) => `sqlite.${m} ${String(a[0]).slice(0, 40)}`, false);

const promises = fs.promises as unknown as Record<string, unknown>;
for (const m of ['open', 'readFile', 'stat', 'mkdir', 'rename', 'rm', 'writeFile']) {
  time(promises, m, (_, a) => `fs.${m} ${String(a[0]).split('/').slice(-2).join('/')}`, true);
}
const handle = await fs.promises.open(new URL(import.meta.url).pathname, 'r');
const handleProto = Object.getPrototypeOf(handle) as Record<string, unknown>;
await handle.close();
for (const m of ['sync', 'writeFile', 'readFile', 'close']) time(handleProto, m, () => `filehandle.${m}`, true);
// Modules that import { readFile } from 'node:fs/promises' see the wrapped functions too.
syncBuiltinESMExports();
