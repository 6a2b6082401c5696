import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchSection } from './types.ts';

/** Bench modules run by `npm run bench`, in order, each in a process of its own (bench/section.ts). Each exports `run(): Promise<BenchSection>`. */
const MODULES = ['scanner', 'export', 'bot', 'throughput'] as const;

/** `npm run bench -- <module>...` runs only those and replaces their sections in BENCHMARKS.md, keeping the rest. */
const selected = process.argv.slice(2);
for (const name of selected)
  if (!(MODULES as readonly string[]).includes(name)) throw new Error(`unknown bench module ${name}; known: ${MODULES.join(', ')}`);
const BENCHMARKS = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));

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
for (const name of selected.length > 0 ? selected : MODULES) {
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

const body = (s: BenchSection) => `## ${s.title}\n\nReproduce: \`${s.command}\`\n\n${s.markdown}\n`;
if (selected.length > 0) {
  // The header's date, machine and timings stay those of the last full run; each section says its own.
  const [header, ...kept] = readFileSync(BENCHMARKS, 'utf8').split(/^(?=## )/m);
  for (const section of sections) {
    const at = kept.findIndex((k) => k.startsWith(`## ${section.title}\n`));
    if (at >= 0) kept[at] = body(section);
    else kept.push(body(section));
  }
  // Sections are separated by one blank line, as a full run writes them.
  writeFileSync(BENCHMARKS, `${header}${kept.map((k) => k.trimEnd() + '\n').join('\n')}`);
  console.log(`BENCHMARKS.md: ${sections.map((s) => s.title).join(', ')} replaced.`);
} else {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const header = [
    '# Benchmarks',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}.`,
    'Everything runs on loopback against the Discord and Gemini emulators. Reproduce all with `npm run bench`, one section with `npm run bench -- <module>` (' +
      MODULES.join(', ') +
      ').',
    `\`npm run bench\` took ${Math.round((performance.now() - started) / 1000)} s in all (${took.join(', ')}).`,
    `Machine speed (median time to \`JSON.parse\` a 2.5 MB string, before and after each section; the machine is shared, and slower readings go with slower figures): ${speed.join('; ')}.`,
    '',
  ].join('\n');
  writeFileSync(BENCHMARKS, `${header}\n${sections.map(body).join('\n')}`);
  console.log('BENCHMARKS.md written.');
}
