import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LimnerError } from '../errors.ts';
import { ensureDirectory, removeStaleTempFiles, TEMP_PREFIX, writeFileAtomic } from '../platform/files.ts';
import type { GenerationMode, ImageRow } from '../platform/schema.ts';
import { dedupeNames, downloadStem, exportZipName, safeCampaignName } from './names.ts';
import { encodePreview, fitPreview, type PreviewSettings } from '../images/preview.ts';
import { PictureNotFoundError } from '../images/errors.ts';
import type { PictureStorage } from '../images/storage.ts';
import { renderStorybook, STORYBOOK_NAME, type StoryQuote, type StorybookInput, type StorybookPicture } from './storybook.ts';

/** The metadata file every export zip holds beside its pictures. */
export const MANIFEST_NAME = 'manifest.json';


/** Largest zip, bytes: jszip writes no ZIP64, so sizes and offsets are 32-bit (and would wrap silently past it). */
const ZIP32_MAX_BYTES = 0xffff_ffff;
/** Most entries a zip without ZIP64 can count (jszip would wrap the 16-bit count silently). */
const ZIP32_MAX_ENTRIES = 0xffff;

/*
 * What jszip 3.10 writes around each entry with `streamFiles: true` and an ASCII name, no comment
 * (lib/generate/ZipFileWorker.js): a local header of 30 bytes + name and no extra field (the
 * Unicode path field and UTF-8 flag come only with non-ASCII names, which names.ts never makes),
 * the data, a 16-byte data descriptor (with signature), and a central header of 46 bytes + name;
 * then a 22-byte end record. Planning on these sizes lets every part be exactly sized before it is
 * built; the builders check the result, so a jszip that lays zips out differently fails loudly
 * instead of making a zip over the limit.
 */
const LOCAL_HEADER_BYTES = 30;
const DATA_DESCRIPTOR_BYTES = 16;
const CENTRAL_HEADER_BYTES = 46;
const END_RECORD_BYTES = 22;

/** Plans tried before giving up on room for the storybook pages (each try makes more room; two are usual). */
const PAGE_PLAN_TRIES = 6;

/** One picture in `manifest.json`. */
export interface ManifestImage {
  /** Its name in the zip: `{campaign_name}_turn_{N}_{mode}[_k].png` (`.jpg` when converted). */
  readonly file: string;
  readonly id: string;
  /** 1-based turn. */
  readonly turn: number;
  readonly mode: GenerationMode;
  readonly prompt: string;
  /** Image model that drew it. */
  readonly model: string;
  /** Text model that wrote the prompt, or null. */
  readonly textModel: string | null;
  /** Discord user id, or `cli`. */
  readonly creator: string;
  /** ISO 8601 UTC. */
  readonly createdAt: string;
  /** The picture this one was edited from: its id, and its file in this export (null when it is not in it). */
  readonly parent: { readonly id: string; readonly file: string | null } | null;
  /** Of the file in the zip: pixels and bytes. */
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  readonly format: 'png' | 'jpeg';
  /** Only for a picture converted to JPEG: the PNG kept on the server. */
  readonly original?: { readonly format: 'png'; readonly width: number; readonly height: number; readonly bytes: number };
  /** Only for a picture converted to JPEG: why. */
  readonly note?: string;
}

/** The whole `manifest.json` of one zip: the campaign and the pictures in that zip. */
export interface Manifest {
  readonly campaign: { readonly id: string; readonly name: string };
  /** ISO 8601 UTC. */
  readonly exportedAt: string;
  readonly images: readonly ManifestImage[];
}

/** A picture planned into a zip. */
export interface ExportEntry {
  readonly image: ImageRow;
  /** Where the PNG is stored: the storage and its key (the row's `image_path`). */
  readonly source: { readonly storage: PictureStorage; readonly key: string };
  readonly manifest: ManifestImage;
  /** Set when the PNG alone does not fit a zip: the JPEG encoding to write instead. */
  readonly jpeg?: PreviewSettings;
}

/** One zip of an export. */
export interface ExportPart {
  /** 1-based. */
  readonly number: number;
  /** `{campaign_name}_images.zip` or `{campaign_name}_images_part{k}of{n}.zip`. */
  readonly name: string;
  readonly entries: readonly ExportEntry[];
  /** The text of this zip's `manifest.json`. */
  readonly manifest: string;
  /** The text of this zip's `storybook.html` (see `renderStorybook`). */
  readonly page: string;
  /** Exact size of the zip, bytes. */
  readonly bytes: number;
}

