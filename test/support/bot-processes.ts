import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { BotProcessSettings } from './bot-process.ts';
import { ROOT } from './fixtures.ts';

/**
 * Forks `test/support/bot-process.ts` as shard `settings.shard` of `shardCount` and resolves once its
 * gateway is ready. `env` is added to the child's environment (e.g. the S3 server's credentials,
 * which the SDK reads from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`). The child's stderr is
 * the test's; its stdout is dropped.
 * @throws when the process exits before it is ready.
 */
export async function forkBotProcess(
  settings: BotProcessSettings,
  shardCount: number,
  env: Record<string, string> = {},
): Promise<ChildProcess> {
  const child = fork(path.join(ROOT, 'test/support/bot-process.ts'), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      ...env,
      LIMNER_TEST_BOT: JSON.stringify(settings),
      SHARDS: JSON.stringify([settings.shard]),
      SHARD_COUNT: String(shardCount),
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    const exited = (code: number | null) =>
      reject(new Error(`bot process for shard ${settings.shard} exited (${code}) before it was ready`));
    child.once('exit', exited);
    child.once('message', () => {
      child.off('exit', exited);
      resolve();
    });
  });
  return child;
}

/** Asks a bot process to stop (running jobs get 1 s), killing it after 10 s; resolves once it exited. */
export async function stopBotProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send('stop');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Kills a bot process with SIGKILL (no shutdown at all, as a crash) and resolves once it is gone. */
export async function killBotProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
