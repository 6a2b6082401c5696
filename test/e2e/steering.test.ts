import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NOT_LINKED } from '../../commands/scene.ts';
import { settingChanges } from '../../src/platform/schema.ts';
import type { EmulatorUser, InteractionResult, UploadFile } from '../emulators/discord/types.ts';
import type { RecordedRequest } from '../emulators/gemini/server.ts';
import { SAMPLE_CAMPAIGN } from '../support/fixtures.ts';
import { MANAGE_GUILD, startBotHarness, type BotHarness, type SceneOptionValue } from '../support/bot-harness.ts';
import { CRD3_DIR } from '../support/fixtures.ts';
import { scannerScript } from '../support/scanner-script.ts';

const EPHEMERAL = 64;
const PRO = 'gemini-3-pro-image';
const FAST = 'gemini-3.1-flash-image';

let h: BotHarness;

const answered = (r: InteractionResult) => r.callbacks[0]?.type === 4 || r.followUps.length > 0 || Boolean(r.original?.content);
const drawn = (r: InteractionResult) => Boolean(r.original?.attachments.length) || r.followUps.length > 0 || r.callbacks[0]?.type === 4;
const lastText = (r: InteractionResult) => (r.followUps.at(-1) ?? r.original)?.content ?? '';
const privately = (r: InteractionResult) => r.ephemeral || Boolean((r.followUps.at(-1)?.flags ?? 0) & EPHEMERAL);
const imageCalls = () => h.gemini.requests.filter((r) => r.body?.generationConfig?.responseModalities?.includes('IMAGE'));
const aspectOf = (r: RecordedRequest) => r.body.generationConfig.imageConfig.aspectRatio as string;
const promptOf = (r: RecordedRequest) => (r.body.contents[0].parts as Array<{ text?: string }>).map((p) => p.text ?? '').join('');

async function run(sub: string, options: Record<string, SceneOptionValue>, user: EmulatorUser, channelId = h.channels.campaign) {
  const handle = await h.scene(sub, options, { user, channelId });
  return handle.waitUntil(
    (r) => (sub === 'current' || sub === 'turn' || sub === 'best' ? drawn(r) : answered(r)) && !/…$/.test(lastText(r)),
    20_000,
  );
}

/** A public reply that finished with text (not the deferral's "thinking"). */
async function finished(sub: string, options: Record<string, SceneOptionValue>, user: EmulatorUser, done: RegExp, channelId: string) {
  const handle = await h.scene(sub, options, { user, channelId });
  return handle.waitUntil((r) => done.test(lastText(r)) || privately(r), 20_000);
}

const text = (filename: string, body: string): UploadFile => ({
  filename,
  bytes: Buffer.from(body),
  contentType: 'text/plain; charset=utf-8',
});

beforeAll(async () => {
  h = await startBotHarness({
    generation: { quality_models: { pro: PRO } },
    budgets: { guild_daily_images: 50, guild_daily_usd: 5, dedupe_window_s: 600 },
    discord: { message_content_intent: true },
  });
  h.gemini.onText(scannerScript());
  await run('link', { campaign: 'kraghammer' }, h.users.gm);
}, 30_000);
afterAll(async () => {
  await h?.close();
});