/** Every zip of an export, decided from file sizes before any zip is built. */
export interface ExportPlan {
  readonly campaign: { readonly id: string; readonly name: string; readonly attribution?: string | undefined };
  /** What the storybook pages quote, by 1-based turn. */
  readonly quotes: ReadonlyMap<number, StoryQuote>;
  /** ISO 8601 UTC. */
  readonly exportedAt: string;
  readonly parts: readonly ExportPart[];
  readonly imageCount: number;
  /** Pictures that go in as JPEG because their PNG alone is over the limit. */
  readonly converted: number;
  /** Sum of the zips' sizes, bytes. */
  readonly bytes: number;
}

/** What a caller learns while zips are built. */
export interface ExportProgress {
  /** Pictures written so far, over all parts. */
  readonly packed: number;
  readonly total: number;
  /** 1-based part being built, of `parts`. */
  readonly part: number;
  readonly parts: number;
}

/** The campaign has no pictures. */
export class NoImagesToExportError extends LimnerError {
  readonly code = 'export_empty';
  constructor() {
    super('No pictures to download.');
  }
}

/** A picture cannot be made small enough for the part size limit, even as a small JPEG. */
export class ExportLimitTooSmallError extends LimnerError {
  readonly code = 'export_limit_too_small';
  constructor(
    readonly limitBytes: number,
    readonly turn: number,
  ) {
    super(
      `The picture of turn ${turn} cannot fit in a zip of ${limitBytes.toLocaleString('en-US')} bytes, even as a small JPEG; allow larger zips.`,
    );
  }
}

/** A picture is recorded but its file is gone from the campaign folder. */
export class ImageFileMissingError extends LimnerError {
  readonly code = 'image_file_missing';
  constructor(
    readonly imageId: string,
    readonly turn: number,
  ) {
    super(`The picture of turn ${turn} (${imageId}) is recorded but its file is missing on the server; the operator should restore it.`);
  }
}

/**
 * Plans the export of a campaign's pictures into zips of at most `maxPartBytes` each, from the
 * files' sizes alone, so that {@link zipPartBuffer} and {@link writeExport} later hold at most one
 * picture (or one part, when building in memory) at a time.
 *
 * Names follow seed 17-6 (`{campaign_name}_turn_{N}_{mode}.png`, repeats numbered `_2`, `_3`, ...
 * in list order). Parts keep list order: part 1 holds the earliest pictures. A picture whose PNG
 * cannot fit a zip by itself is planned as a high-quality JPEG (quality stepped down from 90, then
 * halved in size, until it fits) with a `note` in the manifest; the PNG on disk is untouched.
 * Pictures are stored, not deflated: PNG and JPEG are already compressed. Every zip also holds
 * `storybook.html`, the whole story with this zip's pictures shown and the others named (see
 * `renderStorybook`); its size depends on which pictures share a zip, so parts are planned with
 * room for the page and planned again with more room until every page fits.
 *
 * @param input.campaign - Id, display name and the transcript's attribution (shown on the page).
 * @param input.quotes - Quotes of the pictures' turns for the page, by 1-based turn (see `readStory`).
 * @param input.images - The pictures, in the order they should appear (e.g. `ImageStore.list`).
 * @param input.storage - Where the pictures' PNGs are, by their rows' `image_path`.
 * @param input.maxPartBytes - Largest zip, bytes (e.g. Discord's `attachmentSizeLimit`); default and
 *   ceiling 4 GiB - 1 ({@link ZIP32_MAX_BYTES}: jszip writes no ZIP64).
 * @param input.exportedAt - Timestamp written to the manifests (default now).
 * @throws NoImagesToExportError when `images` is empty.
 * @throws ImageFileMissingError when a picture's file is gone.
 * @throws ExportLimitTooSmallError when a picture cannot be made to fit.
 */
export async function planExport(input: ExportInput): Promise<ExportPlan> {
  if (input.images.length === 0) throw new NoImagesToExportError();
  const exportedAt = (input.exportedAt ?? new Date()).toISOString();
  let pageRoom: number | undefined;
  for (let tries = 0; tries < PAGE_PLAN_TRIES; tries++) {
    const { plan, room } = await planParts(input, exportedAt, pageRoom);
    const largest = Math.max(...plan.parts.map((p) => Buffer.byteLength(p.page)));
    if (largest <= room) return plan;
    // More parts mean more pictures named rather than shown and more links: a margin spares a try.
    pageRoom = Math.ceil(largest * 1.05) + 512;
  }
  throw new Error(`no room found for the storybook pages of ${input.campaign.id} in ${PAGE_PLAN_TRIES} plans`);
}

