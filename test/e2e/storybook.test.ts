import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHOOSE_CAMPAIGN } from '../../commands/errors.ts';
import { STORYBOOK_NAME } from '../../src/exports/storybook.ts';
import type { InteractionResult } from '../emulators/discord/types.ts';
import { startBotHarness, type BotHarness } from '../support/bot-harness.ts';

const answered = (r: InteractionResult) => Boolean(r.original);
const painted = (r: InteractionResult) => Boolean(r.original?.attachments.length);

describe('/scene storybook with serving on', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness({ storybook: { port: 0 } });
    await h.limner.storybook!.start();
    await (await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.gm })).waitUntil(answered);
  });
  afterAll(async () => {
    await h?.limner.storybook?.close();
    await h?.close();
  });

  it('answers privately with a signed link to the page of the pictures the emulator painted, which a tampered link does not open', async () => {
    const none = await (await h.scene('storybook')).waitUntil(answered);
    expect([none.ephemeral, none.original!.content]).toEqual([true, 'No pictures to download.']);
    await (await h.scene('turn', { number: 12 })).waitUntil(painted, 20_000);
    await (await h.scene('turn', { number: 3 })).waitUntil(painted, 20_000);

    const r = await (await h.scene('storybook')).waitUntil(answered);
    expect(r.ephemeral).toBe(true);
    const url = /(http:\/\/127\.0\.0\.1:\d+\/campaigns\/kraghammer\/\?exp=\d+&sig=[\w-]+)/.exec(r.original!.content)![1]!;
    expect(r.original!.content).toMatch(
      /^The storybook of \*\*Arrival at Kraghammer\*\*: .+\nThe link is yours to share; it works until <t:\d+:F>\.$/,
    );
    const page = await (await fetch(url)).text();
    expect([...page.matchAll(/<h2>Turn (\d+)/g)].map((m) => m[1])).toEqual(['3', '12']);
    const src = /<img src="([^"]+)"/.exec(page)![1]!.replaceAll('&#38;', '&');
    expect(src).toMatch(/^Arrival_at_Kraghammer_turn_3_specific\.png\?exp=/);
    const picture = await fetch(new URL(src, url));
    expect([picture.status, picture.headers.get('content-type')]).toEqual([200, 'image/png']);
    expect((await fetch(url.replace('/kraghammer/', '/other/'))).status).toBe(404);
    expect((await fetch(url.replace(/exp=\d+/, 'exp=99999999999'))).status).toBe(404);

    const unlinked = await (await h.scene('storybook', {}, { channelId: h.channels.general })).waitUntil(answered);
    expect([unlinked.ephemeral, unlinked.original!.content]).toEqual([true, CHOOSE_CAMPAIGN]);
  });

  it('puts storybook.html in every zip of /scene export', async () => {
    const r = await (await h.scene('export')).waitUntil((x) => Boolean(x.original?.content.startsWith('Exported')), 20_000);
    const zips = r.followUps.flatMap((m) => m.attachments);
    expect(zips).toHaveLength(1);
    const zip = await JSZip.loadAsync(Buffer.from(await (await fetch(zips[0]!.url)).arrayBuffer()));
    const page = await zip.file(STORYBOOK_NAME)!.async('string');
    for (const src of page.matchAll(/<img src="([^"]+)"/g)) expect(zip.file(src[1]!)).not.toBeNull();
    expect(page).toContain('<b class="speaker" dir="auto">');
    expect(r.original!.content).toContain('Each zip has storybook.html');
  });
});

describe('/scene storybook with serving off (the default)', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness();
    await (await h.scene('link', { campaign: 'kraghammer' }, { user: h.users.gm })).waitUntil(answered);
  });
  afterAll(() => h?.close());

  it('says privately that storybooks are not served here', async () => {
    expect(h.limner.storybook).toBeNull();
    const r = await (await h.scene('storybook')).waitUntil(answered);
    expect([r.ephemeral, r.original!.content]).toEqual([
      true,
      'Storybook pages are not served here; the operator can switch them on with the storybook.port setting.',
    ]);
  });
});
