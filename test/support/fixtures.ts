import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config, type Secrets } from '../../src/platform/config.ts';
import { ImageStore } from '../../src/images/store.ts';
import { LocalPictureStorage } from '../../src/images/local-storage.ts';
import { openSqliteStore, type SqliteStore, type Store } from '../../src/platform/db.ts';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The shipped sample campaign (CRD3 C1E001, CC BY-SA 4.0: see campaigns/kraghammer/ATTRIBUTION.md). */
export const SAMPLE_CAMPAIGN = 'kraghammer';
/** Excerpts of CRD3 episodes in their original format (CC BY-SA 4.0: see test/fixtures/crd3/ATTRIBUTION.md). */
export const CRD3_DIR = path.join(ROOT, 'test/fixtures/crd3');

/** A fresh temporary folder; `cleanup` removes it. */
export function tempDir(prefix = 'limner-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A temporary campaigns folder holding a copy of the sample campaign. */
export function sampleCampaigns(): { dir: string; cleanup: () => void } {
  const tmp = tempDir('limner-campaigns-');
  cpSync(path.join(ROOT, 'campaigns', SAMPLE_CAMPAIGN), path.join(tmp.dir, SAMPLE_CAMPAIGN), {
    recursive: true,
    filter: (src) => !src.includes(`${path.sep}images`),
  });
  return tmp;
}

/**
 * Configuration for tests: the given campaigns folder, the emulator as Gemini endpoint,
 * fast retries and a test key (`null`: no key). `overrides` are merged last.
 */
export function testConfig(
  campaignsDir: string,
  baseUrl: string,
  overrides: Record<string, unknown> = {},
  apiKey: string | null = 'test-key',
): { config: Config; secrets: Secrets } {
  return loadConfig({
    env: { LIMNER_CAMPAIGNS_DIR: campaignsDir, LIMNER_GEMINI_BASE_URL: baseUrl, ...(apiKey ? { GEMINI_API_KEY: apiKey } : {}) },
    localFile: path.join(ROOT, 'test/support/test-config.yaml'),
    overrides,
  });
}

/** A database and picture store in a fresh temporary folder; `close` removes both. */
export interface TempImageStore {
  readonly dir: string;
  readonly store: SqliteStore;
  readonly images: ImageStore;
  close(): void;
}

/** Opens a {@link TempImageStore}: real SQLite file, real folder. */
export function openTempImageStore(): TempImageStore {
  const tmp = tempDir();
  const store = openSqliteStore(path.join(tmp.dir, 'limner.db'));
  return {
    dir: tmp.dir,
    store,
    images: new ImageStore(store, new LocalPictureStorage(tmp.dir)),
    close: () => {
      store.close();
      tmp.cleanup();
    },
  };
}

/** The SQLite connection under `store`, for tests that read rows with plain SQL; throws on PostgreSQL. */
export function sqliteOf(store: Store): SqliteStore['sqlite'] {
  if (store.dialect !== 'sqlite') throw new Error('this test reads the SQLite file directly');
  return store.sqlite;
}
