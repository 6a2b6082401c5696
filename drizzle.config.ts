import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` writes a new SQL migration into migrations/ after src/platform/schema.ts changes.
export default defineConfig({
  dialect: 'sqlite',
  schema: './src/platform/schema.ts',
  out: './migrations',
});