describe('/scene settings', () => {
  it('is refused privately to a member without Manage Server, who changes nothing', async () => {
    const r = await run('settings', { shape: 'portrait', daily_pictures: 1 }, h.users.ana);
    expect([privately(r), lastText(r)]).toEqual([true, "Only members with **Manage Server** can see or change Limner's settings."]);
    expect((await h.limner.settings.stored(h.guildId, 'kraghammer')).shape).toBeNull();
    expect(h.limner.store.db.select().from(settingChanges).all()).toEqual([]);
  });

  it("shows the defaults privately to the game master: campaign.yaml's art style, config's shape, ceilings", async () => {
    const r = await run('settings', {}, h.users.gm);
    expect(privately(r)).toBe(true);
    const embed = r.original!.embeds[0]!;
    expect(embed.title).toBe('Settings · Arrival at Kraghammer');
    const field = (name: string) => embed.fields.find((f: { name: string }) => f.name === name)?.value;
    expect(field('Art style')).toMatch(/ · default$/);
    expect(field('Default shape')).toBe('landscape (16:9) · default');
    expect(field('Quality')).toBe('fast, pro on request · default');
    expect(field('Daily pictures (this server)')).toBe('50 pictures · default (ceiling 50 pictures)');
    expect(field('Daily spend (this server)')).toBe('$5.00 · default (ceiling $5.00)');
  });

  it('changes art style, shape, quality and budgets, logging each change with who made it; pictures follow them', async () => {
    const r = await run(
      'settings',
      { art_style: 'ink and watercolour', shape: 'portrait', quality: 'fast', daily_pictures: 20, daily_spend: { decimal: 2.5 } },
      h.users.gm,
    );
    expect(privately(r)).toBe(true);
    expect(lastText(r)).toBe(
      'Changed: art style: default → ink and watercolour; default shape: default → portrait; quality: default → fast only; daily pictures: default → 20; daily spend: default → $2.50.',
    );
    const rows = h.limner.store.db.select().from(settingChanges).all();
    expect(rows.map((c) => [c.key, c.oldValue, c.newValue, c.changedBy])).toEqual([
      ['art_style', null, '"ink and watercolour"', h.users.gm.id],
      ['shape', null, '"portrait"', h.users.gm.id],
      ['quality', null, '"fast"', h.users.gm.id],
      ['daily_images', null, '20', h.users.gm.id],
      ['daily_usd', null, '2.5', h.users.gm.id],
    ]);
    expect((await h.limner.budgets.status(h.guildId, h.users.ana.id)).guildImagesLeft).toBe(20);
    expect(r.original!.embeds[0]!.fields.at(-1)!.value).toContain(`<@${h.users.gm.id}>: daily spend: default → $2.50`);

    const before = imageCalls().length;
    const picture = await run('current', {}, h.users.ana);
    expect(picture.original!.attachments).toHaveLength(1);
    const call = imageCalls()[before]!;
    expect([call.model, aspectOf(call)]).toEqual([FAST, '9:16']);
    expect(promptOf(call)).toContain('Art style: ink and watercolour.');
    expect(picture.original!.attachments[0]!.height).toBeGreaterThan(picture.original!.attachments[0]!.width!);

    // Recaps and cast portraits follow the guild's settings too.
    const requester = { userId: h.users.ana.id, guildId: h.guildId, channelId: h.channels.campaign };
    const recapped = imageCalls().length;
    await h.limner.recaps.run({ campaignId: SAMPLE_CAMPAIGN, requester, from: 1500, to: 1800, panels: 3 });
    const panels = imageCalls().slice(recapped);
    expect(panels).toHaveLength(3);
    for (const panel of panels) {
      expect([panel.model, aspectOf(panel)]).toEqual([FAST, '9:16']);
      expect(promptOf(panel)).toContain('Art style: ink and watercolour.');
    }
    const { member } = await h.limner.cast.setCharacter({
      campaignId: SAMPLE_CAMPAIGN,
      requester,
      name: 'Mirelle',
      description: 'a tall tiefling bard',
    });
    await h.limner.cast.portrait({ campaignId: SAMPLE_CAMPAIGN, requester, memberId: member.id });
    const portrait = imageCalls().at(-1)!;
    expect(portrait.model).toBe(FAST);
    expect(promptOf(portrait)).toContain('ink and watercolour');
  });

  it("refuses values above the operator's ceiling privately, changing nothing", async () => {
    const r = await run('settings', { shape: 'square', daily_pictures: 500 }, h.users.gm);
    expect([privately(r), lastText(r)]).toEqual([true, "`/scene settings` `daily_pictures`: at most 50, the operator's ceiling."]);
    expect((await h.limner.settings.stored(h.guildId, 'kraghammer')).shape).toBe('portrait');
  });

  it('with quality "fast only", a player asking for pro is refused privately; allowed again, pro paints with the pro model', async () => {
    const before = h.gemini.requests.length;
    const refused = await run('turn', { number: 12, quality: 'pro' }, h.users.bo);
    expect([privately(refused), lastText(refused)]).toEqual([
      true,
      "This server's settings keep pictures at fast quality. Someone with **Manage Server** can allow pro with `/scene settings quality:`.",
    ]);
    expect(h.gemini.requests.length).toBe(before);

    await run('settings', { quality: 'pro-allowed' }, h.users.gm);
    const images = imageCalls().length;
    const pro = await run('turn', { number: 12, quality: 'pro', shape: 'square' }, h.users.bo);
    expect(pro.original!.embeds[0]!.footer!.text).toMatch(new RegExp(`^${PRO} · `));
    const call = imageCalls()[images]!;
    expect([call.model, aspectOf(call)]).toEqual([PRO, '1:1']);
  });

  it('reset returns everything to the defaults, and is logged too', async () => {
    const r = await run('settings', { reset: 'all' }, h.users.gm);
    expect(lastText(r)).toMatch(
      /^Changed: art style: ink and watercolour → default; default shape: portrait → default; quality: fast, pro on request → default; daily pictures: 20 → default; daily spend: \$2\.50 → default\.$/,
    );
    expect(await h.limner.settings.stored(h.guildId, 'kraghammer')).toEqual({
      art_style: null,
      shape: null,
      quality: null,
      daily_images: null,
      daily_usd: null,
    });
    expect(h.limner.store.db.select().from(settingChanges).all()).toHaveLength(11);
  });
});

