import { InvalidImageError } from '../../src/images/errors.ts';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCampaignId } from '../../src/campaigns/id.ts';
import { checkImageStore } from '../../src/images/doctor.ts';
import { normaliseToPng } from '../../src/images/normalise.ts';
import { checkPngChunks } from '../../src/images/png.ts';
import { ImageStore } from '../../src/images/store.ts';
import { LocalPictureStorage } from '../../src/images/local-storage.ts';
import { SessionStore } from '../../src/edits/sessions.ts';
import { openSqliteStore, type Store } from '../../src/platform/db.ts';
import { openTempImageStore, type TempImageStore } from '../support/fixtures.ts';
import { openAgain, openTestImageStore, solidPng, VAULT_SCENE, type TestImageStore } from '../support/images.ts';
import { describeEachDialect } from '../support/postgres.ts';

const campaignId = parseCampaignId('vault');
const meta = VAULT_SCENE;

const png = (width = 64, height = 36, colour = '#336699') =>
  sharp({ create: { width, height, channels: 3, background: colour } })
    .png()
    .toBuffer();

describe('openSqliteStore', () => {
  let t: TempImageStore;
  beforeEach(() => {
    t = openTempImageStore();
  });
  afterEach(() => t.close());

  it('applies migrations with WAL, foreign keys and a busy timeout', () => {
    expect(t.store.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(t.store.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(t.store.sqlite.pragma('busy_timeout', { simple: true })).toBe(5000);
    const tables = t.store.sqlite.prepare("select name from sqlite_master where type = 'table'").all() as Array<{ name: string }>;
    expect(tables.map((t) => t.name)).toContain('images');
  });

  it('reopens an existing database without reapplying migrations', async () => {
    const again = openSqliteStore(path.join(t.dir, 'limner.db'));
    try {
      expect(await new ImageStore(again, new LocalPictureStorage(t.dir)).list(campaignId)).toEqual([]);
    } finally {
      await again.close();
    }
  });
});

/** Drops a table, so that the next statement writing it fails inside its transaction. */
async function dropTable(store: Store, table: string): Promise<void> {
  if (store.dialect === 'sqlite') store.sqlite.exec(`drop table ${table}`);
  else await store.pool.query(`drop table ${table}`);
}

/** A usage row for one painting, not yet linked to a picture; returns its id. */
async function paintingCall(store: Store): Promise<number> {
  const { usage } = store.tables;
  const [row] = await store.db
    .insert(usage)
    .values({ at: new Date().toISOString(), userId: '42', model: 'm', purpose: 'image', inputTokens: 1, outputTokens: 1, costUsd: 0.04 })
    .returning({ id: usage.id });
  return row!.id;
}

describeEachDialect('ImageStore', (dialect) => {
  let t: TestImageStore;
  beforeEach(async () => {
    t = await openTestImageStore(dialect);
  });
  afterEach(() => t.close());

  const folder = () => path.join(t.dir, 'vault', 'images');
  const rowCount = async () => (await t.store.db.select({ id: t.store.tables.images.id }).from(t.store.tables.images)).length;

  it('writes the PNG under <campaign>/images/<uuid>.png and records it', async () => {
    const bytes = await png();
    const row = await t.images.save({ png: bytes, width: 64, height: 36 }, meta);
    expect(row.imagePath).toBe(`vault/images/${row.id}.png`);
    expect(readFileSync(path.join(folder(), `${row.id}.png`))).toEqual(bytes);
    expect(await t.images.read(row)).toEqual(bytes);
    expect(await t.images.get(row.id)).toEqual(row);
    expect(await t.images.list(campaignId)).toEqual([row]);
    expect(readdirSync(folder())).toEqual([`${row.id}.png`]);
  });

  it('removes the file when the row cannot be written, so nothing is half-stored', async () => {
    const err = await t.images.save(await solidPng(), { ...meta, parentImageId: 'no-such-parent' }).catch((e: unknown) => e);
    // drizzle reports PostgreSQL's error as the cause of its own.
    expect(`${String(err)} ${String((err as Error).cause)}`).toMatch(/foreign key/i);
    expect(readdirSync(folder())).toEqual([]);
    expect(await rowCount()).toBe(0);
  });

  it('records nothing when a link fails after the insert: the row, the usage link and the file go together', async () => {
    const { usage } = t.store.tables;
    const call = await paintingCall(t.store);
    await dropTable(t.store, 'edit_sessions');
    await expect(t.images.save(await solidPng(), meta, { usageId: call, moveSession: true })).rejects.toThrow(/edit_sessions/);
    expect(await rowCount()).toBe(0);
    expect(await t.store.db.select({ imageId: usage.imageId, images: usage.images }).from(usage)).toEqual([{ imageId: null, images: 0 }]);
    expect(readdirSync(folder())).toEqual([]);
  });

  it('keeps the file when the database cannot be reached: debris for the doctor, never a row without its file', async () => {
    const other = await openAgain(t.store);
    const images = new ImageStore(other, new LocalPictureStorage(t.dir));
    await other.close();
    await expect(images.save(await solidPng(), meta)).rejects.toThrow();
    const files = readdirSync(folder());
    expect(files).toHaveLength(1);
    expect(await rowCount()).toBe(0);
    expect((await checkImageStore(t.store, t.dir, { minAgeMs: 0 })).unrecordedImages).toEqual([`vault/images/${files[0]}`]);
  });

  it('records nothing when the file cannot be stored', async () => {
    writeFileSync(path.join(t.dir, 'vault'), 'a file where the campaign folder should be');
    await expect(t.images.save(await solidPng(), meta)).rejects.toThrow();
    expect(await rowCount()).toBe(0);
  });

  it("ties the usage row, the requester's session and a cast portrait to the new picture", async () => {
    const { usage, castMembers } = t.store.tables;
    const call = await paintingCall(t.store);
    const [member] = await t.store.db
      .insert(castMembers)
      .values({
        campaignId,
        name: 'Grog',
        nameKey: 'grog',
        description: 'A goliath.',
        status: 'accepted',
        updatedAt: new Date().toISOString(),
      })
      .returning({ id: castMembers.id });
    const row = await t.images.save(
      await solidPng(),
      { ...meta, requestedBy: '42' },
      { usageId: call, moveSession: true, portraitOf: member!.id },
    );
    expect(await t.store.db.select({ imageId: usage.imageId, images: usage.images }).from(usage)).toEqual([{ imageId: row.id, images: 1 }]);
    expect(await new SessionStore(t.store).get('42', campaignId)).toMatchObject({ currentImageId: row.id });
    expect(
      await t.store.db.select({ portrait: castMembers.portraitImageId }).from(castMembers).where(eq(castMembers.id, member!.id)),
    ).toEqual([{ portrait: row.id }]);
  });

  it('saves four variations at once, each with its row and usage link; the session ends on one of them', async () => {
    const { usage } = t.store.tables;
    const calls = await Promise.all([1, 2, 3, 4].map(() => paintingCall(t.store)));
    const rows = await Promise.all(
      calls.map(async (usageId) => t.images.save(await solidPng(), { ...meta, requestedBy: '42' }, { usageId, moveSession: true })),
    );
    const ids = rows.map((r) => r.id);
    expect((await t.images.list(campaignId)).map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(ids).toContain((await new SessionStore(t.store).get('42', campaignId))!.currentImageId);
    const links = await t.store.db.select({ id: usage.id, imageId: usage.imageId }).from(usage);
    expect(new Map(links.map((l) => [l.id, l.imageId]))).toEqual(new Map(calls.map((id, i) => [id, ids[i]])));
  });

  it('lists only recorded pictures: crash debris (a temporary file, an unrecorded PNG) is not listed', async () => {
    const kept = await t.images.save({ png: await png(), width: 64, height: 36 }, meta);
    writeFileSync(path.join(folder(), '.tmp-1234-half.png'), Buffer.from([0x89, 0x50]));
    writeFileSync(path.join(folder(), '5b1c7d2e-0000-4000-8000-000000000000.png'), await png());
    expect((await t.images.list(campaignId)).map((r) => r.id)).toEqual([kept.id]);
  });

  it('links an edit to its parent and sorts by turn', async () => {
    const parent = await t.images.save({ png: await png(), width: 64, height: 36 }, { ...meta, turn: 9 });
    const child = await t.images.save(
      { png: await png(), width: 64, height: 36 },
      { ...meta, turn: 9, mode: 'edit', parentImageId: parent.id },
    );
    const early = await t.images.save({ png: await png(), width: 64, height: 36 }, { ...meta, turn: 1, requestedBy: '42' });
    expect((await t.images.list(campaignId)).map((r) => r.id)).toEqual([early.id, parent.id, child.id]);
    expect((await t.images.list(campaignId, { requestedBy: '42' })).map((r) => r.id)).toEqual([early.id]);
    expect((await t.images.get(child.id))!.parentImageId).toBe(parent.id);
  });

  it('finds a recent picture of a scene key, and none older than asked or of another key', async () => {
    const before = new Date(Date.now() - 1000).toISOString();
    const row = await t.images.save(await solidPng(), { ...meta, sceneKey: 'k1' });
    expect(await t.images.findRecent({ campaignId, sceneKey: 'k1', since: before })).toEqual([row]);
    expect(await t.images.findRecent({ campaignId, sceneKey: 'k2', since: before })).toEqual([]);
    expect(await t.images.findRecent({ campaignId, sceneKey: 'k1', since: new Date(Date.now() + 1000).toISOString() })).toEqual([]);
  });

  it('keeps cast portraits out of scene lists, counts and latest; a portrait stays readable by id', async () => {
    const portrait = await t.images.save(await solidPng(), { ...meta, turn: 0, mode: 'portrait', requestedBy: '42' });
    const scene = await t.images.save(await solidPng(), { ...meta, requestedBy: '42' });
    await t.images.save(await solidPng(), { ...meta, campaignId: parseCampaignId('other'), requestedBy: '42' });
    expect((await t.images.list(campaignId)).map((r) => r.id)).toEqual([scene.id]);
    expect(await t.images.countByCampaign()).toEqual([
      { campaignId: 'other', count: 1 },
      { campaignId, count: 1 },
    ]);
    expect((await t.images.latestOf(campaignId, '42'))!.id).toBe(scene.id);
    expect(await t.images.latestOf(campaignId, '7')).toBeUndefined();
    expect((await t.images.get(portrait.id))!.mode).toBe('portrait');
  });

  it('moves a deleted picture to the trash, keeps its row on record and moves the sessions on it to its parent or ends them', async () => {
    const sessions = new SessionStore(t.store);
    const parent = await t.images.save(await solidPng(), { ...meta, requestedBy: '42' }, { moveSession: true });
    const child = await t.images.save(
      await solidPng(),
      { ...meta, mode: 'edit', parentImageId: parent.id, requestedBy: '42' },
      { moveSession: true },
    );
    await sessions.moveTo({ userId: '7', campaignId, imageId: child.id });

    const trashed = await t.images.moveToTrash(child, '7', parent.id);
    expect(trashed.sessions).toEqual({ moved: 2, ended: 0 });
    expect(trashed.image).toMatchObject({ id: child.id, deletedBy: '7', imagePath: `vault/images/trash/${child.id}.png` });
    expect(existsSync(path.join(folder(), `${child.id}.png`))).toBe(false);
    expect(existsSync(path.join(folder(), 'trash', `${child.id}.png`))).toBe(true);
    expect(await t.images.get(child.id)).toBeUndefined();
    expect((await t.images.list(campaignId)).map((r) => r.id)).toEqual([parent.id]);
    expect((await t.images.latestOf(campaignId, '42'))!.id).toBe(parent.id);
    expect(await t.images.countByCampaign()).toEqual([{ campaignId, count: 1 }]);
    expect((await sessions.get('42', campaignId))!.currentImageId).toBe(parent.id);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect(await t.images.deletedBefore(future)).toEqual([trashed.image]);
    expect(await t.images.deletedBefore(trashed.image.deletedAt!)).toEqual([]);

    expect((await t.images.moveToTrash(parent, '42', null)).sessions).toEqual({ moved: 0, ended: 2 });
    expect(await sessions.ofUser('42')).toEqual([]);
    expect((await t.images.deletedBefore(future)).map((r) => r.id)).toEqual([child.id, parent.id]);
  });

  it('moves the file back when the deletion cannot be recorded', async () => {
    const row = await t.images.save(await solidPng(), meta);
    await dropTable(t.store, 'edit_sessions');
    await expect(t.images.moveToTrash(row, 'cli', null)).rejects.toThrow(/edit_sessions/);
    expect(await t.images.get(row.id)).toEqual(row);
    expect(readdirSync(folder()).sort()).toEqual([`${row.id}.png`, 'trash']);
  });
});

describe('normaliseToPng', () => {
  it('keeps a PNG byte for byte', async () => {
    const bytes = await png(100, 50);
    const out = await normaliseToPng(bytes, 1_000_000);
    expect(out).toEqual({ png: bytes, width: 100, height: 50 });
  });

  it('converts JPEG and WebP to PNG', async () => {
    for (const input of [
      await sharp({ create: { width: 40, height: 30, channels: 3, background: '#aa0000' } })
        .jpeg()
        .toBuffer(),
      await sharp({ create: { width: 40, height: 30, channels: 3, background: '#aa0000' } })
        .webp()
        .toBuffer(),
    ]) {
      const out = await normaliseToPng(input, 1_000_000);
      expect((await sharp(out.png).metadata()).format).toBe('png');
      expect([out.width, out.height]).toEqual([40, 30]);
    }
  });

  it('refuses bytes that are not an image, a truncated PNG and an image over the pixel limit', async () => {
    await expect(normaliseToPng(Buffer.from('hello'), 1_000_000)).rejects.toBeInstanceOf(InvalidImageError);
    const whole = await sharp({
      create: { width: 300, height: 300, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } },
    })
      .png()
      .toBuffer();
    await expect(normaliseToPng(whole.subarray(0, whole.length / 2), 1_000_000)).rejects.toBeInstanceOf(InvalidImageError);
    await expect(normaliseToPng(await png(2000, 1000), 1_000_000)).rejects.toThrow(/larger than 1,000,000 pixels/);
  });

  it('refuses a PNG with a corrupted chunk or no end, naming the fault', async () => {
    const whole = await png(120, 80);
    const flipped = Buffer.from(whole);
    const inLastIdat = whole.length - 20; // its CRC no longer matches
    flipped.writeUInt8(flipped.readUInt8(inLastIdat) ^ 0xff, inLastIdat);
    await expect(normaliseToPng(flipped, 1_000_000)).rejects.toThrow(/IDAT chunk is corrupted/);
    await expect(normaliseToPng(whole.subarray(0, whole.length - 12), 1_000_000)).rejects.toThrow(/cut short/);
    expect(checkPngChunks(whole)).toEqual({ width: 120, height: 80 });
  });
});
