import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { openPostgresStore, openStore, writeTransaction } from '../../src/platform/db.ts';
import { DatabaseUnavailableError } from '../../src/platform/errors.ts';
import { ROOT } from '../support/fixtures.ts';
import { createTestDatabase, describeEachDialect, NO_POSTGRES, openTestStore, POSTGRES_URL, type TestStore } from '../support/postgres.ts';

describeEachDialect('the database', (dialect) => {
  let t: TestStore | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('opens with every migration applied, and reopens without applying them again', async () => {
    t = await openTestStore(dialect);
    const { guildService } = t.store.tables;
    await t.store.db.insert(guildService).values({ guildId: 'g1', served: 1 });
    const rows = await t.store.db.select().from(guildService);
    expect(rows).toEqual([{ guildId: 'g1', served: 1 }]);
  });

  it('takes text with U+0000, which PostgreSQL alone would refuse (it drops the character there)', async () => {
    t = await openTestStore(dialect);
    const { guildSettings } = t.store.tables;
    const row = {
      guildId: 'g1',
      campaignId: '',
      key: 'art_style',
      value: 'ink\u0000 wash',
      updatedBy: 'u1',
      updatedAt: '2026-12-04T00:00:00.000Z',
    };
    await t.store.db.insert(guildSettings).values(row);
    const [stored] = await t.store.db.select({ value: guildSettings.value }).from(guildSettings).where(eq(guildSettings.value, row.value));
    expect(stored?.value).toBe(dialect === 'postgres' ? 'ink wash' : 'ink\u0000 wash');
  });

  it('serialises read-decide-write transactions: 20 concurrent increments lose none', async () => {
    t = await openTestStore(dialect);
    const store = t.store;
    const { guildService } = store.tables;
    await store.db.insert(guildService).values({ guildId: 'g1', served: 0 });
    const read = sql`select served from guild_service where guild_id = 'g1'`;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        writeTransaction(store, 'test', {
          sqlite: (tx) => {
            const served = (tx.get<{ served: number }>(read) as { served: number }).served;
            tx.update(guildService)
              .set({ served: served + 1 })
              .run();
          },
          postgres: async (tx) => {
            const [row] = await tx.select({ served: guildService.served }).from(guildService);
            await tx.update(guildService).set({ served: row!.served + 1 });
          },
        }),
      ),
    );
    const [row] = await store.db.select({ served: guildService.served }).from(guildService);
    expect(row!.served).toBe(20);
  });
});

describe.skipIf(!POSTGRES_URL)(POSTGRES_URL ? 'opening a PostgreSQL database' : NO_POSTGRES, () => {
  it('from four processes at once migrates it once', async () => {
    const database = await createTestDatabase();
    try {
      const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(database.url, { poolSize: 2 })));
      const rows = await stores[0]!.db.select().from(stores[0]!.tables.guildService);
      expect(rows).toEqual([]);
      const applied = await stores[0]!.pool.query('select count(*)::int as n from drizzle.__drizzle_migrations');
      expect(applied.rows[0].n).toBeGreaterThan(0);
      for (const store of stores) await store.close();
    } finally {
      await database.drop();
    }
  });
});

describe('a database that cannot be opened', () => {
  it('is refused with what was asked for, the password hidden, and why', async () => {
    const refused = openStore({ kind: 'postgres', url: 'postgres://limner:hunter2@127.0.0.1:1/limner' });
    await expect(refused).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(refused).rejects.toThrow(
      /^The database postgres:\/\/limner:\*\*\*@127\.0\.0\.1:1\/limner cannot be opened: .*ECONNREFUSED/,
    );
    // A folder that cannot be made: its parent is a file.
    await expect(openStore({ kind: 'sqlite', path: path.join(ROOT, 'package.json', 'limner.db') })).rejects.toBeInstanceOf(
      DatabaseUnavailableError,
    );
  });
});
