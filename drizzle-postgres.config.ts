import { defineConfig } from 'drizzle-kit';

// The PostgreSQL twin of drizzle.config.ts: migrations/postgres/ from src/platform/schema-postgres.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/platform/schema-postgres.ts',
  out: './migrations/postgres',
});
