import { getTableConfig as pgTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { getTableConfig as sqliteTableConfig, SQLiteTable } from 'drizzle-orm/sqlite-core';
import { is } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import * as sqliteSchema from '../../src/platform/schema.ts';
import * as pgSchema from '../../src/platform/schema-postgres.ts';

/** Table name → column name → what a row sees of it: JS type, nullability, default, primary key. */
function shapeOf(
  tables: Array<{
    name: string;
    columns: Array<{ name: string; dataType: string; notNull: boolean; hasDefault: boolean; primary: boolean }>;
  }>,
) {
  return Object.fromEntries(
    tables.map((t) => [
      t.name,
      Object.fromEntries(
        t.columns.map((c) => [c.name, { type: c.dataType, notNull: c.notNull, hasDefault: c.hasDefault, primary: c.primary }]),
      ),
    ]),
  );
}

describe('the PostgreSQL schema', () => {
  it('declares the same tables and columns, with the same row types, as the SQLite schema', () => {
    const sqlite = Object.values(sqliteSchema)
      .filter((v) => is(v, SQLiteTable))
      .map((t) => sqliteTableConfig(t as SQLiteTable));
    const postgres = Object.values(pgSchema)
      .filter((v) => is(v, PgTable))
      .map((t) => pgTableConfig(t as PgTable));
    expect(postgres.length).toBe(sqlite.length);
    const sqliteShape = shapeOf(sqlite);
    const pgShape = shapeOf(postgres);
    // The PostgreSQL schema's text is a custom type (it drops U+0000), read and written as a string.
    for (const table of Object.values(pgShape))
      for (const column of Object.values(table)) if (column.type === 'custom') column.type = 'string';
    // Identity columns have a default on PostgreSQL, like SQLite's autoincrement keys in practice.
    for (const table of Object.values(pgShape)) for (const column of Object.values(table)) if (column.primary) column.hasDefault = false;
    for (const table of Object.values(sqliteShape))
      for (const column of Object.values(table)) if (column.primary) column.hasDefault = false;
    expect(pgShape).toEqual(sqliteShape);
  });

  it('exports every table under the same name', () => {
    const names = (schema: Record<string, unknown>, kind: typeof SQLiteTable | typeof PgTable) =>
      Object.entries(schema)
        .filter(([, v]) => is(v, kind))
        .map(([k]) => k)
        .sort();
    expect(names(pgSchema, PgTable)).toEqual(names(sqliteSchema, SQLiteTable));
  });
});
