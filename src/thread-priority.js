// Shared by the worker threads (model-worker.js, upload-worker.js), which are plain JavaScript
// (checked by tsc through JSDoc, loaded without a TypeScript loader), and the classes that start them.
import { getPriority, setPriority } from 'node:os';

/** Nice steps the bot's worker threads run below the bot's own thread ({@link setWorkerNice}). */
export const WORKER_NICE = 10;

let workerSteps = 0;

/**
 * Makes worker threads started from now on (ModelThread, UploadThread) lower their CPU priority by
 * `steps` nice steps ({@link lowerThreadPriority}). The bot's entry point calls it: there the main
 * thread acknowledges interactions, and on a busy machine it should run before picture work
 * (parsing a model's answer, uploading a picture), which then takes milliseconds more
 * (BENCHMARKS.md, figure 1). Other processes (the CLI, tests) leave their workers as they are.
 * @param steps - 0-19; default {@link WORKER_NICE}.
 */
export function setWorkerNice(steps = WORKER_NICE) {
  workerSteps = steps;
}

/** The nice steps a worker started now should lower itself by: 0 unless {@link setWorkerNice} was called. */
export function workerNice() {
  return workerSteps;
}

/**
 * Lowers the calling thread's CPU priority by `steps` nice steps (at most to 19).
 *
 * Linux only: there the nice value is a per-thread attribute, and `setpriority(PRIO_PROCESS, 0)`,
 * which `os.setPriority` calls, changes only the calling thread (setpriority(2), BUGS: "under the
 * current Linux/NPTL implementation of POSIX threads, the nice value is a per-thread attribute").
 * Elsewhere it would change the whole process, so it does nothing. Never throws.
 * @param {number} steps
 */
export function lowerThreadPriority(steps) {
  if (steps <= 0 || process.platform !== 'linux') return;
  try {
    setPriority(Math.min(19, getPriority() + steps));
  } catch {
    // Not permitted here (e.g. a sandbox without setpriority): run at the usual priority.
  }
}
