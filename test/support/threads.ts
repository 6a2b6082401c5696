import { readdirSync, readFileSync } from 'node:fs';
import { setWorkerNice, WORKER_NICE } from '../../src/thread-priority.js';

/** Nice values of this process's threads (Linux): field 19 of `/proc/self/task/<tid>/stat` (proc(5)). */
function niceValues(): { main: number; all: number[] } {
  const nice = (tid: string) => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
  return { main: nice(String(process.pid)), all: readdirSync('/proc/self/task').map(nice) };
}

/**
 * Starts a worker thread with `start` as the bot's entry point would have it ({@link setWorkerNice}),
 * then says whether some thread of the process now runs {@link WORKER_NICE} steps below the main one.
 */
export async function startsBelowMainThread(start: () => Promise<unknown>): Promise<boolean> {
  setWorkerNice();
  try {
    await start();
  } finally {
    setWorkerNice(0);
  }
  const { main, all } = niceValues();
  return all.includes(Math.min(19, main + WORKER_NICE));
}
