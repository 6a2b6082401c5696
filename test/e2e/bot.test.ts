import { parseCampaignId } from '../../src/campaigns/id.ts';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NOT_LINKED } from '../../commands/scene.ts';
import { sceneMessages } from '../../src/platform/schema.ts';
import type { InteractionResult } from '../emulators/discord/types.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';

let h: BotHarness;
beforeAll(async () => {
  h = await startBotHarness();
});
afterAll(async () => {
  await h?.close();
});
beforeEach(() => h.gemini.reset());

const EPHEMERAL = 64;
const lastText = (r: InteractionResult) => (r.followUps.at(-1) ?? r.original)?.content ?? '';
const finished = (r: InteractionResult) => Boolean(r.original?.attachments.length) || r.followUps.length > 0 || r.callbacks[0]?.type === 4;

async function link(campaign = 'kraghammer'): Promise<InteractionResult> {
  const handle = await h.scene('link', { campaign }, { user: h.users.gm });
  return handle.waitUntil((r) => r.callbacks.length > 0 && Boolean(r.original));
}

describe('linking', () => {
  it('refuses scene commands in an unlinked channel, ephemerally, with how to link', async () => {
    const r = await (await h.scene('current', {}, { channelId: h.channels.general })).acknowledged();
    expect(r.callbacks[0]).toMatchObject({ type: 4 });
    expect(r.ephemeral).toBe(true);
    expect(r.original?.content).toBe(NOT_LINKED);
    expect(h.gemini.requests).toHaveLength(0);
  });

  it('lets only Manage Server link and unlink', async () => {
    const refused = await (
      await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.ana, channelId: h.channels.general })
    ).acknowledged();
    expect(refused.ephemeral).toBe(true);
    expect(refused.original?.content).toMatch(/Only members with \*\*Manage Server\*\*/);
    expect(await h.limner.links.get(h.channels.general)).toBeUndefined();

    const linked = await (
      await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.gm, channelId: h.channels.general })
    ).waitUntil((r) => Boolean(r.original));
    expect(linked.ephemeral).toBe(false);
    expect(linked.original?.content).toMatch(/now illustrates \*\*Arrival at Kraghammer\*\* \(`kraghammer`, 2,160 turns\)/);
    expect(await h.limner.links.get(h.channels.general)).toMatchObject({ campaignId: 'kraghammer', source: 'command' });

    const unlinkRefused = await (await h.scene('unlink', {}, { user: h.users.bo, channelId: h.channels.general })).acknowledged();
    expect(unlinkRefused.original?.content).toMatch(/Only members with \*\*Manage Server\*\*/);
    const unlinked = await (
      await h.scene('unlink', {}, { user: h.users.gm, channelId: h.channels.general })
    ).waitUntil((r) => Boolean(r.original));
    expect(unlinked.original?.content).toBe('This channel is no longer linked to `kraghammer`.');
    expect(await h.limner.links.get(h.channels.general)).toBeUndefined();
  });

  it('autocompletes campaign ids and refuses unknown or invalid ones', async () => {
    const choices = await h.autocomplete('link', { name: 'campaign', value: 'krag', type: 3 }, { user: h.users.gm });
    expect(choices.autocompleteChoices).toEqual([{ name: 'Arrival at Kraghammer (kraghammer)', value: 'kraghammer' }]);
    const unknown = await (await h.scene('link', { campaign: 'nowhere' }, { user: h.users.gm })).acknowledged();
    expect([unknown.ephemeral, unknown.original?.content]).toEqual([true, 'No campaign named "nowhere".']);
    const invalid = await (await h.scene('link', { campaign: '../etc' }, { user: h.users.gm })).acknowledged();
    expect(invalid.original?.content).toMatch(/is not a valid campaign id/);
  });
});

