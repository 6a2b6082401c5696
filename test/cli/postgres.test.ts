import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/platform/db.ts';
import { GeminiEmulator } from '../emulators/gemini/server.ts';
import { limnerCli } from '../support/cli.ts';
import { SAMPLE_CAMPAIGN, sampleCampaigns } from '../support/fixtures.ts';
import { createTestDatabase, NO_POSTGRES, POSTGRES_URL, type TestDatabase } from '../support/postgres.ts';

describe.skipIf(!POSTGRES_URL)(POSTGRES_URL ? 'the CLI on PostgreSQL (LIMNER_DATABASE_URL)' : NO_POSTGRES, () => {
  let emulator: GeminiEmulator;
  let campaigns: { dir: string; cleanup: () => void };
  let database: TestDatabase;
  beforeAll(async () => {
    emulator = await GeminiEmulator.start();
    campaigns = sampleCampaigns();
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await emulator?.close();
    campaigns?.cleanup();
    await database?.drop();
  });

  const limner = (...args: string[]) =>
    limnerCli(args, { campaignsDir: campaigns.dir, geminiUrl: emulator.url, env: { LIMNER_DATABASE_URL: database.url } });

  it('paints a scene, lists it, counts it in the usage and finds the picture store clean, all from PostgreSQL', async () => {
    const scene = await limner('--json', 'scene', 'turn', '10', '--campaign', SAMPLE_CAMPAIGN);
    expect(scene.code).toBe(0);
    const { imageId } = JSON.parse(scene.stdout.trim().split('\n').at(-1)!) as { imageId: string };

    const listed = await limner('--json', 'images', 'list', '--campaign', SAMPLE_CAMPAIGN);
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { imageId: string }).imageId),
    ).toEqual([imageId]);
    const usage = JSON.parse((await limner('--json', 'usage')).stdout.split('\n')[0]!) as { images: number; calls: number };
    expect(usage).toMatchObject({ images: 1, calls: 2 });
    const doctor = JSON.parse((await limner('--json', 'doctor')).stdout.trim()) as { unrecordedImages: string[]; missingFiles: unknown[] };
    expect(doctor).toMatchObject({ unrecordedImages: [], missingFiles: [] });

    // The rows are in the PostgreSQL database, not in a SQLite file beside the campaigns.
    const store = await openPostgresStore(database.url, { poolSize: 1 });
    try {
      const { images, jobs } = store.tables;
      expect((await store.db.select({ id: images.id }).from(images)).map((r) => r.id)).toEqual([imageId]);
      expect(await store.db.select({ status: jobs.status, userId: jobs.userId }).from(jobs)).toEqual([
        { status: 'succeeded', userId: 'cli' },
      ]);
    } finally {
      await store.close();
    }
  });
});
