import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import JSZip from 'jszip';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHOOSE_CAMPAIGN } from '../../commands/errors.ts';
import { NO_PICTURES } from '../../commands/scene/gallery.ts';
import { parseCampaignId } from '../../src/campaigns/id.ts';
import { MANIFEST_NAME, type Manifest } from '../../src/exports/export.ts';
import { STORYBOOK_NAME } from '../../src/exports/storybook.ts';
import type { NewImage } from '../../src/images/store.ts';
import type { ImageRow } from '../../src/platform/schema.ts';
import type { EmulatorUser, InteractionResult, StoredMessage } from '../emulators/discord/types.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';

const kraghammer = parseCampaignId('kraghammer');
let h: BotHarness;
let rows: ImageRow[];

/** A PNG of random pixels (about width x height x 3 bytes: noise does not compress). */
async function noise(width: number, height: number) {
  const png = await sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  return { png, width, height };
}

beforeAll(async () => {
  h = await startBotHarness();
  await (await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.gm })).waitUntil((r) => Boolean(r.original));
  // 27 pictures written straight through the image store: turns 1-24, two more of turn 5 (current),
  // one edit, and one picture too large for the export test's upload limit.
  const base: NewImage = {
    campaignId: kraghammer,
    turn: 1,
    mode: 'specific',
    prompt: '',
    provider: 'gemini',
    model: 'gemini-3.1-flash-image',
    textModel: 'gemini-3.5-flash',
    inputTokens: 10,
    outputTokens: 1120,
    costUsd: 0.04,
    requestedBy: h.users.ana.id,
  };
  const specs: Array<Partial<NewImage> & { size?: [number, number] }> = [
    ...Array.from({ length: 24 }, (_, i) => ({ turn: i + 1, mode: (i === 4 ? 'current' : 'specific') as NewImage['mode'] })),
    { turn: 5, mode: 'current', requestedBy: h.users.bo.id },
    { turn: 5, mode: 'current', requestedBy: h.users.bo.id },
    { turn: 20, mode: 'specific', size: [300, 200], requestedBy: h.users.bo.id },
  ];
  for (const spec of specs) {
    const [w, h2] = spec.size ?? [120, 68];
    await h.limner.images.save(await noise(w, h2), {
      ...base,
      prompt: `A scene of turn ${spec.turn}, lantern light on wet stone.`,
      ...spec,
    });
  }
  const first = (await h.limner.images.list(kraghammer))[0]!;
  await h.limner.images.save(await noise(120, 68), {
    ...base,
    turn: 1,
    mode: 'edit',
    parentImageId: first.id,
    prompt: 'Make it night.',
    textModel: null,
  });
  rows = await h.limner.images.list(kraghammer);
}, 60_000);
afterAll(async () => {
  await h?.close();
});

const bytesAt = async (url: string) => Buffer.from(await (await fetch(url)).arrayBuffer());
const png = (row: ImageRow) => readFileSync(h.limner.images.location(row.imagePath));

/** `/scene gallery` with typed options (the harness only sends strings and integers). */
function gallery(
  options: Array<{ name: string; type: number; value: string | number | boolean }>,
  opts: { user?: EmulatorUser; channelId?: string } = {},
) {
  return h.discord.sendCommand({
    guildId: h.guildId,
    channelId: opts.channelId ?? h.channels.campaign,
    user: opts.user ?? h.users.ana,
    name: 'scene',
    options: [{ type: 1, name: 'gallery', options }],
  });
}
const shown = (r: InteractionResult) => Boolean(r.original?.attachments.length) || r.ephemeral;
const selectOf = (m: StoredMessage) => m.components[0].components[0];
const buttonsOf = (m: StoredMessage) =>
  (m.components[1]?.components ?? []) as Array<{ custom_id: string; disabled?: boolean; label: string }>;

