import { Routes, type Client } from 'discord.js';
import type { Limner } from '../../src/app.ts';
import type { JobRow } from '../../src/platform/schema.ts';
import { TOKEN_LIFETIME_MS } from './respond.ts';

/** Shown in the original reply of a job a previous process did not finish. */
export const INTERRUPTED_TEXT = 'Limner restarted while working on this and could not finish it. Please run the command again.';

/**
 * At start-up: marks jobs a dead process left queued or running as failed and, where the
 * interaction token is still valid, says so in the original reply. Returns how many were found
 * and how many users were told. Never throws.
 */
export async function recoverInterruptedJobs(limner: Limner, client: Client<true>): Promise<{ found: number; told: number }> {
  const left = await limner.jobs.failInterrupted(INTERRUPTED_TEXT);
  const told = await tellInterrupted(limner, client, left);
  if (left.length > 0) limner.log.warn({ found: left.length, told }, 'jobs interrupted by the last shutdown marked failed');
  return { found: left.length, told };
}

/**
 * While the bot runs: every `queue.lease_s / 3`, marks jobs of any process whose heartbeat is
 * older than `queue.lease_s` as failed (their process died; this frees their slots in the shared
 * queue) and tells their users while the token is valid. Returns the function that stops watching.
 */
export function watchAbandonedJobs(limner: Limner, client: Client<true>): () => void {
  const { lease_s: leaseS } = limner.config.queue;
  const timer = setInterval(
    () =>
      void limner.jobs.failStale(leaseS, INTERRUPTED_TEXT).then(
        (left) => {
          if (left.length === 0) return;
          void tellInterrupted(limner, client, left).then((told) =>
            limner.log.warn({ found: left.length, told }, 'jobs of a process that stopped answering marked failed'),
          );
        },
        (err: unknown) => limner.log.warn({ err }, 'could not look for abandoned jobs'),
      ),
    (leaseS * 1000) / 3,
  );
  timer.unref();
  return () => clearInterval(timer);
}

/** Says in each job's original reply that it was interrupted, where the token is still valid; returns how many were told. */
async function tellInterrupted(limner: Limner, client: Client<true>, left: readonly JobRow[]): Promise<number> {
  let told = 0;
  for (const job of left) {
    if (!job.interactionToken || Date.now() - Date.parse(job.createdAt) > TOKEN_LIFETIME_MS) continue;
    try {
      await client.rest.patch(Routes.webhookMessage(client.application.id, job.interactionToken), {
        body: { content: INTERRUPTED_TEXT, embeds: [], components: [], attachments: [] },
        auth: false,
      });
      told++;
    } catch (err) {
      limner.log.warn({ err, jobId: job.id }, 'could not tell a user about an interrupted job');
    }
  }
  return told;
}
