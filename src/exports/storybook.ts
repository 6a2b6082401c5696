import type { CampaignRepository } from '../campaigns/repository.ts';
import type { CampaignId } from '../campaigns/id.ts';
import { LimnerError } from '../errors.ts';
import type { GenerationMode } from '../platform/schema.ts';

/** The page's file name, in every export zip and storybook folder. */
export const STORYBOOK_NAME = 'storybook.html';

/** Longest quote of a turn on the page, characters: a reminder of the moment, not the transcript. */
const QUOTE_MAX_CHARS = 240;

/** The words of the turn a picture illustrates. */
export interface StoryQuote {
  readonly speaker: string;
  /** Already shortened (see {@link shortQuote}). */
  readonly text: string;
}

/** One picture as the page shows it. */
export interface StorybookPicture {
  readonly id: string;
  /** Its file name beside the page, as in the export (`{campaign_name}_turn_{N}_{mode}.png`). */
  readonly file: string;
  /** 1-based turn. */
  readonly turn: number;
  readonly mode: GenerationMode;
  /** The visual prompt (for an edit, the change asked for). */
  readonly prompt: string;
  /** The picture this one was edited from, or null. */
  readonly parentId: string | null;
  /** ISO 8601 UTC; orders a picture's edits. */
  readonly createdAt: string;
  /** Of the file, pixels: the page keeps each picture's room before it loads. */
  readonly width: number;
  readonly height: number;
  /** 1-based part of the export whose zip holds the file. */
  readonly part: number;
}

/** Everything one page shows. */
export interface StorybookInput {
  readonly campaign: { readonly id: string; readonly name: string; readonly attribution?: string | undefined };
  /** Every picture of the campaign, in any order. */
  readonly pictures: readonly StorybookPicture[];
  /** Quotes by 1-based turn; a turn without one shows none. */
  readonly quotes: ReadonlyMap<number, StoryQuote>;
  /** The export's zip names in part order; one name when it is not split. */
  readonly parts: readonly string[];
  /** 1-based part this page is in: its pictures are shown, the others' are named. */
  readonly part: number;
  /** ISO 8601 UTC. */
  readonly exportedAt: string;
  /** Appended to every picture's address, e.g. `?exp=…&sig=…` when the page is served with a signed link. */
  readonly assetQuery?: string;
}

/**
 * The campaign storybook: one self-contained HTML page (inline CSS, no scripts; its Content
 * Security Policy forbids any) with the title and attribution, then the pictures in story order
 * (by turn, then creation time), each with its turn, a quote of that turn, the picture and its
 * visual prompt in a `<details>`, and the pictures edited from it grouped beneath it.
 *
 * Pictures are referenced by their file names beside the page, loaded lazily. In a split export a
 * picture held by another part shows its file name and that part; the parts' pages link to one
 * another as `../<zip name without .zip>/storybook.html`, the folder an unzipped part lands in.
 * Every text (names, quotes, prompts) is HTML-escaped and marked `dir="auto"`, so right-to-left
 * text reads in its own direction. Readable on a phone (viewport, fluid pictures) and printable.
 * @returns The page, UTF-8 text.
 */
