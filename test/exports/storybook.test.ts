import { VAULT_SCENE } from '../support/images.ts';
import { ConfigError } from '../../src/platform/errors.ts';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CampaignRepository } from '../../src/campaigns/repository.ts';
import { parseCampaignId } from '../../src/campaigns/id.ts';
import { planExport, writeExport } from '../../src/exports/export.ts';
import { safeCampaignName } from '../../src/exports/names.ts';
import { signStorybook, StorybookServer, storybookServer, verifyStorybook } from '../../src/exports/serve.ts';
import { escapeHtml, readStory, shortQuote, STORYBOOK_NAME } from '../../src/exports/storybook.ts';
import type { NewImage } from '../../src/images/store.ts';
import { silentLogger } from '../../src/platform/log.ts';
import type { ImageRow } from '../../src/platform/schema.ts';
import { HAS_CHROMIUM, launchChromium, NO_CHROMIUM, unzipTo } from '../support/browser.ts';
import { openTempImageStore, ROOT, testConfig, type TempImageStore } from '../support/fixtures.ts';

const vault = parseCampaignId('vault');
/** Markup, both quotes, an ampersand and right-to-left text: all must read as the words they are. */
const HOSTILE_NAME = `<script>alert("name")</script> "Vault" of 'Ages' & שלום`;
const HOSTILE_SPEAKER = `<img src=x onerror="alert('speaker')">`;
const RTL_SPEAKER = 'דני';
const HOSTILE_PROMPT = `</details></figure><script>alert("prompt")</script> a "vault" & 'door' in the dark`;
const TRANSCRIPT = [
  { turn: 1, speaker: 'MATT', text: 'You arrive at the gates of the vault.   The door is black iron.' },
  { turn: 2, speaker: HOSTILE_SPEAKER, text: `"Open it" & <b>now</b>, whispers the wind.` },
  { turn: 3, speaker: RTL_SPEAKER, text: 'שלום, אני כאן. </q></blockquote><script>alert(3)</script>' },
  { turn: 4, speaker: 'MATT', text: 'The torches gutter.' },
  { turn: 5, speaker: 'MATT', text: 'Silence.' },
  { turn: 6, speaker: 'MATT', text: 'The end.' },
];
const SECRET = 'storybook-test-secret-0123456789abcdef';
/** The campaign's name in file names. */
const SAFE = safeCampaignName(HOSTILE_NAME, vault);

const base: NewImage = { ...VAULT_SCENE, turn: 1 };

/** A PNG of random pixels: it does not compress, so its size is about width x height x 3 bytes. */
async function noisePng(width = 96, height = 54) {
  const png = await sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
  return { png, width, height };
}

let t: TempImageStore;
let campaigns: CampaignRepository;
beforeEach(async () => {
  t = openTempImageStore();
  campaigns = new CampaignRepository(t.dir);
  await campaigns.create(vault, { name: HOSTILE_NAME, attribution: 'Transcript by the Vault Society, CC BY-SA 4.0 «ok»' }, TRANSCRIPT);
});
afterEach(() => t.close());

/** Pictures of turns 3, 1, 2 (made in that order), an edit of turn 1's and an edit of that edit. */
async function seedStory(): Promise<ImageRow[]> {
  await t.images.save(await noisePng(), { ...base, turn: 3, prompt: HOSTILE_PROMPT });
  const one = await t.images.save(await noisePng(), { ...base, turn: 1 });
  await t.images.save(await noisePng(), { ...base, turn: 2, mode: 'current', requestedBy: '310000000000000002' });
  const edit = await t.images.save(await noisePng(), { ...base, mode: 'edit', prompt: 'Make it <night>', parentImageId: one.id });
  await t.images.save(await noisePng(), { ...base, mode: 'edit', prompt: 'Add rain', parentImageId: edit.id });
  return t.images.list(vault);
}

