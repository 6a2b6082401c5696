import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { ChannelSource } from '../../src/campaigns/campaign.ts';
import { channelCampaignId, type ChannelMessage } from '../../src/campaigns/channel.ts';
import { CampaignRepository } from '../../src/campaigns/repository.ts';
import type { Store } from '../../src/platform/db.ts';
import { StoryStore } from '../../src/campaigns/stories.ts';
import { describeEachDialect, openTestStore, type TestStore } from '../support/postgres.ts';

const CHANNEL = '400000000000000001';
const source: ChannelSource = { kind: 'channel', guildId: '400000000000000000', channelId: CHANNEL, startId: '400000000000000100' };
const message = (id: number, content: string, extra: Partial<ChannelMessage> = {}): ChannelMessage => ({
  id: String(400000000000000000n + BigInt(id)),
  channelId: CHANNEL,
  authorId: '1000',
  authorName: 'Ana',
  content,
  createdAt: new Date(1_700_000_000_000 + id).toISOString(),
  editedAt: null,
  webhookId: null,
  ...extra,
});

describeEachDialect('StoryStore', (dialect) => {
  let t: TestStore | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  /** A story store on a fresh database, and a repository of campaigns in a fresh folder reading from it. */
  async function stories(): Promise<{ store: Store; stories: StoryStore; repo: CampaignRepository; root: string }> {
    t = await openTestStore(dialect);
    const s = new StoryStore(t.store, '((');
    return { store: t.store, stories: s, repo: new CampaignRepository(t.dir, s), root: t.dir };
  }

  it('reads story turns from the start on, without out-of-character or empty messages, speakers by character', async () => {
    const { stories: s, repo } = await stories();
    await repo.linkChannel(source, '#campaign');
    await s.record([
      message(99, 'before the start'),
      message(100, 'The ship docks.'),
      message(101, '  ((back in 5))'),
      message(102, ''),
      message(103, 'I step ashore.', { authorId: '2000', authorName: 'Bo' }),
    ]);
    await s.setCharacter(channelCampaignId(CHANNEL), {
      userId: '2000',
      name: 'Vex',
      description: 'a half-elf ranger',
      portrait: 'characters/2000.png',
      proxyName: null,
    });
    const campaign = await repo.load(channelCampaignId(CHANNEL));
    expect(campaign.transcript.entries.map((e) => [e.turn, e.speaker, e.text])).toEqual([
      [1, 'Ana', 'The ship docks.'],
      [2, 'Vex', 'I step ashore.'],
    ]);
    expect([campaign.transcript.firstTurn, campaign.transcript.lastTurn]).toEqual([1, 2]);
    expect(campaign.transcript.file).toBe(`https://discord.com/channels/${source.guildId}/${CHANNEL}`);
    expect(campaign.characters).toEqual([
      { name: 'Vex', description: 'a half-elf ranger', referenceImage: path.join(campaign.dir, 'characters/2000.png') },
    ]);
    expect(campaign.source).toEqual(source);
  });

  it('reads proxied messages under the name they were posted as, or the character registered with that proxy name', async () => {
    const { stories: s, repo } = await stories();
    await repo.linkChannel(source, '#campaign');
    const hook = { authorId: '3000', webhookId: '3000' };
    await s.record([
      message(100, 'I draw my blade.', { ...hook, authorName: 'thorn ' }),
      message(101, 'The gate groans.', { ...hook, authorName: 'The Narrator' }),
      // A person whose display name is a proxy name is still themself.
      message(102, 'Me too.', { authorId: '4000', authorName: 'Thorn' }),
    ]);
    await s.setCharacter(channelCampaignId(CHANNEL), { userId: '2000', name: 'Thorn Ashvale', description: 'a ranger', portrait: null, proxyName: 'Thorn' });
    const campaign = await repo.load(channelCampaignId(CHANNEL));
    expect(campaign.transcript.entries.map((e) => e.speaker)).toEqual(['Thorn Ashvale', 'The Narrator', 'Thorn']);
  });

  it('never lets an older version or a history page bring back a deleted message', async () => {
    const { stories: s } = await stories();
    const edited = message(100, 'new words', { editedAt: '2024-01-02T00:00:00.000Z' });
    await s.record([edited]);
    await s.record([message(100, 'old words')]);
    expect((await s.messages(CHANNEL, source.startId)).map((m) => m.content)).toEqual(['new words']);
    await s.remove(CHANNEL, [edited.id, message(101, '').id, edited.id]);
    await s.record([edited, message(101, 'deleted before its page was stored')]);
    expect(await s.messages(CHANNEL, source.startId)).toEqual([]);
    expect(await s.latestId(CHANNEL)).toBe(message(101, '').id);
    expect(await s.latestId('400000000000000009')).toBeUndefined();
  });

  it('keeps the newest of several versions of a message recorded at once, and stores pages of any size', async () => {
    const { stories: s } = await stories();
    const later = { editedAt: '2024-01-03T00:00:00.000Z' };
    await s.record([
      message(100, 'second edit', later),
      message(100, 'first edit', { editedAt: '2024-01-02T00:00:00.000Z' }),
      message(100, 'unedited'),
      message(101, 'one', later),
      message(101, 'one, again', later),
    ]);
    expect((await s.messages(CHANNEL, '0')).map((m) => m.content)).toEqual(['second edit', 'one, again']);
    const many = Array.from({ length: 1_200 }, (_, i) => message(1_000 + i, `line ${i}`));
    await s.record(many);
    expect(await s.messages(CHANNEL, many[0]!.id)).toEqual(many);
    await s.remove(
      CHANNEL,
      many.map((m) => m.id),
    );
    expect(await s.messages(CHANNEL, many[0]!.id)).toEqual([]);
    await s.record([]);
    await s.remove(CHANNEL, []);
  });

  it('stores a message with NUL characters without them (PostgreSQL text cannot hold one), with the rest of its page', async () => {
    const { stories: s, repo } = await stories();
    await repo.linkChannel(source, '#campaign');
    await s.record([message(100, 'The ship docks.'), message(101, 'I step\u0000 ashore.', { authorName: 'B\u0000o' })]);
    expect((await s.messages(CHANNEL, source.startId)).map((m) => [m.authorName, m.content])).toEqual([
      ['Ana', 'The ship docks.'],
      ['Bo', 'I step ashore.'],
    ]);
  });

  it('forgets the stored messages of a span that the history no longer has', async () => {
    const { stories: s } = await stories();
    await s.record([message(100, 'a'), message(101, 'b'), message(102, 'c'), message(200, 'later')]);
    const seen = new Set([message(100, '').id, message(102, '').id]);
    expect(await s.forgetUnseen(CHANNEL, message(99, '').id, message(102, '').id, seen)).toBe(1);
    expect((await s.messages(CHANNEL, '0')).map((m) => m.content)).toEqual(['a', 'c', 'later']);
    expect(await s.forgetUnseen(CHANNEL, message(99, '').id, message(102, '').id, seen)).toBe(0);
  });

  it('registers one character per member and campaign, replacing it, listed by name', async () => {
    const { stories: s } = await stories();
    const campaign = channelCampaignId(CHANNEL);
    await s.setCharacter(campaign, { userId: '2000', name: 'Vex', description: 'a ranger', portrait: null, proxyName: null });
    await s.setCharacter(campaign, { userId: '3000', name: 'Grog', description: 'a barbarian', portrait: null, proxyName: 'grog' });
    await s.setCharacter(campaign, {
      userId: '2000',
      name: 'Vex',
      description: 'a half-elf ranger',
      portrait: 'characters/2000.png',
      proxyName: null,
    });
    await s.setCharacter('other', { userId: '2000', name: 'Pike', description: 'a cleric', portrait: null, proxyName: null });
    expect(await s.characters(campaign)).toEqual([
      { userId: '3000', name: 'Grog', description: 'a barbarian', portrait: null, proxyName: 'grog' },
      { userId: '2000', name: 'Vex', description: 'a half-elf ranger', portrait: 'characters/2000.png', proxyName: null },
    ]);
  });

  // The repository's side of a play-by-post campaign, read through the store.
  it('creates ch-<channel id>, and on a relink replaces only its source, keeping the rest and comments', async () => {
    const { repo, root } = await stories();
    expect(await repo.linkChannel(source, '#campaign')).toEqual({ id: `ch-${CHANNEL}`, created: true });
    const file = path.join(root, `ch-${CHANNEL}`, 'campaign.yaml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('name: "#campaign"', '# renamed by the GM\nname: The Drowned Chapel\nart_style: ink wash'),
    );
    const moved = { ...source, startId: '400000000000000500' };
    expect(await repo.linkChannel(moved, '#other')).toEqual({ id: `ch-${CHANNEL}`, created: false });
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# renamed by the GM');
    const campaign = await repo.load(`ch-${CHANNEL}`);
    expect([campaign.name, campaign.artStyle, campaign.source]).toEqual(['The Drowned Chapel', 'ink wash', moved]);
    expect(campaign.transcript).toMatchObject({ entries: [], firstTurn: 0, lastTurn: 0 });
  });
});