describe('/scene current and /scene turn', () => {
  beforeAll(async () => {
    await link();
  });

  it('/scene current defers, shows progress, then posts the PNG with its embed and records the message', async () => {
    const handle = await h.scene('current', { context: 4 });
    const r = await handle.waitUntil(finished, 15_000);
    expect(r.callbacks[0]!.type).toBe(5);
    expect(r.ephemeral).toBe(false);
    // Stages that take milliseconds (reading, saving) get no line of their own.
    expect(r.history.map((s) => s.content)).toEqual(['Writing the prompt…', 'Painting…', '']);
    const message = r.original!;
    expect(message.attachments).toHaveLength(1);
    const attachment = message.attachments[0]!;
    expect(attachment.filename).toBe('Arrival_at_Kraghammer_turn_2160_current.png');
    const served = Buffer.from(await (await fetch(attachment.url)).arrayBuffer());
    const meta = await sharp(served).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', 1376, 768]);
    const embed = message.embeds[0];
    expect(embed.title).toBe('Turn 2,160 · current scene');
    // Discord resolves attachment://name in the embed to the uploaded file's URL.
    expect(embed.image.url).toBe(attachment.url);
    expect(embed.footer.text).toMatch(/^gemini-3\.1-flash-image · 1376×768 · est\. \$0\.0\d\d$/);
    const row = (await h.limner.images.list('kraghammer' as never)).at(-1)!;
    expect(embed.description).toBe(row.prompt);
    expect(row.requestedBy).toBe(h.users.ana.id);
    // Recorded once Discord's answer to the upload is back, just after the emulator shows the message.
    const recorded = await h.discord.waitFor(
      () =>
        h.limner.store.db
          .select()
          .from(sceneMessages)
          .all()
          .find((m) => m.messageId === message.id),
      { label: 'scene message recorded' },
    );
    expect(recorded).toMatchObject({ imageId: row.id, channelId: h.channels.campaign, guildId: h.guildId });
    const textCall = h.gemini.requests.find((q) => !q.model.includes('image'))!;
    expect(JSON.stringify(textCall.body).match(/\[Turn \d+\]/g)).toEqual(['[Turn 2157]', '[Turn 2158]', '[Turn 2159]', '[Turn 2160]']);
  });

  it('/scene turn autocompletes previews and illustrates the chosen turn', async () => {
    const choices = (await h.autocomplete('turn', { name: 'number', value: '150', type: 4 })).autocompleteChoices!;
    expect(choices[0]).toEqual({
      name: 'Turn 150 · MATT: "Of course. Patrons that come and drop coin like that are welcome any time."',
      value: 150,
    });
    expect(choices.map((c) => c.value)).toEqual([150, 1500, 1501, 1502, 1503, 1504, 1505, 1506, 1507, 1508, 1509]);
    expect(choices.every((c) => c.name.length <= 100)).toBe(true);
    expect(choices.find((c) => c.value === 1500)!.name).toMatch(/^Turn 1500 · LIAM: While he is talking I take a flask.*…$/);
    const words = (await h.autocomplete('turn', { name: 'number', value: 'flask', type: 4 })).autocompleteChoices!;
    expect(words.map((c) => c.value)).toContain(1500);

    const r = await (await h.scene('turn', { number: 1500 })).waitUntil(finished, 15_000);
    expect(r.original!.attachments[0]!.filename).toBe('Arrival_at_Kraghammer_turn_1500_specific.png');
    expect(r.original!.embeds[0].title).toBe('Turn 1,500');
    expect(JSON.stringify(h.gemini.requests[0]!.body)).toContain('[Turn 1500] LIAM:');
  });

  it('answers out-of-range and non-integer turns ephemerally without calling Gemini', async () => {
    const out = await (await h.scene('turn', { number: 9999 })).waitUntil(finished);
    // Refused before any public acknowledgement: nothing flashes in the channel.
    expect(out.callbacks.map((c) => c.type)).toEqual([4]);
    expect(out.ephemeral).toBe(true);
    expect(lastText(out)).toBe('Turn 9999 is out of range: this campaign has turns 1-2160.');
    const frac = await (await h.scene('turn', { number: 2.5 })).waitUntil(finished);
    expect(frac.ephemeral).toBe(true);
    expect(lastText(frac)).toBe('`/scene turn`: `number` must be a whole number.');
    expect(h.gemini.requests).toHaveLength(0);
  });
});

