import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` writes a new SQL migration into migrations/sqlite/ after src/platform/schema.ts
// changes, and (with drizzle-postgres.config.ts) into migrations/postgres/ for src/platform/schema-postgres.ts.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/platform/schema.ts',
  out: './migrations/sqlite',
});