async function exportPlan(rows: readonly ImageRow[], maxPartBytes?: number) {
  const { attribution, quotes } = await readStory(
    campaigns,
    vault,
    rows.map((r) => r.turn),
  );
  return planExport({
    campaign: { id: vault, name: HOSTILE_NAME, attribution },
    images: rows,
    quotes,
    storage: t.images.storage,
    ...(maxPartBytes ? { maxPartBytes } : {}),
  });
}

/** Writes the zips and unzips each into a folder named after it, as a file manager does. */
async function exportAndUnzip(rows: readonly ImageRow[], maxPartBytes?: number) {
  const plan = await exportPlan(rows, maxPartBytes);
  const zips = await writeExport(plan, path.join(t.dir, 'zips'));
  const folders: string[] = [];
  for (const zip of zips) {
    const folder = path.join(t.dir, 'unzipped', path.basename(zip, '.zip'));
    await unzipTo(readFileSync(zip), folder);
    folders.push(folder);
  }
  return { plan, folders };
}

describe('the storybook page', () => {
  it('escapes markup, quotes and ampersands, and shortens quotes at a word', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
    expect(shortQuote('  a\n\n b  ')).toBe('a b');
    const long = shortQuote('word '.repeat(100));
    expect(long.length).toBeLessThanOrEqual(240);
    expect(long).toMatch(/word…$/);
  });

  it('holds no markup from names, quotes or prompts, and shows the pictures in turn order with their edits under them', async () => {
    const rows = await seedStory();
    const plan = await exportPlan(rows);
    const page = plan.parts[0]!.page;
    expect(page).not.toMatch(/<script|<img src=x|<b>now/);
    expect(page).toContain('&#60;img src=x onerror=&#34;alert(&#39;speaker&#39;)&#34;&#62;');
    expect(page).toContain(escapeHtml(HOSTILE_NAME));
    expect(page).toContain(escapeHtml(HOSTILE_PROMPT));
    const order = [...page.matchAll(/<h2>Turn (\d+)/g)].map((m) => Number(m[1]));
    expect(order).toEqual([1, 2, 3]);
    const srcs = [...page.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]);
    expect(srcs).toEqual([
      `${SAFE}_turn_1_specific.png`,
      `${SAFE}_turn_1_edit.png`,
      `${SAFE}_turn_1_edit_2.png`,
      `${SAFE}_turn_2_current.png`,
      `${SAFE}_turn_3_specific.png`,
    ]);
    expect(page).toContain('Edited 2 times');
  });
});

describe('signed storybook links', () => {
  it('accept their own campaign until they expire, nothing else', () => {
    const now = Date.UTC(2026, 0, 1);
    const exp = now / 1000 + 60;
    const query = (sig: string, e = exp) => new URLSearchParams({ exp: String(e), sig });
    const sig = signStorybook(SECRET, 'vault', exp);
    expect(verifyStorybook(SECRET, 'vault', query(sig), now)).toBe(true);
    expect(verifyStorybook(SECRET, 'vault', query(sig), now + 61_000)).toBe(false);
    expect(verifyStorybook(SECRET, 'other', query(sig), now)).toBe(false);
    expect(verifyStorybook(SECRET, 'vault', query(sig, exp + 1), now)).toBe(false);
    expect(verifyStorybook(SECRET, 'vault', query(`${sig.slice(0, -2)}AA`), now)).toBe(false);
    expect(verifyStorybook(`${SECRET}x`, 'vault', query(sig), now)).toBe(false);
    expect(verifyStorybook(SECRET, 'vault', new URLSearchParams(), now)).toBe(false);
  });

  it('are refused by configuration without a long enough secret, and serving is off by default', () => {
    const { config, secrets } = testConfig(t.dir, 'http://127.0.0.1:9');
    const deps = { campaigns, images: t.images, log: silentLogger };
    expect(config.storybook).toEqual({ port: null, host: '127.0.0.1', public_url: null, link_ttl_s: 604800 });
    expect(storybookServer(config, secrets, deps)).toBeNull();
    const on = { ...config, storybook: { ...config.storybook, port: 0 } };
    expect(() => storybookServer(on, { ...secrets, storybookSecret: 'short' }, deps)).toThrow(ConfigError);
    expect(storybookServer(on, { ...secrets, storybookSecret: SECRET }, deps)).toBeInstanceOf(StorybookServer);
  });
});