describe('/scene gallery', () => {
  it('posts a labelled contact sheet, pages through it and opens one picture full size', async () => {
    const r = await (await gallery([])).waitUntil(shown, 15_000);
    const message = r.original!;
    expect(r.ephemeral).toBe(false);
    expect(message.content).toBe('**Arrival at Kraghammer** · 28 pictures · page 1 of 3');
    expect(message.attachments.map((a) => a.filename)).toEqual(['Arrival_at_Kraghammer_gallery_page1.jpg']);
    const sheet = await sharp(await bytesAt(message.attachments[0]!.url)).metadata();
    expect([sheet.format, sheet.width, sheet.height]).toEqual(['jpeg', 1340, 3 * 210 + 4 * 12]);
    const select = selectOf(message);
    expect(select.custom_id).toBe('gallery-open');
    expect(select.options.map((o: { label: string }) => o.label)).toEqual([
      'Turn 1 · specific',
      'Turn 1 · edit',
      'Turn 2 · specific',
      'Turn 3 · specific',
      'Turn 4 · specific',
      'Turn 5 · current',
      'Turn 5 · current',
      'Turn 5 · current',
      'Turn 6 · specific',
      'Turn 7 · specific',
      'Turn 8 · specific',
      'Turn 9 · specific',
    ]);
    expect(select.options[0].description).toBe('A scene of turn 1, lantern light on wet stone.');
    expect(buttonsOf(message).map((b) => [b.custom_id, Boolean(b.disabled)])).toEqual([
      ['gallery:kraghammer::0', true],
      ['gallery:kraghammer::2', false],
    ]);

    const next = await h.discord.clickButton({
      guildId: h.guildId,
      channelId: h.channels.campaign,
      user: h.users.bo,
      messageId: message.id,
      customId: 'gallery:kraghammer::2',
    });
    const paged = await next.waitUntil((x) => x.history.some((s) => s.content.endsWith('page 2 of 3')), 15_000);
    expect(paged.callbacks[0]!.type).toBe(6);
    const page2 = h.discord.message(message.id)!;
    expect(page2.attachments.map((a) => a.filename)).toEqual(['Arrival_at_Kraghammer_gallery_page2.jpg']);
    expect(selectOf(page2).options.map((o: { value: string }) => o.value)).toEqual(rows.slice(12, 24).map((x) => x.id));
    expect(buttonsOf(page2).map((b) => [b.custom_id, Boolean(b.disabled)])).toEqual([
      ['gallery:kraghammer::1', false],
      ['gallery:kraghammer::3', false],
    ]);

    const picked = rows.find((x) => x.turn === 5 && x.requestedBy === h.users.bo.id)!;
    const open = await h.discord.selectMenu({
      guildId: h.guildId,
      channelId: h.channels.campaign,
      user: h.users.gm,
      messageId: message.id,
      customId: 'gallery-open',
      values: [picked.id],
    });
    const box = await open.waitUntil((x) => Boolean(x.original?.embeds.length), 15_000);
    expect(box.ephemeral).toBe(true);
    const embed = box.original!.embeds[0];
    expect(embed.title).toBe('Turn 5 · current');
    expect(embed.description).toBe(picked.prompt);
    expect(embed.fields).toEqual([
      { name: 'Campaign', value: 'Arrival at Kraghammer', inline: true },
      { name: 'Creator', value: `<@${h.users.bo.id}>`, inline: true },
      { name: 'Created', value: `<t:${Math.floor(Date.parse(picked.createdAt) / 1000)}:f>`, inline: true },
    ]);
    const attachment = box.original!.attachments[0]!;
    expect(attachment.filename).toBe('Arrival_at_Kraghammer_turn_5_current.png');
    expect(embed.image.url).toBe(attachment.url);
    expect(await bytesAt(attachment.url)).toEqual(png(picked));
  });

  it('filters to the caller with mine, starts at a page, and clamps a page past the end', async () => {
    const mine = await (await gallery([{ name: 'mine', type: 5, value: true }], { user: h.users.bo })).waitUntil(shown, 15_000);
    expect(mine.original!.content).toBe(`**Arrival at Kraghammer** · 3 pictures by <@${h.users.bo.id}> · page 1 of 1`);
    expect(mine.original!.components).toHaveLength(1);
    const none = await (await gallery([{ name: 'mine', type: 5, value: true }], { user: h.users.gm })).waitUntil(shown);
    expect([none.ephemeral, none.original!.content]).toEqual([true, 'You have no pictures in this campaign yet: try /scene current.']);
    const last = await (await gallery([{ name: 'page', type: 4, value: 99 }])).waitUntil(shown, 15_000);
    expect(last.original!.content).toBe('**Arrival at Kraghammer** · 28 pictures · page 3 of 3');
    expect(selectOf(last.original!).options.map((o: { value: string }) => o.value)).toEqual(rows.slice(24).map((x) => x.id));
  });

  it('browses another campaign from an unlinked channel, and says how when no campaign is given', async () => {
    const hint = await (await gallery([], { channelId: h.channels.general })).waitUntil(shown);
    expect([hint.ephemeral, hint.original!.content]).toEqual([true, CHOOSE_CAMPAIGN]);
    const choices = await h.autocomplete('gallery', { name: 'campaign', value: 'krag', type: 3 }, { channelId: h.channels.general });
    expect(choices.autocompleteChoices).toEqual([{ name: 'Arrival at Kraghammer (28 images)', value: 'kraghammer' }]);
    const other = await (
      await gallery([{ name: 'campaign', type: 3, value: 'kraghammer' }], { channelId: h.channels.general })
    ).waitUntil(shown, 15_000);
    expect(other.original!.content).toBe('**Arrival at Kraghammer** · 28 pictures · page 1 of 3');

    await h.limner.campaigns.create('empty-vault', { name: 'Empty Vault', art_style: 'ink' }, [
      { turn: 1, speaker: 'GM', text: 'Silence.' },
    ]);
    const empty = await (await gallery([{ name: 'campaign', type: 3, value: 'empty-vault' }])).waitUntil(shown);
    expect([empty.ephemeral, empty.original!.content]).toEqual([true, NO_PICTURES]);
    const unknown = await (await gallery([{ name: 'campaign', type: 3, value: 'nowhere' }])).waitUntil(shown);
    expect(unknown.original!.content).toBe('No campaign named "nowhere".');
  });
});

