/**
 * Export bench: throughput and peak memory of exporting 500 pictures of about 2 MB (issue 6),
 * as `limner export` (one zip, and 10 MiB parts written to files) and as `/scene export` builds
 * them (10 MiB parts in memory, one at a time, as for Discord's default upload limit).
 * Each export runs in a child process, so the child's peak RSS is the export's own (plus Node,
 * tsx and the modules it loads), not the bench's setup. Run alone with `npx tsx bench/export.ts`.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { parseCampaignId } from '../src/campaigns/id.ts';
import { planExport, writeExport, zipPartBuffer } from '../src/exports/export.ts';
import { ImageStore } from '../src/images/store.ts';
import { LocalPictureStorage } from '../src/images/local-storage.ts';
import { openSqliteStore } from '../src/platform/db.ts';
import type { BenchSection } from './types.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PICTURES = 500;
/** Noise does not compress: a 1000 x 700 RGB PNG of it is about 2.1 MB. */
const WIDTH = 1000;
const HEIGHT = 700;
/** Distinct pictures generated; the 500 files on disk cycle through them. */
const DISTINCT = 8;
const PART_BYTES = 10 * 1024 * 1024;
const TARGET = { mibPerSecond: 200, peakRssMib: 250 };
const MIB = 1024 * 1024;
const CAMPAIGN = parseCampaignId('bench');

/** What a child export measures. */
interface ChildResult {
  readonly zips: number;
  readonly bytes: number;
  /** Plan and build, ms. */
  readonly ms: number;
  /** After loading modules, before exporting, MiB. */
  readonly startRssMib: number;
  /** Peak resident set of the whole child process, MiB. */
  readonly peakRssMib: number;
}

type Mode = 'single-file' | 'parts-files' | 'parts-memory';
const MODES: ReadonlyArray<{ mode: Mode; label: string }> = [
  { mode: 'single-file', label: '`limner export`: one zip, written to a file' },
  { mode: 'parts-files', label: '`limner export --max-part-bytes 10485760`: 10 MiB zips, written to files' },
  { mode: 'parts-memory', label: '`/scene export` at a 10 MiB upload limit: 10 MiB zips built in memory, one at a time' },
];

/** Child side: one export of the bench campaign in `dir`, reported as JSON on stdout. */
async function child(mode: Mode, dir: string): Promise<void> {
  const store = openSqliteStore(path.join(dir, 'limner.db'));
  const images = new ImageStore(store, new LocalPictureStorage(dir));
  const startRssMib = process.memoryUsage().rss / MIB;
  const started = performance.now();
  const plan = await planExport({
    campaign: { id: CAMPAIGN, name: 'Export Bench' },
    images: await images.list(CAMPAIGN),
    storage: images.storage,
    ...(mode === 'single-file' ? {} : { maxPartBytes: PART_BYTES }),
  });
  if (mode === 'parts-memory') {
    for (const part of plan.parts) await zipPartBuffer(part);
  } else {
    await writeExport(plan, path.join(dir, 'out'));
  }
  const ms = performance.now() - started;
  store.close();
  const result: ChildResult = {
    zips: plan.parts.length,
    bytes: plan.bytes,
    ms,
    startRssMib,
    peakRssMib: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(JSON.stringify(result));
}

/** Writes the 500 pictures and their rows through the image store, as the bot would. */
async function seed(dir: string): Promise<number> {
  const store = openSqliteStore(path.join(dir, 'limner.db'));
  const images = new ImageStore(store, new LocalPictureStorage(dir));
  const pngs = await Promise.all(
    Array.from({ length: DISTINCT }, () =>
      sharp(randomBytes(WIDTH * HEIGHT * 3), { raw: { width: WIDTH, height: HEIGHT, channels: 3 } })
        .png({ compressionLevel: 1 })
        .toBuffer(),
    ),
  );
  let bytes = 0;
  for (let i = 0; i < PICTURES; i++) {
    const png = pngs[i % DISTINCT]!;
    bytes += png.byteLength;
    await images.save(
      { png, width: WIDTH, height: HEIGHT },
      {
        campaignId: CAMPAIGN,
        turn: 1 + (i % 400),
        mode: i % 3 ? 'specific' : 'current',
        prompt: `Bench scene ${i}: a lantern-lit hall of stone.`,
        provider: 'gemini',
        model: 'gemini-3.1-flash-image',
        textModel: 'gemini-3.5-flash',
        inputTokens: 300,
        outputTokens: 1120,
        costUsd: 0.07,
        requestedBy: 'cli',
      },
    );
  }
  store.close();
  return bytes;
}

/** Seeds a temporary campaign, runs each export in its own child process and returns the BENCHMARKS.md section. */
export async function run(): Promise<BenchSection> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'limner-bench-export-'));
  try {
    const pictureBytes = await seed(dir);
    const rows: string[] = [];
    const verdicts: string[] = [];
    for (const { mode, label } of MODES) {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', mode, dir],
        {
          cwd: ROOT,
          maxBuffer: 1024 * 1024,
        },
      );
      rmSync(path.join(dir, 'out'), { recursive: true, force: true });
      const r = JSON.parse(stdout) as ChildResult;
      const rate = r.bytes / MIB / (r.ms / 1000);
      rows.push(
        `| ${label} | ${r.zips} | ${(r.bytes / MIB).toFixed(0)} | ${(r.ms / 1000).toFixed(2)} | ${rate.toFixed(0)} | ${r.startRssMib.toFixed(0)} | ${r.peakRssMib.toFixed(0)} |`,
      );
      const ok = rate >= TARGET.mibPerSecond && r.peakRssMib < TARGET.peakRssMib;
      verdicts.push(`- ${label}: ${rate.toFixed(0)} MiB/s, peak RSS ${r.peakRssMib.toFixed(0)} MiB: ${ok ? 'met' : '**missed**'}.`);
    }
    const markdown = [
      `${PICTURES} pictures of ${(pictureBytes / PICTURES / MIB).toFixed(1)} MiB (random-noise PNGs, ${WIDTH}x${HEIGHT}, which do not compress; ${(pictureBytes / MIB).toFixed(0)} MiB in all), exported by \`planExport\` and jszip 3.10 (STORE, \`generateNodeStream\` with \`streamFiles\`, pictures streamed in; its CRC-32 is JavaScript). Time covers planning and building; the files were just written, so reads come from the page cache. Each export runs in a child process: peak RSS is that process's (Node, tsx, sharp and SQLite included), "at start" is its RSS before exporting. 1 MiB = 2^20 bytes.`,
      '',
      '| export | zips | MiB | s | MiB/s | RSS at start (MiB) | peak RSS (MiB) |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...rows,
      '',
      `Targets: at least ${TARGET.mibPerSecond} MB/s and peak RSS under ${TARGET.peakRssMib} MB.`,
      '',
      ...verdicts,
    ].join('\n');
    return { title: 'Export (/scene export, limner export)', markdown, command: 'npx tsx bench/export.ts' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv[2] === '--child') {
    await child(process.argv[3] as Mode, process.argv[4]!);
  } else {
    const section = await run();
    console.log(`## ${section.title}\n\n${section.markdown}`);
  }
}
