import { Routes, type Client } from 'discord.js';
import type { Limner } from '../../src/app.ts';
import { TOKEN_LIFETIME_MS } from './respond.ts';

/** Shown in the original reply of a job a previous process did not finish. */
export const INTERRUPTED_TEXT = 'Limner restarted while working on this and could not finish it. Please run the command again.';

/**
 * At start-up: marks jobs a dead process left queued or running as failed and, where the
 * interaction token is still valid, says so in the original reply. Returns how many were found
 * and how many users were told. Never throws.
 */
export async function recoverInterruptedJobs(limner: Limner, client: Client<true>): Promise<{ found: number; told: number }> {
  const left = limner.jobs.failInterrupted(INTERRUPTED_TEXT);
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
  if (left.length > 0) limner.log.warn({ found: left.length, told }, 'jobs interrupted by the last shutdown marked failed');
  return { found: left.length, told };
}