describe('shape, quality and note per request', () => {
  it('current: a portrait with a note the prompt writer follows and the embed shows', async () => {
    const before = h.gemini.requests.length;
    const r = await run('current', { shape: 'portrait', note: 'focus on the dragon' }, h.users.ana);
    const embed = r.original!.embeds[0]!;
    expect(embed.fields).toContainEqual(expect.objectContaining({ name: "Director's note", value: 'focus on the dragon' }));
    const calls = h.gemini.requests.slice(before);
    const writer = calls.find((c) => !c.body?.generationConfig?.responseModalities);
    expect(promptOf(writer!)).toContain("Director's note from the player who asked (follow it): focus on the dragon");
    expect(aspectOf(calls.find((c) => c.body?.generationConfig?.responseModalities)!)).toBe('9:16');
  });

  it('the same request again reuses the picture; another note or shape paints anew', async () => {
    const images = imageCalls().length;
    const again = await run('current', { shape: 'portrait', note: 'focus on the dragon' }, h.users.ana);
    expect(again.original!.content).toMatch(/^This scene was painted/);
    expect(imageCalls().length).toBe(images);
    await run('current', { shape: 'portrait', note: 'from the villain’s point of view' }, h.users.ana);
    await run('current', { shape: 'wide', note: 'focus on the dragon' }, h.users.ana);
    expect(imageCalls().slice(images).map(aspectOf)).toEqual(['9:16', '21:9']);
  });

  it('best takes shape and note too; turn takes quality', async () => {
    const images = imageCalls().length;
    const best = await run('best', { shape: 'wide', note: 'make it stormy' }, h.users.bo);
    expect(best.original!.embeds[0]!.fields.map((f: { name: string }) => f.name)).toEqual([
      "Director's note",
      'The moment',
      'Why this one',
    ]);
    const fast = await run('turn', { number: 30, quality: 'fast' }, h.users.bo);
    expect(fast.original!.embeds[0]!.footer!.text).toMatch(new RegExp(`^${FAST} · `));
    expect(
      imageCalls()
        .slice(images)
        .map((c) => [c.model, aspectOf(c)]),
    ).toEqual([
      [FAST, '21:9'],
      [FAST, '16:9'],
    ]);
  });

  it('a note over 200 characters is refused privately before any model call', async () => {
    const before = h.gemini.requests.length;
    const r = await run('current', { note: 'x'.repeat(201) }, h.users.ana);
    expect([privately(r), lastText(r)]).toEqual([true, '`/scene current`: `note` must be 1 to 200 characters long.']);
    expect(h.gemini.requests.length).toBe(before);
  });
});