describe('serving storybooks', () => {
  let server: StorybookServer;
  beforeEach(async () => {
    server = new StorybookServer({
      settings: { port: 0, host: '127.0.0.1', public_url: null, link_ttl_s: 3600 },
      secret: SECRET,
      campaigns,
      images: t.images,
      log: silentLogger,
    });
    await server.start();
  });
  afterEach(() => server.close());

  it('answers a signed link with the page and its pictures, and 404 to unsigned, tampered, expired or other links', async () => {
    await seedStory();
    const { url } = server.link(vault);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    const query = new URL(url).search;
    const src = /<img src="([^"]+)"/.exec(html)![1]!.replaceAll('&#38;', '&');
    expect(src).toBe(`${SAFE}_turn_1_specific.png${query}`);
    const picture = await fetch(new URL(src, url));
    expect([picture.status, picture.headers.get('content-type')]).toEqual([200, 'image/png']);
    const bytes = Buffer.from(await picture.arrayBuffer());
    expect(bytes).toEqual(readFileSync(t.images.location((await t.images.list(vault))[0]!.imagePath)));

    const signed = new URL(url);
    const sig = signed.searchParams.get('sig')!;
    const variants = [
      `${signed.origin}${signed.pathname}`,
      url.replace(sig, `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`),
      server.link(vault, Date.now() - 7_200_000).url,
      url.replace('/campaigns/vault/', '/campaigns/other/'),
      new URL(src.split('?')[0]!, url).href,
      new URL(`nothing.png${query}`, url).href,
      new URL(`../../etc/passwd${query}`, url).href,
      `${signed.origin}/campaigns/vault${query}`,
    ];
    for (const variant of variants) expect([variant, (await fetch(variant)).status]).toEqual([variant, 404]);
    expect((await fetch(url, { method: 'POST' })).status).toBe(404);
  });
});