describe('/scene export', () => {
  it('answers an empty or unknown campaign, or an unlinked channel without one, privately', async () => {
    const r = await (await h.scene('export', { campaign: 'empty-vault' })).waitUntil((x) => Boolean(x.original));
    expect([r.ephemeral, r.original!.content]).toEqual([true, 'No pictures to download.']);
    const unknown = await (await h.scene('export', { campaign: 'nowhere' })).waitUntil((x) => Boolean(x.original));
    expect([unknown.ephemeral, unknown.original!.content]).toEqual([true, 'No campaign named "nowhere".']);
    const unlinked = await (await h.scene('export', {}, { channelId: h.channels.general })).waitUntil((x) => Boolean(x.original));
    expect([unlinked.ephemeral, unlinked.original!.content]).toEqual([true, CHOOSE_CAMPAIGN]);
  });

  it('splits a campaign into zips under the upload limit, ten per message, with seed names, a manifest and the PNGs byte for byte', async () => {
    // Two pictures and the storybook page (the whole story: about 25 kB) to a zip.
    const limit = 90_000;
    const r = await (
      await h.scene('export', {}, { attachmentSizeLimit: limit })
    ).waitUntil((x) => Boolean(x.original?.content.startsWith('Exported')), 30_000);
    expect(r.ephemeral).toBe(false);
    expect(r.history[0]!.content).toMatch(/^Packing 0\/28 images\.\.\. part 1 of 1\d$/);
    const zips = r.followUps.filter((m) => m.attachments.length > 0);
    const all = zips.flatMap((m) => m.attachments);
    const n = all.length;
    expect(n).toBeGreaterThan(10);
    expect(zips.map((m) => m.attachments.length)).toEqual([10, n - 10]);
    expect(zips.map((m) => m.content)).toEqual([`Parts 1-10 of ${n}`, `Parts 11-${n} of ${n}`]);
    expect(all.map((a) => a.filename)).toEqual(Array.from({ length: n }, (_, k) => `Arrival_at_Kraghammer_images_part${k + 1}of${n}.zip`));
    expect(r.original!.content).toMatch(
      new RegExp(
        `^Exported 28 pictures of \\*\\*Arrival at Kraghammer\\*\\* in ${n} zips \\([\\d.]+ MB\\) below\\. .+\\n1 picture is larger than Discord's upload limit here, so the zip has a high-quality JPEG`,
      ),
    );

    const files = new Map<string, Buffer>();
    const manifests: Manifest[] = [];
    for (const a of all) {
      expect(a.size).toBeLessThanOrEqual(limit);
      const zip = await JSZip.loadAsync(await bytesAt(a.url));
      const manifest = JSON.parse(await zip.file(MANIFEST_NAME)!.async('string')) as Manifest;
      expect(Object.keys(zip.files)).toEqual([...manifest.images.map((m) => m.file), STORYBOOK_NAME, MANIFEST_NAME]);
      for (const m of manifest.images) files.set(m.file, await zip.file(m.file)!.async('nodebuffer'));
      manifests.push(manifest);
    }
    const entries = manifests.flatMap((m) => m.images);
    expect(entries.map((e) => e.id)).toEqual(rows.map((x) => x.id));
    expect([...files.keys()]).toEqual(
      expect.arrayContaining([
        'Arrival_at_Kraghammer_turn_5_current.png',
        'Arrival_at_Kraghammer_turn_5_current_2.png',
        'Arrival_at_Kraghammer_turn_5_current_3.png',
        'Arrival_at_Kraghammer_turn_1_edit.png',
        'Arrival_at_Kraghammer_turn_20_specific.png',
        'Arrival_at_Kraghammer_turn_20_specific_2.jpg',
      ]),
    );
    for (const [i, row] of rows.entries()) {
      const entry = entries[i]!;
      expect(entry).toMatchObject({
        id: row.id,
        turn: row.turn,
        mode: row.mode,
        prompt: row.prompt,
        model: row.model,
        creator: row.requestedBy,
        createdAt: row.createdAt,
      });
      if (entry.format === 'png') expect(files.get(entry.file)).toEqual(png(row));
    }
    const edit = entries.find((e) => e.mode === 'edit')!;
    expect(edit.parent).toEqual({ id: rows[0]!.id, file: 'Arrival_at_Kraghammer_turn_1_specific.png' });
    const big = entries.find((e) => e.format === 'jpeg')!;
    expect(big.note).toMatch(/is included as a JPEG; the original PNG is kept on the server/);
    expect((await sharp(files.get(big.file)!).metadata()).format).toBe('jpeg');
  });
});
