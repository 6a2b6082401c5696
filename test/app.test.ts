import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createLimner } from '../src/app.ts';
import { ConfigError } from '../src/platform/errors.ts';
import { silentLogger } from '../src/platform/log.ts';
import { sampleCampaigns, testConfig } from './support/fixtures.ts';
import { createTestDatabase, NO_POSTGRES, POSTGRES_URL } from './support/postgres.ts';

describe.skipIf(!POSTGRES_URL)(POSTGRES_URL ? 'createLimner on PostgreSQL' : NO_POSTGRES, () => {
  it('closes its connections when it refuses to start, so the refusing process can exit', async () => {
    const campaigns = sampleCampaigns();
    const database = await createTestDatabase();
    try {
      // Storybooks served without the secret that signs their links: refused after the database opened.
      const { config, secrets } = testConfig(campaigns.dir, 'http://127.0.0.1:9', { database: database.url, storybook: { port: 0 } });
      await expect(createLimner(config, { ...secrets, storybookSecret: undefined }, silentLogger)).rejects.toBeInstanceOf(ConfigError);
      // Without `force`, PostgreSQL drops a database only when nobody is connected to it.
      const name = new URL(database.url).pathname.slice(1);
      const admin = new pg.Client({ connectionString: POSTGRES_URL });
      await admin.connect();
      try {
        await admin.query(`drop database ${name}`);
      } finally {
        await admin.end();
      }
    } finally {
      await database.drop();
      campaigns.cleanup();
    }
  });
});
