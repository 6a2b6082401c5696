import sharp from 'sharp';
import { parseCampaignId } from '../../src/campaigns/id.ts';
import { LocalPictureStorage } from '../../src/images/local-storage.ts';
import { ImageStore, type NewImage } from '../../src/images/store.ts';
import { openPostgresStore, openSqliteStore, type Store } from '../../src/platform/db.ts';
import { openTestStore, type Dialect, type TestStore } from './postgres.ts';

/** A {@link TestStore} with an image store whose pictures live in its temporary folder. */
export interface TestImageStore extends TestStore {
  readonly images: ImageStore;
}

/** Opens a {@link TestImageStore} of one dialect: a real database, real files. */
export async function openTestImageStore(dialect: Dialect): Promise<TestImageStore> {
  const t = await openTestStore(dialect);
  return { ...t, images: new ImageStore(t.store, new LocalPictureStorage(t.dir)) };
}

/**
 * A second connection (SQLite) or pool (PostgreSQL) to `store`'s database, for a test that closes
 * one while the other looks on. The caller closes it.
 */
export async function openAgain(store: Store): Promise<Store> {
  return store.dialect === 'sqlite'
    ? openSqliteStore(store.sqlite.name)
    : openPostgresStore(store.pool.options.connectionString!, { poolSize: 2 });
}

/** A real PNG of one colour, `width`×`height` pixels, with its size as `ImageStore.save` takes it. */
export async function solidPng(width = 64, height = 36, colour = '#336699'): Promise<{ png: Buffer; width: number; height: number }> {
  const png = await sharp({ create: { width, height, channels: 3, background: colour } })
    .png()
    .toBuffer();
  return { png, width, height };
}

/** The metadata of a scene picture of campaign `vault`, turn 3, made from the CLI. */
export const VAULT_SCENE: NewImage = {
  campaignId: parseCampaignId('vault'),
  turn: 3,
  mode: 'specific',
  prompt: 'A vault door of black iron.',
  provider: 'gemini',
  model: 'gemini-3.1-flash-image',
  textModel: 'gemini-3.5-flash',
  inputTokens: 10,
  outputTokens: 1120,
  costUsd: 0.07,
  requestedBy: 'cli',
};
