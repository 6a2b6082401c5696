import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCrd3Episode, CRD3_ATTRIBUTION } from '../../src/campaigns/crd3.ts';
import { createLimner } from '../../src/app.ts';
import { loadPortraits, presentCharacters } from '../../src/images/references.ts';
import { silentLogger } from '../../src/platform/log.ts';
import type { TranscriptEntry } from '../../src/campaigns/transcript.ts';
import type { InteractionResult, StoredMessage } from '../emulators/discord/types.ts';
import { GeminiEmulator, type RecordedRequest } from '../emulators/gemini/server.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';
import { castScript, isCastCall, VOX_MACHINA } from '../support/cast-script.ts';
import { CRD3_DIR, ROOT, sampleCampaigns, testConfig, sqliteOf } from '../support/fixtures.ts';
import { requestText } from '../support/scanner-script.ts';

// CRD3's C1E001 excerpt (CC BY-SA 4.0; see test/fixtures/crd3/ATTRIBUTION.md), imported without characters.
const CAMPAIGN = 'vox';
const SCANLAN_EDITED = 'small gnome bard in a purple velvet coat with gold buttons, a feathered cap and a silver hand crossbow';

async function importEpisode(create: (id: string, def: object, entries: readonly TranscriptEntry[]) => Promise<string>) {
  const episode = await readCrd3Episode(path.join(CRD3_DIR, 'C1E001.json'));
  await create(CAMPAIGN, { name: 'Vox Machina', attribution: CRD3_ATTRIBUTION }, episode.entries);
  return episode.entries;
}

/** The first turn whose ±`radius` window names every one of `names` (the story's own words). */
function turnNaming(entries: readonly TranscriptEntry[], names: readonly string[], radius = 5): number {
  const turn = entries.find((e) => {
    const text = entries
      .filter((x) => Math.abs(x.turn - e.turn) <= radius)
      .map((x) => x.text)
      .join('\n');
    return names.every((n) => new RegExp(`\\b${n}\\b`).test(text));
  })?.turn;
  if (turn === undefined) throw new Error(`no window names ${names.join(', ')}`);
  return turn;
}

const inlineImages = (r: RecordedRequest): Buffer[] =>
  (r.body.contents[0].parts as Array<{ inlineData?: { data: string } }>).flatMap((p) =>
    p.inlineData ? [Buffer.from(p.inlineData.data, 'base64')] : [],
  );

