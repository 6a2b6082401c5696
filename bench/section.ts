/**
 * Runs one bench module in a process of its own and writes its section as JSON:
 *
 *   node --import tsx bench/section.ts <module: scanner | export | bot> <output.json>
 *
 * bench/main.ts starts one per module, so that no section runs in a process that an earlier one
 * left with a large heap or busy timers (the bot section hosts the Discord emulator in-process, and
 * its figures include that process's delays).
 */
import { writeFileSync } from 'node:fs';
import type { BenchSection } from './types.ts';

const [name, out] = process.argv.slice(2);
if (!name || !out || !/^[a-z]+$/.test(name)) throw new Error('usage: bench/section.ts <module> <output.json>');
const module = (await import(`./${name}.ts`)) as { run: () => Promise<BenchSection> };
const section = await module.run();
writeFileSync(out, JSON.stringify(section));