export function renderStorybook(input: StorybookInput): string {
  const { campaign, pictures, parts, part } = input;
  const title = campaign.name || campaign.id;
  const ids = new Set(pictures.map((p) => p.id));
  const children = new Map<string, StorybookPicture[]>();
  const roots: StorybookPicture[] = [];
  for (const picture of pictures) {
    // An edit whose original is gone from the campaign stands on its own.
    if (picture.parentId && ids.has(picture.parentId)) {
      children.set(picture.parentId, [...(children.get(picture.parentId) ?? []), picture]);
    } else roots.push(picture);
  }
  const byStory = (a: StorybookPicture, b: StorybookPicture) => a.turn - b.turn || a.createdAt.localeCompare(b.createdAt);
  /** A picture's edits, then theirs, each branch in creation order. */
  const editsOf = (p: StorybookPicture): StorybookPicture[] =>
    [...(children.get(p.id) ?? [])].sort(byStory).flatMap((child) => [child, ...editsOf(child)]);
  const here = pictures.filter((p) => p.part === part).length;
  const count = `${pictures.length.toLocaleString('en-US')} ${pictures.length === 1 ? 'picture' : 'pictures'}`;

  const body = [
    '<header class="book">',
    `<h1 dir="auto">${escapeHtml(title)}</h1>`,
    campaign.attribution ? `<p class="attribution" dir="auto">${escapeHtml(campaign.attribution)}</p>` : '',
    `<p class="meta">${count}, exported ${escapeHtml(input.exportedAt.slice(0, 10))}${
      parts.length > 1 ? ` · this is part ${part} of ${parts.length} (${here} of the pictures)` : ''
    }</p>`,
    parts.length > 1 ? partsNav(parts, part) : '',
    '</header>',
    '<main>',
    ...roots.sort(byStory).map((root) => scene(root, editsOf(root), input)),
    '</main>',
  ];
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self'; style-src 'unsafe-inline'">`,
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(title)} · storybook</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    ...body.filter(Boolean),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

function partsNav(parts: readonly string[], current: number): string {
  const items = parts.map((name, i) =>
    i + 1 === current
      ? `<li aria-current="page">${escapeHtml(name)} (this page)</li>`
      : `<li><a href="${escapeHtml(partHref(name))}">${escapeHtml(name)}</a></li>`,
  );
  return `<nav class="parts"><p>The export is split into ${parts.length} zips; each holds a storybook like this one.</p><ol>${items.join('')}</ol></nav>`;
}

/** Where an unzipped part's page is, seen from another part's page. */
function partHref(zipName: string): string {
  return `../${encodeURIComponent(zipName.replace(/\.zip$/, ''))}/${STORYBOOK_NAME}`;
}

function scene(root: StorybookPicture, edits: readonly StorybookPicture[], input: StorybookInput): string {
  const quote = input.quotes.get(root.turn);
  return [
    `<article class="scene" id="turn-${root.turn}-${escapeHtml(root.id)}">`,
    `<h2>Turn ${root.turn.toLocaleString('en-US')} <span class="mode">${escapeHtml(root.mode)}</span></h2>`,
    quote
      ? `<blockquote><p><b class="speaker" dir="auto">${escapeHtml(quote.speaker)}</b> <q dir="auto">${escapeHtml(quote.text)}</q></p></blockquote>`
      : '',
    picture(root, input),
    edits.length > 0
      ? `<section class="edits"><h3>${edits.length === 1 ? 'Edited once' : `Edited ${edits.length} times`}</h3>${edits.map((e) => picture(e, input)).join('')}</section>`
      : '',
    '</article>',
  ].join('');
}

function picture(p: StorybookPicture, input: StorybookInput): string {
  const label = p.mode === 'edit' ? 'Change asked for' : 'Visual prompt';
  const prompt = `<details><summary>${label}</summary><p dir="auto">${escapeHtml(p.prompt)}</p></details>`;
  if (p.part !== input.part) {
    const zip = input.parts[p.part - 1] ?? '';
    return `<figure class="picture elsewhere"><p class="file">${escapeHtml(p.file)}</p><p>in part ${p.part}: <a href="${escapeHtml(partHref(zip))}">${escapeHtml(zip)}</a></p>${prompt}</figure>`;
  }
  const src = `${encodeURIComponent(p.file)}${input.assetQuery ?? ''}`;
  return `<figure class="picture"><img src="${escapeHtml(src)}" alt="Turn ${p.turn}, ${escapeHtml(p.mode)}" width="${p.width}" height="${p.height}" loading="lazy" decoding="async"><figcaption class="file">${escapeHtml(p.file)}</figcaption>${prompt}</figure>`;
}

