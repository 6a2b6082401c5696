import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { LinkStore } from '../../src/campaigns/links.ts';
import { ImageGoneError } from '../../src/edits/errors.ts';
import { SessionStore } from '../../src/edits/sessions.ts';
import { DeletePicture } from '../../src/images/delete.ts';
import { DeleteNotAllowedError, NothingToDeleteError } from '../../src/images/errors.ts';
import { silentLogger } from '../../src/platform/log.ts';
import { openTestImageStore, solidPng, VAULT_SCENE, type TestImageStore } from '../support/images.ts';
import { describeEachDialect } from '../support/postgres.ts';

const vault = VAULT_SCENE.campaignId;
const DAY_MS = 86_400_000;

describeEachDialect('DeletePicture', (dialect) => {
  let t: TestImageStore;
  let links: LinkStore;
  let deletions: DeletePicture;
  beforeEach(async () => {
    t = await openTestImageStore(dialect);
    links = new LinkStore(t.store, []);
    deletions = new DeletePicture({ images: t.images, links, log: silentLogger, trashDays: 7 });
  });
  afterEach(() => t.close());

  const picture = (meta: Partial<typeof VAULT_SCENE> = {}) =>
    solidPng().then((png) => t.images.save(png, { ...VAULT_SCENE, requestedBy: '42', ...meta }, { moveSession: true }));
  const ask = (target: { imageId: string } | { latest: true }, userId = '42', moderator = false) => ({
    target: 'imageId' in target ? { kind: 'image' as const, imageId: target.imageId } : { kind: 'latest' as const, campaignId: vault },
    userId,
    moderator,
  });

  it("allows the picture's creator and moderators; refuses others, portraits and pictures that are gone", async () => {
    const portrait = await picture({ turn: 0, mode: 'portrait' });
    const scene = await picture();
    expect((await deletions.allowed(ask({ imageId: scene.id }))).id).toBe(scene.id);
    expect((await deletions.allowed(ask({ latest: true }))).id).toBe(scene.id);
    expect((await deletions.allowed(ask({ imageId: scene.id }, '7', true))).id).toBe(scene.id);
    await expect(deletions.allowed(ask({ imageId: scene.id }, '7'))).rejects.toThrow(DeleteNotAllowedError);
    await expect(deletions.allowed(ask({ imageId: portrait.id }, '42', true))).rejects.toThrow(ImageGoneError);
    await expect(deletions.allowed(ask({ imageId: 'no-such-picture' }))).rejects.toThrow(ImageGoneError);
    await expect(deletions.allowed(ask({ latest: true }, '7'))).rejects.toThrow(NothingToDeleteError);
  });

  it("deletes the user's latest picture: trash, sessions to its parent, and where it was shown", async () => {
    const parent = await picture();
    const child = await picture({ mode: 'edit', parentImageId: parent.id });
    await links.recordSceneMessage({ messageId: 'm1', imageId: child.id, guildId: 'g', channelId: 'c' });
    const result = await deletions.delete(ask({ latest: true }));
    expect(result.image).toMatchObject({ id: child.id, deletedBy: '42', imagePath: `vault/images/trash/${child.id}.png` });
    expect(result.sessions).toEqual({ moved: 1, ended: 0 });
    expect(result.messages).toEqual([{ messageId: 'm1', channelId: 'c' }]);
    expect(result.sheets).toEqual([]);
    expect((await new SessionStore(t.store).get('42', vault))!.currentImageId).toBe(parent.id);
    expect(await t.images.get(child.id)).toBeUndefined();
    await expect(deletions.delete(ask({ imageId: child.id }))).rejects.toThrow(ImageGoneError);
  });

  it('purges files deleted more than trash_days ago; their rows stay on record', async () => {
    const old = await picture();
    const recent = await picture();
    const kept = await picture();
    const trashedOld = await t.images.moveToTrash(old, '42', null);
    // Deleted a few ms later, so the cut-off below falls between the two.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const trashedRecent = await t.images.moveToTrash(recent, '42', null);
    const file = (row: { imagePath: string }) => path.join(t.dir, ...row.imagePath.split('/'));

    // Eight days after the first deletion: only pictures deleted before the cut-off (now - 7 days) go.
    const cutOff = Date.parse(trashedOld.image.deletedAt!) + 7 * DAY_MS + 1;
    expect(await deletions.purgeTrash(new Date(cutOff))).toEqual([trashedOld.image.imagePath]);
    expect(existsSync(file(trashedOld.image))).toBe(false);
    expect(existsSync(file(trashedRecent.image))).toBe(true);
    expect(existsSync(file(kept))).toBe(true);
    expect((await t.images.deletedBefore(new Date(cutOff + DAY_MS).toISOString())).map((r) => r.id)).toEqual([old.id, recent.id]);

    // Purged once is purged: the row outlives its file, and nothing is reported again.
    const later = new Date(Date.parse(trashedRecent.image.deletedAt!) + 8 * DAY_MS);
    expect(await deletions.purgeTrash(later)).toEqual([trashedRecent.image.imagePath]);
    expect(await deletions.purgeTrash(later)).toEqual([]);
  });
});
