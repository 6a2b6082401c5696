import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/fixtures.ts';

/** Every `.ts` file under `dir`, recursively. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

describe('queries written once for both dialects', () => {
  // `Db` is drizzle's SQLite type on PostgreSQL too (src/platform/db.ts), so TypeScript accepts
  // `.all()`, `.get()` and `.run()` anywhere; PostgreSQL's builders have none of them. This finds
  // them outside a `sqlite` transaction body in src/ and commands/.
  it('call .all(), .get() and .run() only inside a sqlite transaction body', () => {
    const misplaced: string[] = [];
    for (const file of [...sources(path.join(ROOT, 'src')), ...sources(path.join(ROOT, 'commands'))]) {
      const text = readFileSync(file, 'utf8');
      if (file.endsWith(path.join('platform', 'db.ts'))) continue;
      const lines = text.split('\n');
      lines.forEach((line, i) => {
        // LinkStore.all() is a store's own method, not a query builder's.
        const code = line.replace(/\/\/.*$/, '').replace(/\blinks\.all\(\)/g, '');
        if (!/\.(all|get|run)\(\)/.test(code) || /^\s*\*/.test(line)) return;
        const body = lines
          .slice(0, i + 1)
          .reverse()
          .find((l) => /^\s*(sqlite|postgres)\s*[:(]/.test(l));
        if (!body || !/^\s*sqlite/.test(body)) misplaced.push(`${path.relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(misplaced).toEqual([]);
  });
});