/** What {@link planExport} is given. */
interface ExportInput {
  campaign: { id: string; name: string; attribution?: string | undefined };
  images: readonly ImageRow[];
  storage: PictureStorage;
  quotes?: ReadonlyMap<number, StoryQuote>;
  maxPartBytes?: number;
  exportedAt?: Date;
}

/**
 * One plan of {@link planExport} with `pageRoom` bytes kept in every zip for its page; without it,
 * the room the page of a one-zip export takes, with a margin.
 */
async function planParts(
  input: ExportInput,
  exportedAt: string,
  pageRoom: number | undefined,
): Promise<{ plan: ExportPlan; room: number }> {
  const { campaign, images } = input;
  const quotes = input.quotes ?? new Map<number, StoryQuote>();
  const limit = Math.min(input.maxPartBytes ?? ZIP32_MAX_BYTES, ZIP32_MAX_BYTES);
  const frame = manifestFrame({ id: campaign.id, name: campaign.name }, exportedAt);
  const stems = dedupeNames(
    images.map((image) => downloadStem({ campaignName: campaign.name, campaignId: campaign.id, turn: image.turn, mode: image.mode })),
  );
  const stemOf = new Map(images.map((image, i) => [image.id, stems[i]!]));
  // `.png` and `.jpg` have the same length, so every size below holds whichever format a picture ends up in.
  const provisional = (id: string | null) => (id && stemOf.has(id) ? `${stemOf.get(id)}.png` : null);
  const story = (pictures: StorybookPicture[], parts: readonly string[], part: number): StorybookInput => ({
    campaign: { id: campaign.id, name: campaign.name, attribution: campaign.attribution },
    pictures,
    quotes,
    parts,
    part,
    exportedAt,
  });
  const room =
    pageRoom ??
    Math.ceil(
      Buffer.byteLength(
        renderStorybook(
          story(
            images.map((image) => storybookPicture(image, provisional(image.id)!, image, 1)),
            ['one.zip'],
            1,
          ),
        ),
      ) * 1.05,
    ) + 512;
  const pageBytes = zipEntryOverhead(STORYBOOK_NAME) + room;
  /** Bytes of a zip holding just this picture and the page, without the picture's own data. */
  const aloneOverhead = (m: ManifestImage) => zipBytes([m.file], frame.bytes + manifestItemBytes(m)) + pageBytes;

  const decided: Array<{ image: ImageRow; source: ExportEntry['source']; stored: Stored; jpeg?: PreviewSettings }> = [];
  for (const image of images) {
    const source = { storage: input.storage, key: image.imagePath };
    const pngBytes = await fileSize(source, image);
    const file = provisional(image.id)!;
    const parentFile = provisional(image.parentImageId);
    const png: Stored = { format: 'png', width: image.width, height: image.height, bytes: pngBytes };
    if (aloneOverhead(manifestImage(image, file, parentFile, png)) + pngBytes <= limit) {
      decided.push({ image, source, stored: png });
      continue;
    }
    // Budget for the JPEG: its own numbers have at most the digits of the original's size and of the limit.
    const widest = manifestImage(image, file, parentFile, {
      format: 'jpeg',
      width: image.width,
      height: image.height,
      bytes: limit,
      pngBytes,
      limit,
    });
    const budget = limit - aloneOverhead(widest);
    const jpeg = budget > 0 ? await fitPreview(await readPicture(source, image), budget, ['jpeg']) : undefined;
    if (!jpeg) throw new ExportLimitTooSmallError(limit, image.turn);
    const { data, ...settings } = jpeg;
    decided.push({
      image,
      source,
      jpeg: settings,
      stored: { format: 'jpeg', width: jpeg.width, height: jpeg.height, bytes: data.byteLength, pngBytes, limit },
    });
  }
  const extension = new Map(decided.map((d) => [d.image.id, d.jpeg ? 'jpg' : 'png']));
  const fileOf = (id: string | null) => (id && stemOf.has(id) ? `${stemOf.get(id)}.${extension.get(id)}` : null);
  const entries: ExportEntry[] = decided.map(({ image, source, stored, jpeg }) => ({
    image,
    source,
    manifest: manifestImage(image, fileOf(image.id)!, fileOf(image.parentImageId), stored),
    ...(jpeg ? { jpeg } : {}),
  }));

  // Greedy in list order: a part takes pictures until the next one would push it over the limit.
  const empty = zipBytes([], frame.bytes) + pageBytes;
  const groups: ExportEntry[][] = [];
  let group: ExportEntry[] = [];
  let size = empty;
  for (const entry of entries) {
    // An entry's records, its data and its manifest item (with the `,\n` before it unless it is first).
    const cost = (first: boolean) =>
      zipEntryOverhead(entry.manifest.file) + entry.manifest.bytes + manifestItemBytes(entry.manifest) + (first ? 0 : 2);
    if (group.length > 0 && (size + cost(false) > limit || group.length + 2 > ZIP32_MAX_ENTRIES)) {
      groups.push(group);
      group = [];
      size = empty;
    }
    size += cost(group.length === 0);
    group.push(entry);
  }
  groups.push(group);

  const safeName = safeCampaignName(campaign.name, campaign.id);
  const names = groups.map((_, i) => exportZipName(safeName, i + 1, groups.length));
  const pictures = groups.flatMap((members, i) => members.map((e) => storybookPicture(e.image, e.manifest.file, e.manifest, i + 1)));
  const parts = groups.map((members, i): ExportPart => {
    const manifest = frame.text(members.map((e) => manifestItem(e.manifest)));
    const page = renderStorybook(story(pictures, names, i + 1));
    const data = members.reduce((sum, e) => sum + e.manifest.bytes, 0) + Buffer.byteLength(page);
    return {
      number: i + 1,
      name: names[i]!,
      entries: members,
      manifest,
      page,
      bytes: zipBytes([...members.map((e) => e.manifest.file), STORYBOOK_NAME], Buffer.byteLength(manifest)) + data,
    };
  });
  const plan: ExportPlan = {
    campaign: { id: campaign.id, name: campaign.name, attribution: campaign.attribution },
    quotes,
    exportedAt,
    parts,
    imageCount: images.length,
    converted: entries.filter((e) => e.jpeg).length,
    bytes: parts.reduce((sum, p) => sum + p.bytes, 0),
  };
  return { plan, room };
}

