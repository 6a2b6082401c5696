import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import JSZip from 'jszip';
import S3rver from 's3rver';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLimner, type Limner } from '../../src/app.ts';
import { zipPartBuffer } from '../../src/exports/export.ts';
import { checkImageStore, LOST_AND_FOUND } from '../../src/images/doctor.ts';
import { S3PictureStorage } from '../../src/images/s3-storage.ts';
import { silentLogger } from '../../src/platform/log.ts';
import { GeminiEmulator } from '../emulators/gemini/server.ts';
import { SAMPLE_CAMPAIGN, sampleCampaigns, testConfig } from '../support/fixtures.ts';
import { by } from '../support/requests.ts';

const BUCKET = 'limner-pictures';

let emulator: GeminiEmulator;
let server: S3rver;
let serverDir: string;
let endpoint: string;
let campaigns: { dir: string; cleanup: () => void };
let storage: S3PictureStorage;
/** Each test gets its own prefix in the one bucket, so it sees only its own objects. */
let prefix: string;
let tests = 0;
let limner: Limner;

beforeAll(async () => {
  emulator = await GeminiEmulator.start();
  serverDir = mkdtempSync(path.join(os.tmpdir(), 'limner-s3rver-'));
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: serverDir, configureBuckets: [{ name: BUCKET, configs: [] }] });
  endpoint = `http://127.0.0.1:${(await server.run()).port}`;
});
afterAll(async () => {
  await server.close();
  await emulator.close();
  rmSync(serverDir, { recursive: true, force: true });
});
beforeEach(async () => {
  emulator.reset();
  campaigns = sampleCampaigns();
  prefix = `test-${++tests}/`;
  const settings = { bucket: BUCKET, prefix, endpoint, region: 'us-east-1', force_path_style: true };
  storage = new S3PictureStorage(settings, { credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  const { config, secrets } = testConfig(campaigns.dir, emulator.url, { storage: { kind: 's3', ...settings } });
  limner = await createLimner(config, secrets, silentLogger, { pictures: storage });
});
afterEach(async () => {
  await limner.close();
  await storage.close();
  campaigns.cleanup();
});

const keysUnder = async (prefix: string) => (await storage.list(prefix)).map((o) => o.key);

describe('pictures in an S3-compatible bucket (s3rver on loopback, the real @aws-sdk/client-s3)', () => {
  it('a scene picture is stored in the bucket under its row key; an edit reads it back from there', async () => {
    const scene = await limner.scenes.run({ kind: 'turn', campaignId: SAMPLE_CAMPAIGN, turn: 1500, requester: by('u1') });
    const row = (await limner.images.get(scene.image.id))!;
    expect(row.imagePath).toBe(`${SAMPLE_CAMPAIGN}/images/${row.id}.png`);
    expect(scene.file).toBe(`s3://${BUCKET}/${prefix}${row.imagePath}`);
    const stored = await storage.get(row.imagePath);
    expect(stored.equals(scene.png!)).toBe(true);
    expect(stored.byteLength).toBe(row.bytes);
    expect((await sharp(stored).metadata()).format).toBe('png');

    emulator.reset();
    const edited = await limner.edits.edit({ target: { kind: 'image', imageId: row.id }, requester: by('u1'), instruction: 'make it night' });
    const sent = emulator.requests.find((q) => q.model === limner.config.generation.image_model)!;
    const parts: Array<{ inlineData?: { data: string } }> = sent.body.contents.flatMap((c: { parts: unknown[] }) => c.parts);
    const inline = parts.flatMap((p) => (p.inlineData ? [p.inlineData.data] : []));
    expect(inline).toContain(stored.toString('base64'));
    expect(await keysUnder(`${SAMPLE_CAMPAIGN}/images/`)).toEqual([row.imagePath, edited.image.imagePath].sort());
  });

  it('an export zip is built from the bucket: each picture comes out byte for byte', async () => {
    const first = await limner.scenes.run({ kind: 'turn', campaignId: SAMPLE_CAMPAIGN, turn: 1500, requester: by('u1') });
    const second = await limner.scenes.run({ kind: 'turn', campaignId: SAMPLE_CAMPAIGN, turn: 1501, requester: by('u1') });
    const plan = await limner.exports.plan({ campaignId: SAMPLE_CAMPAIGN });
    expect(plan.parts).toHaveLength(1);
    const zip = await JSZip.loadAsync(await zipPartBuffer(plan.parts[0]!));
    for (const { image, png } of [first, second]) {
      const entry = plan.parts[0]!.entries.find((e) => e.image.id === image.id)!;
      const inZip = await zip.file(entry.manifest.file)!.async('nodebuffer');
      expect(inZip.equals(png!)).toBe(true);
    }
  });

  it('a deleted picture moves to the trash prefix; the doctor lists an unrecorded object and --fix moves it to lost+found', async () => {
    const scene = await limner.scenes.run({ kind: 'turn', campaignId: SAMPLE_CAMPAIGN, turn: 1500, requester: by('u1') });
    const { image } = await limner.deletions.delete({ target: { kind: 'image', imageId: scene.image.id }, userId: 'u1', moderator: false });
    const trashKey = `${SAMPLE_CAMPAIGN}/images/trash/${scene.image.id}.png`;
    expect(image.imagePath).toBe(trashKey);
    expect(await keysUnder(`${SAMPLE_CAMPAIGN}/images/`)).toEqual([trashKey]);
    expect((await storage.get(trashKey)).equals(scene.png!)).toBe(true);

    const orphan = `${SAMPLE_CAMPAIGN}/images/0f0f0f0f-0000-4000-8000-000000000000.png`;
    await storage.put(orphan, scene.png!);
    const report = await checkImageStore(limner.store, campaigns.dir, { storage, minAgeMs: 0 });
    expect(report.unrecordedImages).toEqual([orphan]);
    expect(report.missingFiles).toEqual([]);
    const fixed = await checkImageStore(limner.store, campaigns.dir, { storage, minAgeMs: 0, fix: true });
    expect(fixed.actions).toEqual([`moved unrecorded picture ${orphan} to ${SAMPLE_CAMPAIGN}/images/${LOST_AND_FOUND}/`]);
    expect(await keysUnder(`${SAMPLE_CAMPAIGN}/images/${LOST_AND_FOUND}/`)).toEqual([
      `${SAMPLE_CAMPAIGN}/images/${LOST_AND_FOUND}/0f0f0f0f-0000-4000-8000-000000000000.png`,
    ]);
  });
});