describe('/scene new and /scene update', () => {
  const session = 'Dungeon Master: The citadel rises from the ravine.\nAria: I light a torch.\n\nBrom: Something moves below!\n';

  it('is refused privately to a member without Manage Server', async () => {
    const r = await run('new', { name: 'Sunless Citadel', transcript: text('session.txt', session) }, h.users.ana, h.channels.general);
    expect([privately(r), lastText(r)]).toEqual([true, 'Only members with **Manage Server** can create a campaign.']);
    expect(existsSync(path.join(h.limner.config.campaigns_dir, 'sunless-citadel'))).toBe(false);
    const u = await run('update', { transcript: text('more.txt', 'Aria: Again.\n') }, h.users.ana);
    expect([privately(u), lastText(u)]).toEqual([true, "Only members with **Manage Server** can change a campaign's story."]);
  });

  it('refuses a malformed file privately with its line and reason, creating nothing', async () => {
    const r = await run(
      'new',
      { name: 'Broken', transcript: text('broken.txt', 'Narrator: It begins.\njust a line without a speaker\n') },
      h.users.gm,
      h.channels.general,
    );
    expect(privately(r)).toBe(true);
    expect(lastText(r)).toBe(
      'broken.txt: line 2: expected "Speaker: text" (a name of at most 100 characters, a colon, then what they say or do)',
    );
    expect(existsSync(path.join(h.limner.config.campaigns_dir, 'broken'))).toBe(false);
    const big = await run(
      'new',
      { name: 'Huge', transcript: { ...text('huge.txt', 'A: b\n'), size: 20 * 1024 * 1024 } },
      h.users.gm,
      h.channels.general,
    );
    expect(lastText(big)).toBe('"huge.txt" is too large: transcripts can be at most 10.0 MB.');
  });

  it('creates a campaign from plain text, owned by this server, links the channel and gives its turn count', async () => {
    const r = await finished(
      'new',
      { name: 'Sunless Citadel', transcript: text('session.txt', session) },
      h.users.gm,
      /^Created/,
      h.channels.general,
    );
    expect(privately(r)).toBe(false);
    expect(lastText(r)).toBe(
      'Created **Sunless Citadel** (`sunless-citadel`) from `session.txt`: 3 turns. This channel now illustrates it; only this server sees it. Try `/scene current` or `/scene turn`.',
    );
    expect((await h.limner.links.get(h.channels.general))?.campaignId).toBe('sunless-citadel');
    const yaml = readFileSync(path.join(h.limner.config.campaigns_dir, 'sunless-citadel', 'campaign.yaml'), 'utf8');
    expect(yaml).toContain(`guild_id: "${h.guildId}"`);
    const picture = await run('turn', { number: 3 }, h.users.ana, h.channels.general);
    expect(picture.original!.embeds[0]!.title).toBe('Turn 3');
  });

  it('is seen only in this server', async () => {
    const rival: EmulatorUser = { id: '330000000000000001', username: 'rival', global_name: 'Rival' };
    const guild = h.discord.addGuild({ name: 'Elsewhere', ownerId: rival.id, channels: [{ name: 'tavern' }] });
    h.discord.addMember(guild.id, rival, { permissions: (1n << 10n) | (1n << 11n) | MANAGE_GUILD });
    await vi.waitFor(() => expect(h.bot.client.guilds.cache.has(guild.id)).toBe(true));
    const where = { guildId: guild.id, channelId: guild.channels[0]!.id, user: rival };
    const ac = await h.discord.sendAutocomplete({
      ...where,
      name: 'scene',
      options: [{ type: 1, name: 'link', options: [{ name: 'campaign', value: '', type: 3, focused: true }] }],
    });
    expect(((await ac.acknowledged()).autocompleteChoices ?? []).map((c) => c.value)).toEqual(['kraghammer']);
    const link = await h.discord.sendCommand({
      ...where,
      name: 'scene',
      options: [{ type: 1, name: 'link', options: [{ type: 3, name: 'campaign', value: 'sunless-citadel' }] }],
    });
    expect(lastText(await link.waitUntil(answered))).toBe('No campaign named "sunless-citadel".');
  });

  it('update appends to and replaces the story; a CRD3 episode and JSONL are read too', async () => {
    const appended = await finished(
      'update',
      { transcript: text('more.txt', 'Aria: We descend.\nBrom: Goblins!\n'), append: true },
      h.users.gm,
      /^Added/,
      h.channels.general,
    );
    expect(lastText(appended)).toBe('Added 2 turns from `more.txt` to **Sunless Citadel**: 5 turns now.');
    const crd3 = readFileSync(path.join(CRD3_DIR, 'C2E030.json'));
    const replaced = await finished(
      'update',
      { transcript: { filename: 'C2E030.json', bytes: crd3, contentType: 'application/json' } },
      h.users.gm,
      /^Replaced/,
      h.channels.general,
    );
    expect(lastText(replaced)).toMatch(/^Replaced the story of \*\*Sunless Citadel\*\* with `C2E030\.json`: [\d,]+ turns\.$/);
    const jsonl = '{"speaker":"Aria","text":"Home at last."}\n{"speaker":"Brom","text":"Ale!"}\n';
    const again = await finished('update', { transcript: text('transcript.jsonl', jsonl) }, h.users.gm, /^Replaced/, h.channels.general);
    expect(lastText(again)).toBe('Replaced the story of **Sunless Citadel** with `transcript.jsonl`: 2 turns.');
    expect((await h.limner.campaigns.load('sunless-citadel')).transcript.entries.map((e) => e.speaker)).toEqual(['Aria', 'Brom']);
  });

  it("refuses to update a campaign this server did not upload, such as the operator's", async () => {
    const r = await run('update', { transcript: text('more.txt', 'Aria: Again.\n') }, h.users.gm);
    expect([privately(r), lastText(r)]).toEqual([
      true,
      "This channel's campaign `kraghammer` was not made with `/scene new` in this server, so its story cannot be replaced from Discord. Make your own with `/scene new name:<..> transcript:<file>`.",
    ]);
  });
});

