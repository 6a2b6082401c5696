/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`, e.g. `LIMNER_BENCH_PROFILE=cpu npx tsx bench/bot.ts`):
 * the functions with the most self time, and self time by package or folder.
 *
 *   npx tsx bench/cpuprofile.ts <file.cpuprofile> [top=25] [long-task threshold ms]
 *
 * With a threshold, it also lists the stretches the thread was busy without a break for at least
 * that long (what delays the event loop), with the functions most often on the stack in each.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a script lives: `node_modules/<package>`, a repository folder, or Node's own. */
function area(url: string): string {
  if (!url) return '(native / idle / gc)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:')) return 'node:internal';
  const own = /\/(src|commands|bench|test)\/(.*)\/[^/]+$/.exec(url) ?? /\/(src|commands|bench|test)\//.exec(url);
  return own ? `${own[1]}/${own[2] ?? ''}` : url;
}

export function summarise(profile: Profile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = (profile.endTime - profile.startTime) / 1000;
  const fn = new Map<string, number>();
  const areas = new Map<string, number>();
  let idle = 0;
  for (const [id, us] of self) {
    const node = byId.get(id)!;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    const key = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*\/(node_modules|src|commands|test|bench)\//, '$1/')}:${lineNumber + 1}` : ''}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const a = area(url);
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  const busy = [...fn.values()].reduce((a, b) => a + b, 0) / 1000;
  const row = (name: string, us: number) =>
    `${(us / 1000).toFixed(1).padStart(9)} ms ${((us / 1000 / busy) * 100).toFixed(1).padStart(5)}%  ${name}`;
  return [
    `profile ${total.toFixed(0)} ms, busy ${busy.toFixed(0)} ms, idle ${(idle / 1000).toFixed(0)} ms`,
    '',
    'self time by area:',
    ...[...areas]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => row(k, v)),
    '',
    'self time by function:',
    ...[...fn]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, v]) => row(k, v)),
  ].join('\n');
}

/**
 * Stretches of at least `thresholdMs` during which the thread never went idle (what delays the
 * event loop), each with its share of garbage collection and the functions most often on the stack.
 */
export function longTasks(profile: Profile, thresholdMs = 50, top = 6): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n: ProfileNode) => {
    const { functionName, url, lineNumber } = n.callFrame;
    return `${functionName || '(anonymous)'}${url ? ` ${url.replace(/^.*\/(node_modules|src|commands|test|bench)\//, '$1/')}:${lineNumber + 1}` : ''}`;
  };
  const out: string[] = [];
  let t = 0;
  let start = -1;
  let run: number[] = [];
  const flush = (end: number) => {
    const duration = (end - start) / 1000;
    if (start >= 0 && duration >= thresholdMs) {
      const inclusive = new Map<string, number>();
      let gc = 0;
      for (const id of run) {
        const seen = new Set<string>();
        for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
          const node = byId.get(cur)!;
          if (node.callFrame.functionName === '(root)') break;
          const key = label(node);
          if (!seen.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + 1);
          seen.add(key);
        }
        if (byId.get(id)!.callFrame.functionName === '(garbage collector)') gc++;
      }
      const rows = [...inclusive]
        .sort((a, b) => b[1] - a[1])
        .filter(([k]) => !/^\((program|garbage collector)\)/.test(k))
        .slice(0, top);
      out.push(
        `at ${(start / 1000).toFixed(0)} ms: ${duration.toFixed(0)} ms busy, ${run.length} samples, ${((gc / run.length) * 100).toFixed(0)}% GC`,
        ...rows.map(([k, v]) => `    ${((v / run.length) * 100).toFixed(0).padStart(3)}%  ${k}`),
      );
    }
    start = -1;
    run = [];
  };
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const id = profile.samples[i]!;
    if (byId.get(id)!.callFrame.functionName === '(idle)') flush(t);
    else {
      if (start < 0) start = t - (profile.timeDeltas[i] ?? 0);
      run.push(id);
    }
  }
  flush(t);
  return out.join('\n') || `no busy stretch of ${thresholdMs} ms or more`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, top, long] = process.argv.slice(2);
  if (!file) {
    console.error('usage: npx tsx bench/cpuprofile.ts <file.cpuprofile> [top=25] [long-task threshold ms]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  console.log(summarise(profile, Number(top ?? 25)));
  if (long) console.log(`\nlong tasks (>= ${long} ms):\n${longTasks(profile, Number(long))}`);
}