describe('/scene cast through the bot', () => {
  let h: BotHarness;
  let entries: readonly TranscriptEntry[];
  const EPHEMERAL = 64;
  const imageCalls = () => h.gemini.requests.filter((r) => r.model === h.limner.config.generation.image_model);
  const castCalls = () => h.gemini.requests.filter(isCastCall);
  const answered = (r: InteractionResult) =>
    r.callbacks.length > 0 && (Boolean(r.original?.content || r.original?.embeds.length) || r.followUps.length > 0);
  const withPicture = (r: InteractionResult) => Boolean(r.original?.attachments.length) || r.followUps.length > 0;
  const click = (message: StoredMessage, customId: string) =>
    h.discord.clickButton({ guildId: h.guildId, channelId: h.channels.general, user: h.users.gm, messageId: message.id, customId });
  const member = async (name: string) => (await h.limner.cast.members(CAMPAIGN)).find((m) => m.name === name)!;

  beforeAll(async () => {
    h = await startBotHarness({ generation: { scanner_token_limit: 8000 } });
    entries = await importEpisode((id, def, e) => h.limner.campaigns.create(id, def as never, e));
    await (
      await h.scene('link', { campaign: CAMPAIGN }, { user: h.users.gm, channelId: h.channels.general })
    ).waitUntil((r) => Boolean(r.original));
    h.gemini.onText(castScript());
  });
  afterAll(async () => {
    await h?.close();
  });

  let proposal: InteractionResult;

  it('needs Manage Server', async () => {
    const r = await (await h.scene('cast', {}, { channelId: h.channels.general })).waitUntil(answered);
    expect([r.ephemeral, r.original!.content]).toEqual([true, 'Only members with **Manage Server** can manage the cast.']);
    expect(h.gemini.requests).toHaveLength(0);
  });

  it("proposes the story's characters, not the players, privately with Accept, Edit and Drop for each", async () => {
    proposal = await (
      await h.scene('cast', {}, { user: h.users.gm, channelId: h.channels.general })
    ).waitUntil((r) => r.followUps.length > 0, 15_000);
    expect(proposal.ephemeral).toBe(true);
    const calls = castCalls();
    expect(calls.length).toBeGreaterThan(1);
    expect(calls.every((c) => c.body.generationConfig.responseJsonSchema.properties.characters)).toBe(true);
    const content = proposal.original!.content;
    expect(content).toMatch(/^\*\*Cast of Vox Machina\*\*: 7 characters from 300 turns \(\d+ passages\)\./);
    const shown = [proposal.original!, ...proposal.followUps].flatMap((m) => m.embeds.map((e: { title: string }) => e.title));
    expect(shown.sort()).toEqual(
      Object.keys(VOX_MACHINA)
        .map((n) => `${n} · proposed`)
        .sort(),
    );
    expect(shown.some((t) => /TRAVIS|MATT/.test(t))).toBe(false);
    expect(proposal.followUps[0]!.flags & EPHEMERAL).toBe(EPHEMERAL);
    const grog = await member('Grog');
    expect(
      proposal.original!.components.flatMap((row: { components: Array<{ custom_id: string }> }) => row.components.map((c) => c.custom_id)),
    ).toContain(`cast-accept:${grog.id}`);
    // Proposed characters are not yet in the campaign's characters.
    expect((await h.limner.campaigns.load(CAMPAIGN)).characters).toEqual([]);
  });

  it('accepts one (painting its portrait), edits one (a modal pre-filled) and drops one', async () => {
    const page = (name: string) =>
      [proposal.original!, ...proposal.followUps].find((m) => m.embeds.some((e: { title: string }) => e.title.startsWith(name)))!;
    h.gemini.reset();
    const accepted = await (await click(page('Grog'), `cast-accept:${(await member('Grog')).id}`)).waitUntil(withPicture, 15_000);
    expect(accepted.ephemeral).toBe(true);
    expect(accepted.original!.content).toBe('**Grog** is in the cast; this portrait goes with every scene they are in.');
    expect(accepted.original!.attachments).toHaveLength(1);
    expect(imageCalls()).toHaveLength(1);
    const portraitCall = imageCalls()[0]!;
    expect(portraitCall.body.generationConfig.imageConfig.aspectRatio).toBe('3:4');
    expect(requestText(portraitCall)).toContain(VOX_MACHINA.Grog);
    expect(requestText(portraitCall)).not.toContain('Grog');

    const scanlan = await member('Scanlan');
    const opened = await (await click(page('Scanlan'), `cast-edit:${scanlan.id}`)).waitUntil((r) => Boolean(r.modal));
    expect(JSON.stringify(opened.modal)).toContain(VOX_MACHINA.Scanlan);
    const edited = await (
      await h.discord.submitModal({
        guildId: h.guildId,
        channelId: h.channels.general,
        user: h.users.gm,
        customId: `cast-edit-modal:${scanlan.id}`,
        fields: { description: SCANLAN_EDITED },
      })
    ).waitUntil(withPicture, 15_000);
    expect(edited.original!.embeds[0].description).toBe(SCANLAN_EDITED);
    expect(requestText(imageCalls()[1]!)).toContain(SCANLAN_EDITED);

    const dropped = await (await click(page('Pike'), `cast-drop:${(await member('Pike')).id}`)).waitUntil(answered);
    expect(dropped.original!.content).toMatch(/^Dropped \*\*Pike\*\* from the cast/);
    expect((await member('Pike')).status).toBe('dropped');

    const characters = (await h.limner.campaigns.load(CAMPAIGN)).characters;
    expect(characters.map((c) => [c.name, c.description, Boolean(c.referenceImage ?? c.storedPortrait)])).toEqual([
      ['Grog', VOX_MACHINA.Grog, true],
      ['Scanlan', SCANLAN_EDITED, true],
    ]);
    // Portraits are pictures of their own kind: billed, but not in the gallery's scenes.
    expect(await h.limner.images.list(CAMPAIGN as never)).toEqual([]);
    const usage = sqliteOf(h.limner.store)
      .prepare("select count(*) as n, sum(images) as pictures from usage where purpose = 'portrait'")
      .get();
    expect(usage).toEqual({ n: 2, pictures: 2 });
  });

  it('a second /scene cast reads nothing again and paints no new portrait', async () => {
    h.gemini.reset();
    const again = await (
      await h.scene('cast', {}, { user: h.users.gm, channelId: h.channels.general })
    ).waitUntil((r) => Boolean(r.original?.embeds.length), 15_000);
    expect(h.gemini.requests).toEqual([]);
    const titles = [again.original!, ...again.followUps].flatMap((m) => m.embeds.map((e: { title: string }) => e.title));
    expect(titles).toContain('Grog · in the cast, with a portrait');
    expect(titles).toContain('Scanlan · in the cast, with a portrait');
    expect(titles.some((t) => t.startsWith('Pike'))).toBe(false);
    const ids = again.original!.components.flatMap((row: { components: Array<{ custom_id: string; label: string }> }) => row.components);
    expect(ids).toContainEqual(
      expect.objectContaining({ custom_id: `cast-portrait:${(await member('Grog')).id}`, label: 'Reroll portrait' }),
    );
  });

  it('the next /scene turn sends the portraits and looks of the characters in the scene, and names them', async () => {
    h.gemini.reset();
    const turn = turnNaming(entries, ['Grog', 'Scanlan']);
    const r = await (await h.scene('turn', { number: turn }, { channelId: h.channels.general })).waitUntil(withPicture, 15_000);
    const campaign = await h.limner.campaigns.load(CAMPAIGN);
    const window = entries.filter((e) => Math.abs(e.turn - turn) <= h.limner.config.generation.turn_radius);
    const expected = presentCharacters(campaign.characters, window);
    expect(expected.map((c) => c.name).sort()).toEqual(['Grog', 'Scanlan']);
    const sent = inlineImages(imageCalls()[0]!);
    const portraits = await loadPortraits(expected, h.limner.config.generation.max_input_pixels, h.limner.images.storage);
    expect(sent).toEqual(portraits.map((p) => p.data));
    const prompt = requestText(h.gemini.requests.find((q) => q.model === h.limner.config.generation.text_model)!);
    expect(prompt).toContain(`- Grog: ${VOX_MACHINA.Grog}`);
    expect(prompt).toContain(`- Scanlan: ${SCANLAN_EDITED}`);
    expect(r.original!.embeds[0].fields).toContainEqual({
      name: 'Portraits referenced',
      value: expected.map((c) => c.name).join(', '),
    });
  });
});

