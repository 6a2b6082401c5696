import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { describe } from 'vitest';
import { openPostgresStore, openSqliteStore, type Store } from '../../src/platform/db.ts';
import { tempDir } from './fixtures.ts';

/** A PostgreSQL server the tests may create databases on (`.ci/run` sets it); unset: PostgreSQL tests skip. */
export const POSTGRES_URL = process.env.LIMNER_TEST_DATABASE_URL || undefined;

/** The one line a skipped PostgreSQL suite shows. */
export const NO_POSTGRES =
  'PostgreSQL tests skipped: LIMNER_TEST_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/postgres)';

/** The dialects Limner runs on. */
export type Dialect = Store['dialect'];

/** A database of a test's own on the server at {@link POSTGRES_URL}, dropped by `drop`. */
export interface TestDatabase {
  /** Connection URL of the new database. */
  readonly url: string;
  /** Drops it, closing whatever is still connected. */
  drop(): Promise<void>;
}

/**
 * Creates an empty database `limner_test_<random>` next to {@link POSTGRES_URL}'s.
 * @throws when POSTGRES_URL is unset or the server refuses.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  if (!POSTGRES_URL) throw new Error(NO_POSTGRES);
  const name = `limner_test_${randomBytes(6).toString('hex')}`;
  await admin(`create database ${name}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** A migrated store of one dialect in a fresh database, and a temporary folder for its pictures. */
export interface TestStore {
  readonly store: Store;
  /** A fresh temporary folder (the SQLite file lives here too). */
  readonly dir: string;
  /** Closes the store, drops the PostgreSQL database and removes the folder. */
  close(): Promise<void>;
}

/** Opens a {@link TestStore}: a SQLite file in a temporary folder, or a database of its own on PostgreSQL. */
export async function openTestStore(dialect: Dialect): Promise<TestStore> {
  const tmp = tempDir();
  if (dialect === 'sqlite') {
    const store = openSqliteStore(path.join(tmp.dir, 'limner.db'));
    return { store, dir: tmp.dir, close: async () => (await store.close(), tmp.cleanup()) };
  }
  const database = await createTestDatabase();
  const store = await openPostgresStore(database.url, { poolSize: 4 });
  return { store, dir: tmp.dir, close: async () => (await store.close(), await database.drop(), tmp.cleanup()) };
}

/**
 * Declares `body`'s tests once per dialect: on SQLite always, on PostgreSQL when
 * {@link POSTGRES_URL} is set (otherwise one skipped suite named {@link NO_POSTGRES}).
 */
export function describeEachDialect(title: string, body: (dialect: Dialect) => void): void {
  describe(`${title} (SQLite)`, () => body('sqlite'));
  describe.skipIf(!POSTGRES_URL)(POSTGRES_URL ? `${title} (PostgreSQL)` : NO_POSTGRES, () => body('postgres'));
}

/** Several handles on one fresh database, as several processes have; see {@link openSharedTestStores}. */
export interface SharedTestStores {
  readonly stores: Store[];
  /** Closes every handle, drops the PostgreSQL database and removes the folder. */
  close(): Promise<void>;
}

/**
 * Opens `count` handles on one fresh database: connections to one SQLite file, or pools on one
 * PostgreSQL database (4 connections each), for tests of what processes sharing a database guarantee.
 */
export async function openSharedTestStores(dialect: Dialect, count: number): Promise<SharedTestStores> {
  const first = await openTestStore(dialect);
  const open = (): Promise<Store> =>
    first.store.dialect === 'sqlite'
      ? Promise.resolve(openSqliteStore(path.join(first.dir, 'limner.db')))
      : openPostgresStore(first.store.pool.options.connectionString!, { poolSize: 4 });
  const others: Store[] = [];
  for (let i = 1; i < count; i++) others.push(await open());
  return {
    stores: [first.store, ...others],
    close: async () => {
      for (const store of others) await store.close();
      await first.close();
    },
  };
}

/**
 * Marks the ledger's call `usageId` as the one that painted `imageId`, as `ImageStore.save` does in
 * the picture's transaction (for tests of budgets that need painted pictures without painting).
 */
export async function linkUsage(store: Store, usageId: number, imageId: string): Promise<void> {
  const { usage } = store.tables;
  await store.db.update(usage).set({ imageId, images: 1 }).where(eq(usage.id, usageId));
}
