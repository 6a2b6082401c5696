import { afterEach, beforeEach, expect, it } from 'vitest';
import { parseCampaignId } from '../../src/campaigns/id.ts';
import { SessionStore } from '../../src/edits/sessions.ts';
import { openTestImageStore, solidPng, VAULT_SCENE, type TestImageStore } from '../support/images.ts';
import { describeEachDialect } from '../support/postgres.ts';

const vault = VAULT_SCENE.campaignId;
const other = parseCampaignId('other');

describeEachDialect('SessionStore', (dialect) => {
  let t: TestImageStore;
  let sessions: SessionStore;
  beforeEach(async () => {
    t = await openTestImageStore(dialect);
    sessions = new SessionStore(t.store);
  });
  afterEach(() => t.close());

  const picture = (meta: Partial<typeof VAULT_SCENE> = {}, moveSession = false) =>
    solidPng().then((png) => t.images.save(png, { ...VAULT_SCENE, requestedBy: '42', ...meta }, { moveSession }));

  it('keeps one session per user and campaign, moved by each picture saved for it', async () => {
    expect(await sessions.get('42', vault)).toBeUndefined();
    const first = await picture({}, true);
    expect(await sessions.get('42', vault)).toMatchObject({ userId: '42', campaignId: vault, currentImageId: first.id });
    const second = await picture({}, true);
    const moved = await sessions.get('42', vault);
    expect(moved!.currentImageId).toBe(second.id);
    expect(moved!.updatedAt >= first.createdAt).toBe(true);
    // A picture saved without moving the session (a variation) leaves it where it is.
    await picture();
    expect((await sessions.get('42', vault))!.currentImageId).toBe(second.id);
    expect(await sessions.ofUser('42')).toHaveLength(1);
  });

  it("lists a user's sessions in every campaign, most recently moved first, and no one else's", async () => {
    const here = await picture();
    const there = await picture({ campaignId: other });
    await sessions.moveTo({ userId: '42', campaignId: vault, imageId: here.id });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const latest = await sessions.moveTo({ userId: '42', campaignId: other, imageId: there.id });
    expect(latest).toMatchObject({ userId: '42', campaignId: other, currentImageId: there.id });
    await sessions.moveTo({ userId: '7', campaignId: vault, imageId: here.id });
    expect((await sessions.ofUser('42')).map((s) => s.campaignId)).toEqual([other, vault]);
    expect(await sessions.ofUser('nobody')).toEqual([]);
  });

  it('walks an edit history back (undo) and forth, and follows a deletion to the parent, ending at the root', async () => {
    const root = await picture({}, true);
    const edit = await picture({ mode: 'edit', parentImageId: root.id }, true);
    const again = await picture({ mode: 'edit', parentImageId: edit.id }, true);
    expect((await sessions.get('42', vault))!.currentImageId).toBe(again.id);

    // Undo: the session goes to the picture the current one was made from, one step at a time.
    for (const expected of [edit, root]) {
      const current = await t.images.get((await sessions.get('42', vault))!.currentImageId);
      const parent = await t.images.get(current!.parentImageId!);
      await sessions.moveTo({ userId: '42', campaignId: vault, imageId: parent!.id });
      expect((await sessions.get('42', vault))!.currentImageId).toBe(expected.id);
    }
    expect((await t.images.get(root.id))!.parentImageId).toBeNull();

    await sessions.moveTo({ userId: '42', campaignId: vault, imageId: again.id });
    await t.images.moveToTrash(again, '42', edit.id);
    expect((await sessions.get('42', vault))!.currentImageId).toBe(edit.id);
    await t.images.moveToTrash(edit, '42', root.id);
    expect((await sessions.get('42', vault))!.currentImageId).toBe(root.id);
    await t.images.moveToTrash(root, '42', null);
    expect(await sessions.get('42', vault)).toBeUndefined();
  });
});
