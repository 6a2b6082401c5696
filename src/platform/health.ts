import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { Metrics } from './metrics.ts';
import type { Store } from './db.ts';

/** What `/healthz` reports. */
export interface Health {
  /** The door's connection, e.g. the Discord gateway: `ready`, `connecting`, `disconnected`. */
  readonly gateway: string;
  /** True when a write transaction could be opened on the database. */
  readonly databaseWritable: boolean;
  readonly queue: { readonly waiting: number; readonly running: number };
}

/** How long {@link databaseWritable} waits for the database before it says no, ms. */
const WRITABLE_TIMEOUT_MS = 5000;

/**
 * Whether the database takes writes now. SQLite: opens and rolls back an immediate transaction,
 * which fails when the file is read-only or locked beyond the busy timeout. PostgreSQL: an update
 * that matches no row, which fails when the server is unreachable or read-only (a standby, or
 * `default_transaction_read_only`); no answer within 5 s is a no too.
 */
export async function databaseWritable(store: Store): Promise<boolean> {
  if (store.dialect === 'sqlite') {
    try {
      store.sqlite.exec('BEGIN IMMEDIATE; ROLLBACK;');
      return true;
    } catch {
      return false;
    }
  }
  const { guildService } = store.tables;
  const write = store.db
    .update(guildService)
    .set({ served: sql`${guildService.served}` })
    .where(sql`false`)
    .then(
      () => true,
      () => false,
    );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), WRITABLE_TIMEOUT_MS)));
  try {
    return await Promise.race([write, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A small HTTP server on loopback: `GET /healthz` answers JSON {@link Health} with 200 when the
 * gateway is ready and the database writable, else 503; `GET /metrics` answers the Prometheus text
 * format. Anything else is 404.
 * @param port - TCP port; 0 picks a free one (see the returned `url`).
 * @throws the listen error (e.g. EADDRINUSE) when the port cannot be bound.
 */
export async function startHealthServer(options: {
  readonly port: number;
  readonly metrics: Metrics;
  readonly health: () => Health | Promise<Health>;
}): Promise<{ readonly url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      if (req.method === 'GET' && req.url === '/healthz') {
        const health = await options.health();
        const ok = health.gateway === 'ready' && health.databaseWritable;
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ ok, ...health }));
      } else if (req.method === 'GET' && req.url === '/metrics') {
        const body = await options.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': options.metrics.registry.contentType }).end(body);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  // Loopback only: the endpoint is for a local agent or a reverse proxy the operator sets up.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