/** Text made safe in HTML content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A turn's words shortened for the page: whitespace collapsed, at most {@link QUOTE_MAX_CHARS}
 * characters, cut at a word and ended with `…` when longer.
 */
export function shortQuote(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= QUOTE_MAX_CHARS) return flat;
  const cut = flat.slice(0, QUOTE_MAX_CHARS - 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > QUOTE_MAX_CHARS / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/**
 * What a campaign's transcript gives its storybook: the attribution and the quotes of the given
 * turns. A campaign that cannot be read (its folder gone, a broken file) gives neither, so its
 * pictures still get a page.
 * @param turns - 1-based turns to quote.
 */
export async function readStory(
  campaigns: CampaignRepository,
  id: CampaignId,
  turns: Iterable<number>,
): Promise<{ attribution?: string; quotes: Map<number, StoryQuote> }> {
  let campaign;
  try {
    campaign = await campaigns.load(id);
  } catch (err) {
    if (err instanceof LimnerError) return { quotes: new Map() };
    throw err;
  }
  const wanted = new Set(turns);
  const quotes = new Map<number, StoryQuote>();
  for (const entry of campaign.transcript.entries) {
    if (wanted.has(entry.turn)) quotes.set(entry.turn, { speaker: entry.speaker, text: shortQuote(entry.text) });
  }
  return { ...(campaign.attribution ? { attribution: campaign.attribution } : {}), quotes };
}

/** Light, readable on a phone (one column, fluid pictures) and on paper (no backgrounds, scenes kept whole). */
const STYLE = `
:root{color-scheme:light dark;--ink:#1d1b18;--paper:#faf7f0;--soft:#6b655b;--line:#ddd5c4}
@media (prefers-color-scheme:dark){:root{--ink:#ece6da;--paper:#1b1a17;--soft:#a59d8f;--line:#3a362f}}
*{box-sizing:border-box}
body{margin:0;background:var(--paper);color:var(--ink);font:17px/1.55 Georgia,"Times New Roman",serif;overflow-wrap:anywhere}
header.book,main{max-width:52rem;margin:0 auto;padding:1rem}
h1{font-size:2rem;line-height:1.2;margin:1.5rem 0 .5rem}
.attribution,.meta,.file,.mode,nav.parts{color:var(--soft);font-size:.85rem}
.meta{margin:.25rem 0}
nav.parts ol{padding-left:1.5rem}
.scene{border-top:1px solid var(--line);padding:1.25rem 0}
h2{font-size:1.2rem;margin:0 0 .5rem}
.mode{font-weight:normal;font-family:system-ui,sans-serif;margin-left:.5rem}
blockquote{margin:0 0 .75rem;padding-left:.9rem;border-left:3px solid var(--line)}
blockquote p{margin:0}
.speaker{font-family:system-ui,sans-serif;font-size:.8rem;letter-spacing:.05em;text-transform:uppercase}
figure{margin:0 0 1rem}
img{display:block;width:100%;height:auto;border-radius:4px;background:var(--line)}
.file{font-family:ui-monospace,monospace;margin:.25rem 0}
.elsewhere{border:1px dashed var(--line);border-radius:4px;padding:.75rem}
details{font-size:.9rem}
summary{cursor:pointer;color:var(--soft)}
.edits{margin-left:1.25rem;padding-left:.75rem;border-left:2px solid var(--line)}
h3{font-size:.9rem;color:var(--soft);margin:.5rem 0}
a{color:inherit}
@media (max-width:600px){body{font-size:16px}header.book,main{padding:.75rem}h1{font-size:1.5rem}.edits{margin-left:.25rem}}
@media print{:root{--ink:#000;--paper:#fff;--soft:#444;--line:#bbb}body{font-size:11pt}nav.parts,details{display:none}
.scene{break-inside:avoid}img{max-height:45vh;width:auto;max-width:100%}header.book,main{max-width:none;padding:0}}
`
  .trim()
  .replace(/\n/g, '');