function storybookPicture(image: ImageRow, file: string, size: { width: number; height: number }, part: number): StorybookPicture {
  return {
    id: image.id,
    file,
    turn: image.turn,
    mode: image.mode,
    prompt: image.prompt,
    parentId: image.parentImageId,
    createdAt: image.createdAt,
    width: size.width,
    height: size.height,
    part,
  };
}

/**
 * The storybook of the whole plan as one page with every picture beside it: what
 * {@link writeStorybook} writes and what is served.
 * @param assetQuery - Appended to every picture's address (a signed link's query when served).
 */
export function wholeStorybook(plan: ExportPlan, assetQuery?: string): string {
  return renderStorybook({
    campaign: plan.campaign,
    pictures: plan.parts.flatMap((p) => p.entries.map((e) => storybookPicture(e.image, e.manifest.file, e.manifest, 1))),
    quotes: plan.quotes,
    parts: [plan.parts[0]!.name],
    part: 1,
    exportedAt: plan.exportedAt,
    ...(assetQuery ? { assetQuery } : {}),
  });
}

/**
 * Writes the storybook into `dir` (created when missing): `storybook.html` ({@link wholeStorybook})
 * with every picture of the plan beside it under its export name, each file written to a
 * temporary name and renamed.
 * @returns Absolute path of the page.
 */
export async function writeStorybook(plan: ExportPlan, dir: string): Promise<string> {
  await ensureDirectory(dir);
  for (const entry of plan.parts.flatMap((p) => p.entries)) {
    const file = path.join(dir, entry.manifest.file);
    const tmp = path.join(dir, `${TEMP_PREFIX}${randomUUID()}-${entry.manifest.file}`);
    try {
      await pipeline(Readable.from(entryData(entry)), createWriteStream(tmp, { flags: 'wx' }));
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
  const page = path.join(dir, STORYBOOK_NAME);
  await writeFileAtomic(page, wholeStorybook(plan));
  return page;
}

/**
 * Builds one zip in memory: a Buffer of exactly `part.bytes` that jszip's stream is copied into,
 * the only large allocation, so building holds about one part (`generateAsync` would hold its
 * chunks and their concatenation: two). For uploads (Discord wants each file as bytes).
 * @param onImage - Called after each picture is read into the zip.
 * @throws Error when the zip does not come out at the planned size (a file changed on disk).
 */
export async function zipPartBuffer(part: ExportPart, onImage?: () => void): Promise<Buffer> {
  const out = Buffer.allocUnsafe(part.bytes);
  let offset = 0;
  await buildZip(
    part,
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        if (offset + chunk.byteLength > out.byteLength) return done(sizeMismatch(part, offset + chunk.byteLength));
        chunk.copy(out, offset);
        offset += chunk.byteLength;
        done();
      },
    }),
    onImage,
  );
  if (offset !== part.bytes) throw sizeMismatch(part, offset);
  return out;
}

