import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelSource } from '../../src/campaigns/campaign.ts';
import { channelCampaignId, type ChannelMessage } from '../../src/campaigns/channel.ts';
import { CampaignRepository } from '../../src/campaigns/repository.ts';
import { openSqliteStore, type Store } from '../../src/platform/db.ts';
import { StoryStore } from '../../src/campaigns/stories.ts';
import { tempDir } from '../support/fixtures.ts';

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

const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

function stories(): { store: Store; stories: StoryStore; repo: CampaignRepository; root: string } {
  const tmp = tempDir();
  const store = openSqliteStore(':memory:');
  cleanups.push(() => store.close(), tmp.cleanup);
  const s = new StoryStore(store, '((');
  return { store, stories: s, repo: new CampaignRepository(tmp.dir, s), root: tmp.dir };
}

describe('StoryStore', () => {
  it('reads story turns from the start on, without out-of-character or empty messages, speakers by character', async () => {
    const { stories: s, repo } = stories();
    await repo.linkChannel(source, '#campaign');
    s.record([
      message(99, 'before the start'),
      message(100, 'The ship docks.'),
      message(101, '  ((back in 5))'),
      message(102, ''),
      message(103, 'I step ashore.', { authorId: '2000', authorName: 'Bo' }),
    ]);
    s.setCharacter(channelCampaignId(CHANNEL), {
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
    const { stories: s, repo } = stories();
    await repo.linkChannel(source, '#campaign');
    const hook = { authorId: '3000', webhookId: '3000' };
    s.record([
      message(100, 'I draw my blade.', { ...hook, authorName: 'thorn ' }),
      message(101, 'The gate groans.', { ...hook, authorName: 'The Narrator' }),
      // A person whose display name is a proxy name is still themself.
      message(102, 'Me too.', { authorId: '4000', authorName: 'Thorn' }),
    ]);
    s.setCharacter(channelCampaignId(CHANNEL), { userId: '2000', name: 'Thorn Ashvale', description: 'a ranger', portrait: null, proxyName: 'Thorn' });
    const campaign = await repo.load(channelCampaignId(CHANNEL));
    expect(campaign.transcript.entries.map((e) => e.speaker)).toEqual(['Thorn Ashvale', 'The Narrator', 'Thorn']);
  });

  it('never lets an older version or a history page bring back a deleted message', () => {
    const { stories: s } = stories();
    const edited = message(100, 'new words', { editedAt: '2024-01-02T00:00:00.000Z' });
    s.record([edited]);
    s.record([message(100, 'old words')]);
    expect(s.messages(CHANNEL, source.startId).map((m) => m.content)).toEqual(['new words']);
    s.remove(CHANNEL, [edited.id, message(101, '').id]);
    s.record([edited, message(101, 'deleted before its page was stored')]);
    expect(s.messages(CHANNEL, source.startId)).toEqual([]);
    expect(s.latestId(CHANNEL)).toBe(message(101, '').id);
  });

  it('forgets the stored messages of a span that the history no longer has', () => {
    const { stories: s } = stories();
    s.record([message(100, 'a'), message(101, 'b'), message(102, 'c'), message(200, 'later')]);
    const seen = new Set([message(100, '').id, message(102, '').id]);
    expect(s.forgetUnseen(CHANNEL, message(99, '').id, message(102, '').id, seen)).toBe(1);
    expect(s.messages(CHANNEL, '0').map((m) => m.content)).toEqual(['a', 'c', 'later']);
  });
});

describe('CampaignRepository.linkChannel', () => {
  it('creates ch-<channel id>, and on a relink replaces only its source, keeping the rest and comments', async () => {
    const { repo, root } = stories();
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
