import { ConfigError } from '../../src/platform/errors.ts';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.ts';
import { tempDir } from '../support/fixtures.ts';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function localFile(yaml: string): string {
  const tmp = tempDir();
  cleanups.push(tmp.cleanup);
  const file = path.join(tmp.dir, 'local.yaml');
  writeFileSync(file, yaml);
  return file;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('loads the defaults with the database under the campaigns folder', () => {
    const { config, secrets } = loadConfig({ env: {}, localFile: localFile('') });
    expect(config.generation.image_model).toBe('gemini-3.1-flash-image');
    expect(config.generation.aspect_ratio).toBe('16:9');
    expect(config.generation.image_size).toBe('1K');
    expect(config.generation.current_entries).toBe(10);
    expect(config.generation.turn_radius).toBe(5);
    expect(config.database_target).toEqual({ kind: 'sqlite', path: path.join(path.resolve('./campaigns'), 'limner.db') });
    expect(secrets.geminiApiKey).toBeUndefined();
  });

  it('selects PostgreSQL for a postgres:// URL in LIMNER_DATABASE_URL', () => {
    const { config } = loadConfig({ env: { LIMNER_DATABASE_URL: 'postgres://limner@db.internal:5432/limner' }, localFile: localFile('') });
    expect(config.database_target).toEqual({ kind: 'postgres', url: 'postgres://limner@db.internal:5432/limner' });
  });

  it('applies the local file, then the environment', () => {
    const file = localFile('generation:\n  image_size: 2K\ncampaigns_dir: /tmp/from-file\n');
    const { config, secrets } = loadConfig({
      localFile: file,
      env: {
        LIMNER_CAMPAIGNS_DIR: '/tmp/from-env',
        LIMNER_DB: '/tmp/x/limner.sqlite',
        LIMNER_GEMINI_BASE_URL: 'http://127.0.0.1:9999',
        GOOGLE_API_KEY: 'google-key',
      },
    });
    expect(config.generation.image_size).toBe('2K');
    expect(config.generation.aspect_ratio).toBe('16:9');
    expect(config.campaigns_dir).toBe('/tmp/from-env');
    expect(config.database_target).toEqual({ kind: 'sqlite', path: '/tmp/x/limner.sqlite' });
    expect(config.gemini.base_url).toBe('http://127.0.0.1:9999');
    expect(secrets.geminiApiKey).toBe('google-key');
    expect(JSON.stringify(config)).not.toContain('google-key');
  });

  it('takes the shards this host runs from the file or LIMNER_SHARD_LIST, only with a number of shards', () => {
    expect(loadConfig({ env: { LIMNER_SHARDS: '4', LIMNER_SHARD_LIST: '2, 3' }, localFile: localFile('') }).config.runtime).toMatchObject({
      shards: 4,
      shard_list: [2, 3],
    });
    expect(loadConfig({ env: {}, localFile: localFile('') }).config.runtime.shard_list).toBeNull();
    for (const [yaml, env] of [
      ['runtime:\n  shard_list: [0]\n', {}],
      ['runtime:\n  shards: 2\n  shard_list: [2]\n', {}],
      ['', { LIMNER_SHARDS: '2', LIMNER_SHARD_LIST: 'one' }],
    ] as const) {
      const err = configError(() => loadConfig({ localFile: localFile(yaml), env }));
      expect(err.issues.join('\n')).toMatch(/runtime\.shard_list/);
    }
  });

  it('prefers GEMINI_API_KEY over GOOGLE_API_KEY', () => {
    const { secrets } = loadConfig({ localFile: localFile(''), env: { GEMINI_API_KEY: 'a', GOOGLE_API_KEY: 'b' } });
    expect(secrets.geminiApiKey).toBe('a');
  });

  it('reports every invalid field at once, with its path', () => {
    const file = localFile(
      ['generation:', '  aspect_ratio: "17:9"', '  turn_radius: -1', '  colour: blue', 'gemini:', '  retry:', '    attempts: many'].join(
        '\n',
      ),
    );
    const err = configError(() => loadConfig({ localFile: file, env: {} }));
    const text = err.issues.join('\n');
    expect(err.issues.length).toBeGreaterThanOrEqual(4);
    expect(text).toContain('generation.aspect_ratio');
    expect(text).toContain('generation.turn_radius');
    expect(text).toMatch(/generation.*colour/);
    expect(text).toContain('gemini.retry.attempts');
  });

  it('refuses an imagen model with the reason', () => {
    const err = configError(() => loadConfig({ localFile: localFile('generation:\n  image_model: imagen-4.0-generate-001\n'), env: {} }));
    expect(err.message).toContain('generation.image_model');
    expect(err.message).toMatch(/Imagen models are shut down/);
  });

  it('names the file and line of broken YAML', () => {
    const file = localFile('generation:\n  image_size: [1K\n');
    const err = configError(() => loadConfig({ localFile: file, env: {} }));
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/line \d/);
  });

  it('says when a named local file is missing', () => {
    const err = configError(() => loadConfig({ env: { LIMNER_CONFIG: '/nonexistent/limner.yaml' } }));
    expect(err.message).toContain('/nonexistent/limner.yaml');
  });
});