describe('failures and load', () => {
  beforeAll(async () => {
    await link();
  });

  it.each([
    ['a blocked prompt', { kind: 'blocked', blockReason: 'SAFETY' } as const, /blocked by Gemini's safety filters \(SAFETY\)/],
    ['a safety finish', { kind: 'finish', finishReason: 'IMAGE_SAFETY' } as const, /withheld by Gemini's safety filters \(IMAGE_SAFETY\)/],
  ])('answers %s ephemerally and posts nothing public', async (_name, behaviour, message) => {
    const before = (await h.limner.images.list('kraghammer' as never)).length;
    h.gemini.enqueue(behaviour, { model: /image/ });
    const r = await (await h.scene('turn', { number: 42 })).waitUntil(finished, 15_000);
    expect(lastText(r)).toMatch(message);
    expect(r.followUps.at(-1)!.flags & EPHEMERAL).toBe(EPHEMERAL);
    expect(r.original?.deleted).toBe(true);
    expect(await h.limner.images.list('kraghammer' as never)).toHaveLength(before);
  });

  it('posts a compressed preview when the PNG is over the attachment size limit', async () => {
    const limit = 60_000;
    const r = await (await h.scene('turn', { number: 77 }, { attachmentSizeLimit: limit })).waitUntil(finished, 15_000);
    const message = r.original!;
    expect(message.content).toMatch(
      /^Showing a compressed preview \((WEBP|JPEG), [\d.]+ MB\): the full PNG \([\d.]+ MB\) is kept for export\.$/,
    );
    const attachment = message.attachments[0]!;
    expect(attachment.filename).toMatch(/^Arrival_at_Kraghammer_turn_77_specific\.(webp|jpg)$/);
    expect(attachment.size).toBeLessThanOrEqual(limit);
    const row = (await h.limner.images.list('kraghammer' as never)).find((i) => i.turn === 77)!;
    expect(row.bytes).toBeGreaterThan(limit);
    const preview = await sharp(Buffer.from(await (await fetch(attachment.url)).arrayBuffer())).metadata();
    expect(['webp', 'jpeg']).toContain(preview.format);
  });

  it('serves two users at once, each with their own picture', async () => {
    h.gemini.setLatency(150);
    try {
      const [a, b] = await Promise.all([
        h.scene('turn', { number: 300 }, { user: h.users.ana }),
        h.scene('turn', { number: 400 }, { user: h.users.bo }),
      ]);
      const [ra, rb] = await Promise.all([a.waitUntil(finished, 15_000), b.waitUntil(finished, 15_000)]);
      expect(ra.original!.attachments[0]!.filename).toBe('Arrival_at_Kraghammer_turn_300_specific.png');
      expect(rb.original!.attachments[0]!.filename).toBe('Arrival_at_Kraghammer_turn_400_specific.png');
      const rows = await h.limner.images.list('kraghammer' as never);
      expect(rows.find((i) => i.turn === 300)!.requestedBy).toBe(h.users.ana.id);
      expect(rows.find((i) => i.turn === 400)!.requestedBy).toBe(h.users.bo.id);
    } finally {
      h.gemini.setLatency(0);
    }
  });

  it('survives a provider failure and answers the next command', async () => {
    for (let i = 0; i < 3; i++) h.gemini.enqueue({ kind: 'status', status: 500 }, { model: /image/ });
    const failed = await (await h.scene('turn', { number: 500 })).waitUntil(finished, 15_000);
    expect(lastText(failed)).toMatch(/^Gemini answered with an error \(HTTP 500\)\. Please try again\./);
    const next = await (await h.scene('turn', { number: 501 })).waitUntil(finished, 15_000);
    expect(next.original!.attachments[0]!.filename).toBe('Arrival_at_Kraghammer_turn_501_specific.png');
    expect(h.discord.gatewayConnected).toBe(true);
  });

  it('shows an error id for an unexpected failure and keeps running', async () => {
    const original = h.limner.scenes.run.bind(h.limner.scenes);
    h.limner.scenes.run = () => Promise.reject(new TypeError('boom'));
    try {
      const r = await (await h.scene('current')).waitUntil(finished, 15_000);
      expect(lastText(r)).toMatch(/^Something went wrong on Limner's side \(error id `[0-9a-f]{8}`\)/);
      expect(lastText(r)).not.toContain('boom');
    } finally {
      h.limner.scenes.run = original;
    }
    const next = await (await h.scene('turn', { number: 502 })).waitUntil(finished, 15_000);
    expect(next.original!.attachments).toHaveLength(1);
  });

  it('saves before it shows: a picture that cannot be stored is never posted, and the user gets an error id', async () => {
    const save = h.limner.images.save.bind(h.limner.images);
    h.limner.images.save = () => Promise.reject(new Error('ENOSPC: no space left on device'));
    try {
      const r = await (await h.scene('turn', { number: 503 })).waitUntil((r) => r.followUps.length > 0, 15_000);
      expect(r.original?.attachments ?? []).toEqual([]);
      expect(lastText(r)).toMatch(/^Something went wrong on Limner's side \(error id `[0-9a-f]{8}`\)/);
      expect(r.followUps.at(-1)!.flags & EPHEMERAL).toBe(EPHEMERAL);
      expect((await h.limner.images.list(parseCampaignId('kraghammer'))).filter((i) => i.turn === 503)).toEqual([]);
    } finally {
      h.limner.images.save = save;
    }
  });
});