describe('limner cast', () => {
  let emulator: GeminiEmulator;
  let campaigns: { dir: string; cleanup: () => void };
  let entries: readonly TranscriptEntry[];
  beforeAll(async () => {
    emulator = await GeminiEmulator.start();
    emulator.onText(castScript());
    campaigns = sampleCampaigns();
    const { config, secrets } = testConfig(campaigns.dir, emulator.url);
    const limner = await createLimner(config, secrets, silentLogger);
    entries = await importEpisode((id, def, e) => limner.campaigns.create(id, def as never, e));
    await limner.close();
  });
  afterAll(async () => {
    await emulator.close();
    campaigns.cleanup();
  });

  const cli = async (...args: string[]) =>
    (
      await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          GEMINI_API_KEY: 'test-key',
          LIMNER_GEMINI_BASE_URL: emulator.url,
          LIMNER_CAMPAIGNS_DIR: campaigns.dir,
          LIMNER_CONFIG: path.join(ROOT, 'test/support/test-config.yaml'),
        },
      })
    ).stdout;
  const lines = (stdout: string) =>
    stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const images = () => emulator.requests.filter((r) => r.model.includes('-image'));

  it('proposes, accepts with an edit and a drop, paints the portraits once, and the next scene uses them', async () => {
    const first = lines(
      await cli('cast', '--campaign', CAMPAIGN, '--describe', `Scanlan=${SCANLAN_EDITED}`, '--drop', 'Pike', '--accept', 'Grog', '--json'),
    );
    const byName = new Map(first.map((m) => [m.name, m]));
    expect(byName.get('Grog')).toMatchObject({ status: 'accepted', description: VOX_MACHINA.Grog, painted: true });
    expect(byName.get('Scanlan')).toMatchObject({ status: 'accepted', description: SCANLAN_EDITED, painted: true });
    expect(byName.get('Pike')).toMatchObject({ status: 'dropped', portrait: null });
    expect(byName.get('Keyleth')).toMatchObject({ status: 'proposed', portrait: null });
    expect(images()).toHaveLength(2);

    emulator.reset();
    emulator.onText(castScript());
    const second = lines(await cli('cast', '--campaign', CAMPAIGN, '--json'));
    expect(emulator.requests).toEqual([]);
    expect(second.find((m) => m.name === 'Grog')).toMatchObject({ painted: false, portrait: byName.get('Grog')!.portrait });
    expect(second.some((m) => m.name === 'Pike')).toBe(false);

    const turn = turnNaming(entries, ['Grog', 'Scanlan']);
    const scene = lines(await cli('scene', 'turn', String(turn), '--campaign', CAMPAIGN, '--json'))[0]!;
    expect([...(scene.referenced as string[])].sort()).toEqual(['Grog', 'Scanlan']);
    expect(inlineImages(images()[0]!)).toHaveLength(2);
    const prompt = requestText(emulator.requests.find((r) => !r.model.includes('-image'))!);
    expect(prompt).toContain(`- Scanlan: ${SCANLAN_EDITED}`);
  }, 60_000);
});