/**
 * Writes every zip of `plan` into `dir` (created when missing), streaming each picture from the picture storage
 * so memory stays at a few read chunks per zip whatever the zips' sizes. Each zip is written to a
 * temporary name and renamed, so `dir` never holds half a zip under its real name; an existing
 * zip of the same name is replaced. Temporary zips a crashed export left in `dir` are deleted
 * first (once old enough that no export can still be writing them).
 * @param options.concurrency - Zips built at once (default 2, so one zip's reads overlap another's writes).
 * @returns Absolute paths of the zips, in part order.
 * @throws FolderUnusableError when `dir` or a parent is a file, or the folder cannot be created
 *   (a read-only or pseudo file system such as /proc); nothing is written then.
 */
export async function writeExport(
  plan: ExportPlan,
  dir: string,
  options: { onProgress?: (progress: ExportProgress) => void; concurrency?: number } = {},
): Promise<string[]> {
  await ensureDirectory(dir);
  await removeStaleTempFiles(dir);
  let packed = 0;
  const queue = [...plan.parts];
  const worker = async () => {
    for (let part = queue.shift(); part; part = queue.shift()) {
      const current = part;
      const report = () => options.onProgress?.({ packed, total: plan.imageCount, part: current.number, parts: plan.parts.length });
      report();
      const file = path.join(dir, current.name);
      const tmp = path.join(dir, `${TEMP_PREFIX}${randomUUID()}-${current.name}`);
      try {
        const sink = createWriteStream(tmp, { flags: 'wx' });
        await buildZip(current, sink, () => {
          packed++;
          report();
        });
        if (sink.bytesWritten !== current.bytes) throw sizeMismatch(current, sink.bytesWritten);
        await rename(tmp, file);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 2) }, worker));
  return plan.parts.map((p) => path.join(dir, p.name));
}

/**
 * Streams the zip of one part into `sink` with jszip: its pictures STORED (PNG and JPEG are already
 * compressed), each read only when jszip reaches it, then `storybook.html` and `manifest.json`,
 * also STORED so the part's size stays exact.
 */
async function buildZip(part: ExportPart, sink: Writable, onImage?: () => void): Promise<void> {
  // Loaded on first export: a bot that has not exported need not hold it.
  const { default: JSZip } = await import('jszip');
  const zip = new JSZip();
  // Lazy sources: jszip binds every source stream up front, so plain read streams would hold a file descriptor per picture.
  const sources = part.entries.map((entry) => {
    const source = Readable.from(entryData(entry, onImage), { highWaterMark: 1 });
    zip.file(entry.manifest.file, source, { binary: true, date: new Date(entry.image.createdAt) });
    return source;
  });
  zip.file(STORYBOOK_NAME, Buffer.from(part.page), { binary: true, date: new Date() });
  zip.file(MANIFEST_NAME, Buffer.from(part.manifest), { binary: true, date: new Date() });
  // jszip's stream is a readable-stream 2 Readable, whose typings omit the destroy it has.
  const out = zip.generateNodeStream({ type: 'nodebuffer', streamFiles: true, compression: 'STORE' }) as NodeJS.ReadableStream & {
    destroy(err?: Error): void;
  };
  let failed = false;
  // Also keeps a second report of the same failure (jszip's and ours) from being an uncaught 'error'.
  out.on('error', () => {
    failed = true;
  });
  for (const source of sources) {
    // jszip drops the error of a source it has paused, and the zip would then wait forever.
    source.once('error', (err) => {
      if (!failed) out.destroy(err);
    });
  }
  try {
    await pipeline(out, sink);
  } finally {
    // On failure, closes the file a half-read source still holds open; finished sources are unaffected.
    for (const source of sources) source.destroy();
  }
}

/**
 * A picture's bytes: the PNG as it is stored (streamed), or its JPEG encoding when it was planned as one.
 * @throws PictureNotFoundError when the PNG is gone from the storage.
 */
