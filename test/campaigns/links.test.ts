import { afterEach, expect, it } from 'vitest';
import { LinkStore } from '../../src/campaigns/links.ts';
import { parseCampaignId } from '../../src/campaigns/id.ts';
import type { Store } from '../../src/platform/db.ts';
import { describeEachDialect, openTestStore, type TestStore } from '../support/postgres.ts';

const GUILD = '400000000000000000';
const [A, B, C] = ['400000000000000001', '400000000000000002', '400000000000000003'];
const kraghammer = parseCampaignId('kraghammer');
const citadel = parseCampaignId('sunless-citadel');

/** A picture's row, for the messages that show it (they reference it). */
async function addImage(store: Store, id: string): Promise<void> {
  await store.db.insert(store.tables.images).values({
    id,
    campaignId: 'kraghammer',
    turn: 1,
    mode: 'current',
    prompt: 'a tavern',
    imagePath: `kraghammer/images/${id}.png`,
    provider: 'gemini',
    model: 'image-model',
    textModel: null,
    width: 16,
    height: 9,
    bytes: 100,
    requestedBy: 'cli',
    createdAt: new Date().toISOString(),
  });
}

describeEachDialect('LinkStore', (dialect) => {
  let t: TestStore | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function open(configLinks: Array<{ channel_id: string; campaign_id: string }> = []): Promise<LinkStore> {
    t = await openTestStore(dialect);
    return new LinkStore(t.store, configLinks);
  }

  it('links, relinks and unlinks channels, falling back to the configured links', async () => {
    const links = await open([
      { channel_id: B, campaign_id: 'configured' },
      { channel_id: C, campaign_id: 'configured' },
    ]);
    expect(await links.get(A)).toBeUndefined();
    expect(await links.get(B)).toEqual({ channelId: B, campaignId: 'configured', source: 'config' });
    expect(await links.link({ channelId: A, guildId: GUILD, campaignId: kraghammer, linkedBy: 'gm' })).toBeUndefined();
    expect(await links.link({ channelId: A, guildId: GUILD, campaignId: citadel, linkedBy: 'gm' })).toBe('kraghammer');
    expect(await links.link({ channelId: B, guildId: GUILD, campaignId: kraghammer, linkedBy: 'gm' })).toBe('configured');
    expect(await links.get(A)).toEqual({ channelId: A, campaignId: 'sunless-citadel', source: 'command' });
    expect(await links.all()).toEqual([
      { channelId: A, campaignId: 'sunless-citadel', source: 'command' },
      { channelId: B, campaignId: 'kraghammer', source: 'command' },
      { channelId: C, campaignId: 'configured', source: 'config' },
    ]);

    expect(await links.unlink(B)).toBe('kraghammer');
    expect(await links.unlink(B)).toBeUndefined();
    expect(links.isConfigured(B)).toBe(true);
    expect(links.isConfigured(A)).toBe(false);
    expect(await links.get(B)).toMatchObject({ campaignId: 'configured', source: 'config' });
  });

  it('lists the guilds that link a campaign by command, once each', async () => {
    const links = await open([{ channel_id: C, campaign_id: 'kraghammer' }]);
    await links.link({ channelId: A, guildId: GUILD, campaignId: kraghammer, linkedBy: 'gm' });
    await links.link({ channelId: B, guildId: GUILD, campaignId: kraghammer, linkedBy: 'gm' });
    await links.link({ channelId: C, guildId: '400000000000000009', campaignId: citadel, linkedBy: 'gm' });
    expect(await links.guildsOf('kraghammer')).toEqual([GUILD]);
    expect((await links.guildsOf('sunless-citadel')).sort()).toEqual(['400000000000000009']);
    expect(await links.guildsOf('nowhere')).toEqual([]);
  });

  it('records the messages showing a picture, the first record of a message standing', async () => {
    const links = await open();
    for (const id of ['img-1', 'img-2']) await addImage(t!.store, id);
    await links.recordSceneMessage({ messageId: 'm1', imageId: 'img-1', guildId: GUILD, channelId: A });
    await links.recordSceneMessage({ messageId: 'm2', imageId: 'img-1', guildId: null, channelId: B });
    await links.recordSceneMessage({ messageId: 'm1', imageId: 'img-2', guildId: GUILD, channelId: A });
    expect(await links.imageOfMessage('m1')).toBe('img-1');
    expect(await links.imageOfMessage('m3')).toBeUndefined();
    expect(await links.messagesOf('img-1')).toEqual([
      { messageId: 'm1', channelId: A },
      { messageId: 'm2', channelId: B },
    ]);
    expect(await links.messagesOf('img-2')).toEqual([]);
  });

  it('records contact sheets with their pictures in order', async () => {
    const links = await open();
    for (const id of ['img-1', 'img-2', 'img-3']) await addImage(t!.store, id);
    await links.recordSheetMessage({ messageId: 's1', imageIds: ['img-3', 'img-1', 'img-2'], guildId: GUILD, channelId: A });
    await links.recordSheetMessage({ messageId: 's1', imageIds: ['img-3', 'img-1', 'img-2'], guildId: GUILD, channelId: A });
    await links.recordSheetMessage({ messageId: 's2', imageIds: ['img-1'], guildId: GUILD, channelId: B });
    await links.recordSheetMessage({ messageId: 's3', imageIds: [], guildId: GUILD, channelId: B });
    expect(await links.sheetImages('s1')).toEqual(['img-3', 'img-1', 'img-2']);
    expect(await links.sheetImages('s3')).toEqual([]);
    expect(await links.sheetsOf('img-1')).toEqual([
      { messageId: 's1', channelId: A },
      { messageId: 's2', channelId: B },
    ]);
    expect(await links.sheetsOf('img-2')).toEqual([{ messageId: 's1', channelId: A }]);
  });
});