describe('/scene help', () => {
  it('in an unlinked channel: not linked, the commands, the budget left, and who can link', async () => {
    const lobby = await h.discord.addThread({ parentId: h.channels.campaign, name: 'lobby' });
    await vi.waitFor(() => expect(h.bot.client.channels.cache.has(lobby.id)).toBe(true));
    const r = await run('help', {}, h.users.ana, lobby.id);
    expect(privately(r)).toBe(true);
    const embed = r.original!.embeds[0]!;
    const [state, blank, heading, ...commands] = (embed.description as string).split('\n');
    expect([state, blank, heading]).toEqual([
      'This channel is **not linked** to a campaign yet, so there is nothing to illustrate here.',
      '',
      '**Commands**',
    ]);
    for (const sub of ['current', 'turn', 'best', 'settings', 'new', 'update', 'help']) {
      expect(commands.some((line) => line.startsWith(`\`/scene ${sub}\`: `))).toBe(true);
    }
    expect(embed.fields.find((f: { name: string }) => f.name === 'Today')!.value).toMatch(
      /^This server: \d+ pictures left · \$[\d.]+ left\nYou: no limit\n/,
    );
    expect(embed.fields.find((f: { name: string }) => f.name === 'Getting started')!.value).toMatch(
      /^Someone with \*\*Manage Server\*\* can do this:/,
    );
  });

  it('in a linked channel: which campaign; for play-by-post: the channel is the story', async () => {
    const linked = await run('help', {}, h.users.gm);
    expect(linked.original!.embeds[0]!.description).toMatch(
      /^This channel illustrates \*\*Arrival at Kraghammer\*\* \(`kraghammer`, 2,160 turns\)/,
    );
    expect(linked.original!.embeds[0]!.fields.find((f: { name: string }) => f.name === 'Another campaign')!.value).toMatch(
      /^`\/scene link campaign:<id>`/,
    );
    await finished('link', { source: 'channel' }, h.users.gm, /turns? so far/, h.channels.general);
    const story = await run('help', {}, h.users.bo, h.channels.general);
    expect(story.original!.embeds[0]!.description).toMatch(/^This channel is \*\*play-by-post\*\*/);
  });
});

describe('unlinked channels', () => {
  it('point to /scene new and /scene help', () => {
    expect(NOT_LINKED).toContain('`/scene new`');
  });
});
