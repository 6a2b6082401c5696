import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './fixtures.ts';

const run = promisify(execFile);

/** What a CLI run printed and how it ended; `code` is null when the run was killed at its time limit. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the real CLI (`npm run limner` without npm) on `campaignsDir`, with the test configuration
 * layer and `geminiUrl` as Gemini (default: a closed port, so any model call fails).
 * @param options.timeoutMs - Kills the run after this long (default 60 s), so a hang fails the test instead of stalling it.
 */
export async function limnerCli(
  args: readonly string[],
  options: { campaignsDir: string; geminiUrl?: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: ROOT,
      timeout: options.timeoutMs ?? 60_000,
      env: {
        PATH: process.env.PATH,
        GEMINI_API_KEY: 'test-key',
        LIMNER_GEMINI_BASE_URL: options.geminiUrl ?? 'http://127.0.0.1:9',
        LIMNER_CAMPAIGNS_DIR: options.campaignsDir,
        LIMNER_CONFIG: path.join(ROOT, 'test/support/test-config.yaml'),
        ...options.env,
      },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number | null; killed?: boolean; stdout: string; stderr: string };
    return { code: e.killed ? null : e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
