import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BenchSection } from './types.ts';

/** Bench modules run by `npm run bench`, in order. Each exports `run(): Promise<BenchSection>`. */
const MODULES: ReadonlyArray<() => Promise<{ run: () => Promise<BenchSection> }>> = [
  () => import('./scanner.ts'),
  () => import('./export.ts'),
  () => import('./bot.ts'),
];

const sections: BenchSection[] = [];
for (const load of MODULES) {
  const section = await (await load()).run();
  console.log(`## ${section.title}\n\n${section.markdown}\n`);
  sections.push(section);
}

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const header = [
  '# Benchmarks',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}.`,
  'Everything runs on loopback against the Discord and Gemini emulators. Reproduce all with `npm run bench`.',
  '',
].join('\n');
const body = sections.map((s) => `## ${s.title}\n\nReproduce: \`${s.command}\`\n\n${s.markdown}\n`).join('\n');
writeFileSync(fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url)), `${header}\n${body}`);
console.log('BENCHMARKS.md written.');