describe.skipIf(!HAS_CHROMIUM)(HAS_CHROMIUM ? 'the storybook in headless Chromium' : NO_CHROMIUM, () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(() => browser?.close());

  /** Opens `url` on a phone-sized screen; every http(s) request is refused (and counted) but loopback when `loopback`. */
  async function open(url: string, loopback = false) {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const refused: string[] = [];
    await context.route(/^https?:/, (route) => {
      if (loopback && new URL(route.request().url()).hostname === '127.0.0.1') return route.continue();
      refused.push(route.request().url());
      return route.abort();
    });
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(url);
    return { page, refused, dialogs, close: () => context.close() };
  }

  /** Scrolls through the page so every lazy picture loads, then each picture's source and natural width. */
  async function pictures(page: Page): Promise<Array<{ src: string; width: number }>> {
    await page.evaluate(`(async () => {
      for (let y = 0; y <= document.body.scrollHeight; y += 300) { window.scrollTo(0, y); await new Promise((r) => setTimeout(r, 20)); }
    })()`);
    // Polled from here: the page's Content Security Policy refuses the eval behind waitForFunction.
    const until = Date.now() + 15_000;
    while (!(await page.evaluate('[...document.images].every((i) => i.complete)'))) {
      if (Date.now() > until) throw new Error('pictures still loading after 15 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return page.evaluate('[...document.images].map((i) => ({ src: i.getAttribute("src"), width: i.naturalWidth }))');
  }

  it('shows the pictures in turn order with their quotes, every one loaded from the unzipped folder with the network off', async () => {
    const rows = await seedStory();
    const { folders } = await exportAndUnzip(rows);
    expect(folders).toHaveLength(1);
    const files = readdirSync(folders[0]!);
    const { page, refused, dialogs, close } = await open(pathToFileURL(path.join(folders[0]!, STORYBOOK_NAME)).href);
    try {
      const scenes = (await page.evaluate(`[...document.querySelectorAll('article.scene')].map((a) => ({
        turn: a.querySelector('h2').firstChild.textContent.trim(),
        speaker: a.querySelector('.speaker')?.textContent,
        quote: a.querySelector('q')?.textContent,
        pictures: [...a.querySelectorAll('img')].map((i) => i.getAttribute('src')),
        edits: [...a.querySelectorAll('.edits img')].length,
      }))`)) as Array<Record<string, unknown>>;
      expect(scenes).toEqual([
        {
          turn: 'Turn 1',
          speaker: 'MATT',
          quote: 'You arrive at the gates of the vault. The door is black iron.',
          pictures: [`${SAFE}_turn_1_specific.png`, `${SAFE}_turn_1_edit.png`, `${SAFE}_turn_1_edit_2.png`],
          edits: 2,
        },
        {
          turn: 'Turn 2',
          speaker: HOSTILE_SPEAKER,
          quote: TRANSCRIPT[1]!.text,
          pictures: [`${SAFE}_turn_2_current.png`],
          edits: 0,
        },
        {
          turn: 'Turn 3',
          speaker: RTL_SPEAKER,
          quote: TRANSCRIPT[2]!.text,
          pictures: [`${SAFE}_turn_3_specific.png`],
          edits: 0,
        },
      ]);
      const loaded = await pictures(page);
      expect(loaded).toHaveLength(5);
      for (const p of loaded) {
        expect(files).toContain(p.src);
        expect(p.width).toBe(96);
      }
      expect(await page.evaluate('[...document.images].every((i) => i.loading === "lazy")')).toBe(true);
      expect(refused).toEqual([]);
      expect(dialogs).toEqual([]);
    } finally {
      await close();
    }
  });

  it('renders a hostile campaign name, prompt and speaker as text, right-to-left text in its direction', async () => {
    const rows = await seedStory();
    const { folders } = await exportAndUnzip(rows);
    const { page, dialogs, close } = await open(pathToFileURL(path.join(folders[0]!, STORYBOOK_NAME)).href);
    try {
      expect(await page.evaluate('document.scripts.length')).toBe(0);
      expect(await page.evaluate('document.querySelector("h1").textContent')).toBe(HOSTILE_NAME);
      expect(await page.title()).toBe(`${HOSTILE_NAME} · storybook`);
      expect(await page.evaluate('document.querySelector(".attribution").textContent')).toBe(
        'Transcript by the Vault Society, CC BY-SA 4.0 «ok»',
      );
      const prompts = (await page.evaluate('[...document.querySelectorAll("details p")].map((p) => p.textContent)')) as string[];
      expect(prompts).toContain(HOSTILE_PROMPT);
      expect(prompts).toContain('Make it <night>');
      const direction = await page.evaluate(
        `getComputedStyle([...document.querySelectorAll('.speaker')].find((s) => s.textContent === '${RTL_SPEAKER}')).direction`,
      );
      expect(direction).toBe('rtl');
      // The prompt is there on demand: closed until its summary is clicked.
      const details = page.locator('details').nth(4);
      expect(await details.getAttribute('open')).toBeNull();
      await details.locator('summary').click();
      expect(await details.getAttribute('open')).toBe('');
      await page.emulateMedia({ media: 'print' });
      expect(await page.evaluate('getComputedStyle(document.querySelectorAll("details")[4]).display')).toBe('none');
      expect(dialogs).toEqual([]);
    } finally {
      await close();
    }
  });

  it('links the parts of a split export to one another and names the pictures the other parts hold', async () => {
    const rows = [];
    for (let turn = 1; turn <= 6; turn++) rows.push(await t.images.save(await noisePng(), { ...base, turn }));
    const { plan, folders } = await exportAndUnzip(await t.images.list(vault), 2 * rows[0]!.bytes + 14_000);
    expect(plan.parts).toHaveLength(3);
    const { page, refused, close } = await open(pathToFileURL(path.join(folders[0]!, STORYBOOK_NAME)).href);
    try {
      const links = (await page.evaluate('[...document.querySelectorAll("nav.parts a")].map((a) => a.getAttribute("href"))')) as string[];
      expect(links).toEqual([`../${SAFE}_images_part2of3/storybook.html`, `../${SAFE}_images_part3of3/storybook.html`]);
      const named = await page.evaluate('[...document.querySelectorAll(".elsewhere .file")].map((p) => p.textContent)');
      expect(named).toEqual(plan.parts.slice(1).flatMap((p) => p.entries.map((e) => e.manifest.file)));
      expect((await pictures(page)).map((p) => [p.src, p.width])).toEqual(plan.parts[0]!.entries.map((e) => [e.manifest.file, 96]));

      await page.locator('nav.parts a').first().click();
      await page.waitForURL(/_images_part2of3\/storybook\.html$/);
      expect(await page.evaluate('document.querySelector("h1").textContent')).toBe(HOSTILE_NAME);
      expect((await pictures(page)).map((p) => [p.src, p.width])).toEqual(plan.parts[1]!.entries.map((e) => [e.manifest.file, 96]));
      expect(refused).toEqual([]);
    } finally {
      await close();
    }
  });

  it('opens a served storybook from a signed link and refuses a tampered or expired one', async () => {
    await seedStory();
    const server = new StorybookServer({
      settings: { port: 0, host: '127.0.0.1', public_url: null, link_ttl_s: 3600 },
      secret: SECRET,
      campaigns,
      images: t.images,
      log: silentLogger,
    });
    await server.start();
    try {
      const { url } = server.link(vault);
      const ok = await open(url, true);
      expect(await ok.page.evaluate('document.querySelector("h1").textContent')).toBe(HOSTILE_NAME);
      const loaded = await pictures(ok.page);
      expect(loaded).toHaveLength(5);
      for (const p of loaded) expect(p.width).toBe(96);
      expect(ok.refused).toEqual([]);
      await ok.close();

      const sig = new URL(url).searchParams.get('sig')!;
      for (const refused of [url.replace(sig, sig.split('').reverse().join('')), server.link(vault, Date.now() - 3_700_000).url]) {
        const bad = await open(refused, true);
        expect(await bad.page.evaluate('document.body.textContent.trim()')).toBe('not found');
        expect(await bad.page.evaluate('document.images.length')).toBe(0);
        await bad.close();
      }
    } finally {
      await server.close();
    }
  });
});

describe('limner storybook', () => {
  it('writes the page with the pictures beside it: the same page as the export zip holds', async () => {
    const rows = await seedStory();
    t.store.close();
    const out = path.join(t.dir, 'book');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), 'storybook', '--campaign', 'vault', '--out', out],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH, LIMNER_CAMPAIGNS_DIR: t.dir, LIMNER_CONFIG: path.join(ROOT, 'test/support/test-config.yaml') },
      },
    );
    expect(stdout).toBe(`${path.join(out, STORYBOOK_NAME)} (5 pictures beside it)\n`);
    const files = readdirSync(out).sort();
    expect(files).toEqual(
      [
        `${SAFE}_turn_1_edit.png`,
        `${SAFE}_turn_1_edit_2.png`,
        `${SAFE}_turn_1_specific.png`,
        `${SAFE}_turn_2_current.png`,
        `${SAFE}_turn_3_specific.png`,
        STORYBOOK_NAME,
      ].sort(),
    );
    for (const row of rows) {
      const name = files.find((f) => readFileSync(path.join(out, f)).equals(readFileSync(t.images.location(row.imagePath))));
      expect(name).toBeDefined();
    }
    const zipped = (await exportPlan(rows)).parts[0]!.page;
    const day = /exported \d{4}-\d{2}-\d{2}/g;
    expect(readFileSync(path.join(out, STORYBOOK_NAME), 'utf8').replace(day, '')).toBe(zipped.replace(day, ''));
  });
});
