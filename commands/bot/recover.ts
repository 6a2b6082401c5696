import { InteractionWebhook, Routes, type Client } from 'discord.js';
import { sceneReply, turnTitle } from './scene-message.ts';
import type { Limner } from '../../src/app.ts';
import type { JobRow } from '../../src/platform/schema.ts';
import { TOKEN_LIFETIME_MS } from './respond.ts';

/** Shown in the original reply of a job a previous process did not finish. */
export const INTERRUPTED_TEXT = 'Limner restarted while working on this and could not finish it. Please run the command again.';

/** Shown with a picture posted by another process after the one that painted it stopped before posting it. */
export const LATE_TEXT = 'Here is your picture: Limner restarted just after painting it, before it could show it.';

/**
 * The largest attachment a late post sends, bytes: without the interaction, its
 * `attachmentSizeLimit` is unknown, so the smallest a guild has (Discord's limit without boosts).
 */
const LATE_ATTACHMENT_LIMIT_BYTES = 10 * 1024 * 1024;

/** Shown instead when that picture is gone (deleted meanwhile, or the job stored none of its own). */
const LATE_GONE_TEXT = 'Limner restarted just after finishing this, before it could show it: find the picture with /scene gallery.';

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
    () => {
      void limner.jobs.failStale(leaseS, INTERRUPTED_TEXT).then(
        (left) => {
          if (left.length === 0) return;
          void tellInterrupted(limner, client, left).then((told) =>
            limner.log.warn({ found: left.length, told }, 'jobs of a process that stopped answering marked failed'),
          );
        },
        (err: unknown) => limner.log.warn({ err }, 'could not look for abandoned jobs'),
      );
      void postUndelivered(limner, client);
    },
    (leaseS * 1000) / 3,
  );
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Posts, in each original reply, the picture of a job that succeeded over `queue.lease_s` ago but
 * whose interaction was never answered (its process died between saving and posting), where the
 * token is still valid; a job without a stored picture gets a line pointing to the gallery.
 * Returns how many were posted. Never throws.
 */
export async function postUndelivered(limner: Limner, client: Client<true>): Promise<number> {
  let posted = 0;
  try {
    for (const job of await limner.jobs.takeUndelivered(limner.config.queue.lease_s)) {
      if (!job.interactionToken || Date.now() - Date.parse(job.createdAt) > TOKEN_LIFETIME_MS) continue;
      try {
        const image = job.imageId ? await limner.images.get(job.imageId) : undefined;
        const webhook = new InteractionWebhook(client, client.application.id, job.interactionToken);
        if (image && !image.deletedAt) {
          // The message the door would have posted: picture, embed and buttons, under a line saying why it is late.
          const campaign = limner.campaigns.lastLoaded(image.campaignId) ?? (await limner.campaigns.load(image.campaignId));
          const reply = await sceneReply(
            { image, file: limner.images.location(image.imagePath), campaign: { id: campaign.id, name: campaign.name } },
            turnTitle(image.turn),
            LATE_ATTACHMENT_LIMIT_BYTES,
            limner.images,
          );
          const message = await webhook.editMessage('@original', {
            ...reply,
            content: [LATE_TEXT, reply.content].filter(Boolean).join('\n'),
          });
          // As the door records a posted picture: a reply to it edits it.
          await limner.links.recordSceneMessage({
            messageId: message.id,
            imageId: image.id,
            guildId: job.guildId,
            channelId: message.channelId,
          });
        } else {
          await webhook.editMessage('@original', { content: LATE_GONE_TEXT, embeds: [], components: [], files: [] });
        }
        posted++;
      } catch (err) {
        limner.log.warn({ err, jobId: job.id }, 'could not post the picture of a job whose process stopped');
      }
    }
  } catch (err) {
    limner.log.warn({ err }, 'could not look for pictures left unposted');
  }
  if (posted > 0) limner.log.warn({ posted }, 'posted pictures a stopped process had painted');
  return posted;
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
