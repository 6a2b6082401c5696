import { eq } from 'drizzle-orm';
import { afterEach, expect, it } from 'vitest';
import { CastStore } from '../../src/cast/store.ts';
import type { Store } from '../../src/platform/db.ts';
import { describeEachDialect, openTestStore, type TestStore } from '../support/postgres.ts';

const CAMPAIGN = 'kraghammer';

/** A portrait's row (a member's portrait references it). */
async function addPortrait(store: Store, id: string): Promise<void> {
  await store.db.insert(store.tables.images).values({
    id,
    campaignId: CAMPAIGN,
    turn: 0,
    mode: 'portrait',
    prompt: 'a portrait',
    imagePath: `${CAMPAIGN}/images/${id}.png`,
    provider: 'gemini',
    model: 'image-model',
    textModel: null,
    width: 9,
    height: 16,
    bytes: 100,
    requestedBy: 'cli',
    createdAt: new Date().toISOString(),
  });
}

describeEachDialect('CastStore', (dialect) => {
  let t: TestStore | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function open(): Promise<CastStore> {
    t = await openTestStore(dialect);
    return new CastStore(t.store);
  }

  it('adds, finds by a shorter or looser name, updates and lists members in the order they came', async () => {
    const cast = await open();
    const grog = await cast.add(CAMPAIGN, 'Grog Strongjaw', 'a goliath barbarian', 'accepted');
    const pike = await cast.add(CAMPAIGN, 'Pike', 'a gnome cleric', 'proposed');
    await cast.add('other', 'Grog', 'someone else', 'accepted');
    expect(grog).toEqual({
      id: grog.id,
      campaignId: CAMPAIGN,
      name: 'Grog Strongjaw',
      description: 'a goliath barbarian',
      status: 'accepted',
      portraitImageId: null,
    });
    expect(await cast.get(grog.id)).toEqual(grog);
    expect(await cast.get(9999)).toBeUndefined();
    expect((await cast.find(CAMPAIGN, 'grog'))?.id).toBe(grog.id);
    expect((await cast.find(CAMPAIGN, 'PIKE'))?.id).toBe(pike.id);
    expect(await cast.find(CAMPAIGN, 'Scanlan')).toBeUndefined();
    expect(await cast.update(pike.id, { status: 'dropped' })).toEqual({ ...pike, status: 'dropped' });
    expect(await cast.update(pike.id, { description: 'a devout gnome' })).toEqual({
      ...pike,
      status: 'dropped',
      description: 'a devout gnome',
    });
    expect((await cast.list(CAMPAIGN)).map((m) => m.name)).toEqual(['Grog Strongjaw', 'Pike']);
  });

  it('gives the accepted members with their portraits to the campaign', async () => {
    const cast = await open();
    const grog = await cast.add(CAMPAIGN, 'Grog', 'a goliath', 'accepted');
    await cast.add(CAMPAIGN, 'Pike', 'a gnome', 'proposed');
    await cast.add(CAMPAIGN, 'Vex', 'a half-elf', 'accepted');
    await addPortrait(t!.store, 'portrait-1');
    // A portrait's row names its member in the picture's own transaction (ImageStore.save's portraitOf).
    await t!.store.db
      .update(t!.store.tables.castMembers)
      .set({ portraitImageId: 'portrait-1' })
      .where(eq(t!.store.tables.castMembers.id, grog.id));
    expect((await cast.get(grog.id))?.portraitImageId).toBe('portrait-1');
    expect(await cast.accepted(CAMPAIGN)).toEqual([
      { name: 'Grog', description: 'a goliath', portraitPath: `${CAMPAIGN}/images/portrait-1.png` },
      { name: 'Vex', description: 'a half-elf', portraitPath: null },
    ]);
    expect(await cast.accepted('other')).toEqual([]);
  });

  it('records proposals: new ones proposed, proposed ones take the new looks, the owner’s choices stay', async () => {
    const cast = await open();
    const grog = await cast.add(CAMPAIGN, 'Grog Strongjaw', 'a goliath', 'accepted');
    const pike = await cast.add(CAMPAIGN, 'Pike', 'a gnome', 'dropped');
    const vex = await cast.add(CAMPAIGN, 'Vex', 'a ranger', 'proposed');
    const picked = await cast.recordProposals(CAMPAIGN, [
      { name: 'Grog', description: 'a huge goliath' },
      { name: 'Pike', description: 'a gnome in plate' },
      { name: 'Vex', description: 'a half-elf ranger with a bear' },
      { name: 'Scanlan', description: 'a gnome bard' },
      { name: 'scanlan', description: 'a gnome bard in a cape' },
    ]);
    const scanlan = (await cast.find(CAMPAIGN, 'Scanlan'))!;
    expect(picked).toEqual([
      grog,
      pike,
      { ...vex, description: 'a half-elf ranger with a bear' },
      { ...scanlan, description: 'a gnome bard in a cape' },
      { ...scanlan, description: 'a gnome bard in a cape' },
    ]);
    expect(scanlan).toMatchObject({ name: 'Scanlan', status: 'proposed', description: 'a gnome bard in a cape' });
    expect(await cast.list(CAMPAIGN)).toEqual([grog, pike, { ...vex, description: 'a half-elf ranger with a bear' }, scanlan]);
    expect(await cast.recordProposals(CAMPAIGN, [])).toEqual([]);
  });

  it('adds each character once when several readings record their proposals at the same time', async () => {
    const cast = await open();
    const names = ['Grog', 'Pike', 'Vex', 'Vax', 'Keyleth', 'Percy', 'Scanlan'];
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        cast.recordProposals(
          CAMPAIGN,
          [...names.slice(i), ...names.slice(0, i)].map((name) => ({ name, description: `reading ${i}` })),
        ),
      ),
    );
    const members = await cast.list(CAMPAIGN);
    expect(members.map((m) => m.name).sort()).toEqual([...names].sort());
    expect(members.every((m) => m.status === 'proposed')).toBe(true);
  });
});
