import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSection } from './types.ts';

/** Bench modules run by `npm run bench`, in order, each in a process of its own (bench/section.ts). Each exports `run(): Promise<BenchSection>`. */
const MODULES = ['scanner', 'export', 'bot'] as const;

/**
 * This machine's speed while a section ran: the median time to parse a 2.5 MB JSON answer like a
 * 1K picture's, ms. Shared machines drift; a slower reading explains slower figures.
 */
function calibrate(): number {
  const json = JSON.stringify({ candidates: [{ content: { parts: [{ inlineData: { data: 'A'.repeat(2_500_000) } }] } }] });
  const times: number[] = [];
  for (let i = 0; i < 15; i++) {
    const started = performance.now();
    JSON.parse(json);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[7]!;
}

const sections: BenchSection[] = [];
const speed: string[] = [];
const took: string[] = [];
const started = performance.now();
const work = mkdtempSync(path.join(os.tmpdir(), 'limner-bench-'));
for (const name of MODULES) {
  // The export section writes and deletes a gigabyte: let the disk finish writing it back first, or
  // the bot's picture writes (with fsync) wait behind it and figure 2 grows by ~25 ms.
  execFileSync('sync');
  const before = calibrate();
  const sectionStarted = performance.now();
  const out = path.join(work, `${name}.json`);
  execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./section.ts', import.meta.url)), name, out], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const section = JSON.parse(readFileSync(out, 'utf8')) as BenchSection;
  took.push(`${section.title.split(' (')[0]!.split(':')[0]} ${Math.round((performance.now() - sectionStarted) / 1000)} s`);
  speed.push(`${section.title.split(' (')[0]}: ${before.toFixed(2)} ms before, ${calibrate().toFixed(2)} ms after`);
  console.log(`## ${section.title}\n\n${section.markdown}\n`);
  sections.push(section);
}

rmSync(work, { recursive: true, force: true });

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const header = [
  '# Benchmarks',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}.`,
  'Everything runs on loopback against the Discord and Gemini emulators. Reproduce all with `npm run bench`.',
  `\`npm run bench\` took ${Math.round((performance.now() - started) / 1000)} s in all (${took.join(', ')}).`,
  `Machine speed (median time to \`JSON.parse\` a 2.5 MB string, before and after each section; the machine is shared, and slower readings go with slower figures): ${speed.join('; ')}.`,
  '',
].join('\n');
const body = sections.map((s) => `## ${s.title}\n\nReproduce: \`${s.command}\`\n\n${s.markdown}\n`).join('\n');
writeFileSync(fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url)), `${header}\n${body}`);
console.log('BENCHMARKS.md written.');