export async function* entryData(entry: ExportEntry, onDone?: () => void): AsyncGenerator<Buffer> {
  const { storage, key } = entry.source;
  if (entry.jpeg) yield await encodePreview(await storage.get(key), entry.jpeg);
  else yield* storage.stream(key);
  onDone?.();
}

/** Bytes jszip adds around an entry's data (see {@link LOCAL_HEADER_BYTES}); names are ASCII, so one byte per character. */
function zipEntryOverhead(name: string): number {
  return LOCAL_HEADER_BYTES + DATA_DESCRIPTOR_BYTES + CENTRAL_HEADER_BYTES + 2 * name.length;
}

/** Size of a zip of stored entries named `names` plus `manifest.json` of `manifestBytes`, without the entries' data. */
function zipBytes(names: readonly string[], manifestBytes: number): number {
  return names.reduce((sum, name) => sum + zipEntryOverhead(name), zipEntryOverhead(MANIFEST_NAME) + manifestBytes + END_RECORD_BYTES);
}

/**
 * `manifest.json` is `JSON.stringify(manifest, null, 2)` plus a newline, assembled from one item per
 * picture so a part's manifest size can be added up picture by picture while planning.
 */
function manifestFrame(campaign: Manifest['campaign'], exportedAt: string) {
  const head = `${JSON.stringify({ campaign, exportedAt }, null, 2).slice(0, -2)},\n  "images": [\n`;
  const tail = '\n  ]\n}\n';
  return {
    /** Bytes of the manifest without its items. */
    bytes: Buffer.byteLength(head) + Buffer.byteLength(tail),
    text: (items: readonly string[]) => `${head}${items.join(',\n')}${tail}`,
  };
}

/** One picture's object as it appears, indented, inside `"images": [...]`. */
function manifestItem(image: ManifestImage): string {
  return JSON.stringify(image, null, 2).replace(/^/gm, '    ');
}

function manifestItemBytes(image: ManifestImage): number {
  return Buffer.byteLength(manifestItem(image));
}

/** How a picture is stored in the zip (pixels, bytes); a JPEG also carries the PNG's size and the limit it missed. */
type Stored =
  | { format: 'png'; width: number; height: number; bytes: number }
  | { format: 'jpeg'; width: number; height: number; bytes: number; pngBytes: number; limit: number };

function manifestImage(image: ImageRow, file: string, parentFile: string | null, stored: Stored): ManifestImage {
  const base = {
    file,
    id: image.id,
    turn: image.turn,
    mode: image.mode,
    prompt: image.prompt,
    model: image.model,
    textModel: image.textModel,
    creator: image.requestedBy,
    createdAt: image.createdAt,
    parent: image.parentImageId ? { id: image.parentImageId, file: parentFile } : null,
    width: stored.width,
    height: stored.height,
    bytes: stored.bytes,
    format: stored.format,
  };
  if (stored.format === 'png') return base;
  return {
    ...base,
    original: { format: 'png', width: image.width, height: image.height, bytes: stored.pngBytes },
    note: `The PNG (${megabytes(stored.pngBytes)}) is larger than the ${megabytes(stored.limit)} limit of each zip, so it is included as a JPEG; the original PNG is kept on the server.`,
  };
}

/** @throws ImageFileMissingError when the PNG is gone from the storage. */
async function fileSize(source: ExportEntry['source'], image: ImageRow): Promise<number> {
  try {
    return await source.storage.size(source.key);
  } catch (err) {
    if (err instanceof PictureNotFoundError) throw new ImageFileMissingError(image.id, image.turn);
    throw err;
  }
}

/** @throws ImageFileMissingError when the PNG is gone from the storage. */
async function readPicture(source: ExportEntry['source'], image: ImageRow): Promise<Buffer> {
  try {
    return await source.storage.get(source.key);
  } catch (err) {
    if (err instanceof PictureNotFoundError) throw new ImageFileMissingError(image.id, image.turn);
    throw err;
  }
}

function sizeMismatch(part: ExportPart, actual: number): Error {
  return new Error(
    `${part.name} came out at ${actual} bytes instead of the planned ${part.bytes}: a picture changed on disk during the export`,
  );
}

/** `12.3 MB` (MiB, one decimal), as sizes are shown to users. */
export function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** The progress line shown while zips are built: `Packing 120/500 images... part 3 of 9`. */
export function exportProgressText(p: ExportProgress): string {
  return `Packing ${p.packed}/${p.total} images... part ${p.part} of ${p.parts}`;
}
