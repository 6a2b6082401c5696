import type { ButtonInteraction, ChatInputCommandInteraction, Message, ModalSubmitInteraction } from 'discord.js';
import type { EditOptions, EditOrigin, EditResult, EditStage } from '../../src/edits/edit.ts';
import type { JobContext } from '../../src/jobs/runner.ts';
import { ProgressReply } from '../bot/progress.ts';
import { failureText, replyWithError } from '../bot/respond.ts';
import { postScene, queueText, sceneReply, turnTitle, type SceneMessage } from '../bot/scene-message.ts';
import type { NewJob } from '../../src/jobs/store.ts';
import type { BotContext } from '../types.ts';

/** Progress lines shown while an edit, reroll or undo runs. */
export const EDIT_STAGE_TEXT: Readonly<Partial<Record<EditStage, string>>> = {
  waiting: 'Waiting for your previous edit to finish…',
  painting: 'Painting…',
  // Saving takes milliseconds: no line (see the scene's STAGE_TEXT).
};

/**
 * The upload limit assumed for replies to messages, bytes: Discord's limit in a server without
 * boosts (messages, unlike interactions, do not carry `attachment_size_limit`). Larger pictures
 * are shown as a preview by {@link sceneReply}.
 */
const MESSAGE_UPLOAD_LIMIT = 10 * 1024 * 1024;

/** What one edit operation gets from its door and its job. */
export interface EditRun {
  /** Shows a progress line in the reply. */
  readonly show: (text: string) => void;
  /** Guild, channel and job id of the request, for the usage ledger: pass it to the edit service. */
  readonly origin: EditOrigin;
  /** Shows the edit's stages and carries the job's abort signal (stopped at shutdown): pass it to the edit service. */
  readonly options: EditOptions;
}

/** The work of one edit operation: returns the picture. */
export type EditWork = (run: EditRun) => Promise<EditResult>;

/** Interactions that can start an edit operation. */
export type EditInteraction = ChatInputCommandInteraction | ButtonInteraction | ModalSubmitInteraction;

/** Embed title of a picture an edit operation shows, e.g. `Turn 2,160 · edit`. */
export function editTitle(result: EditResult, action: 'edit' | 'reroll' | 'undo'): string {
  if (action === 'undo') return turnTitle(result.image.turn, 'back to this picture');
  if (action === 'reroll') return turnTitle(result.image.turn, result.image.mode === 'edit' ? 'edit, rerolled' : 'rerolled');
  return turnTitle(result.image.turn, 'edit');
}

/**
 * Runs an edit operation for an interaction: defers publicly, shows progress in the reply, then
 * posts the picture with its buttons and records the message against the picture. Failures are
 * answered ephemerally, provider failures with an error id (see {@link failureText}).
 */
export async function editForInteraction(
  interaction: EditInteraction,
  ctx: BotContext,
  work: EditWork,
  title: (result: EditResult) => string,
  options: EditJobOptions = {},
): Promise<void> {
  const log = ctx.limner.log.child({ interaction: interaction.id, guild: interaction.guildId, user: interaction.user.id });
  const job = {
    kind: options.kind ?? 'scene edit',
    userId: interaction.user.id,
    guildId: interaction.guildId,
    channelId: interaction.channelId,
    interaction: { id: interaction.id, token: interaction.token },
  };
  if (options.modelWork ?? true) {
    try {
      ctx.limner.runner.precheck(job);
    } catch (err) {
      await replyWithError(interaction, err, log);
      return;
    }
  }
  await interaction.deferReply();
  const progress = new ProgressReply((text) => interaction.editReply({ content: text }), log);
  try {
    const result = await asJob(ctx, job, options, progress, work);
    await progress.settled();
    await postScene(interaction, ctx, result.image.id, await sceneReply(result, title(result), interaction.attachmentSizeLimit));
  } catch (err) {
    await progress.settled();
    await replyWithError(interaction, err, log, { providerErrorId: true });
  }
}

/**
 * Runs an edit operation for a message (reply-to-edit): answers with a reply to it that shows
 * progress and then the picture with its buttons, recorded against the picture. A message cannot
 * be answered privately, so failures are shown in that reply, provider failures with an error id.
 * Never throws.
 */
export async function editForMessage(
  message: Message<true>,
  ctx: BotContext,
  work: EditWork,
  title: (result: EditResult) => string,
): Promise<void> {
  const log = ctx.limner.log.child({ message: message.id, guild: message.guildId, user: message.author.id });
  let answer: Message<true> | undefined;
  const post = async (body: string | SceneMessage): Promise<Message<true>> => {
    const payload = typeof body === 'string' ? { content: body, embeds: [], files: [], components: [] } : body;
    answer = answer ? await answer.edit(payload) : await message.reply(payload);
    return answer;
  };
  const progress = new ProgressReply((text) => post(text), log);
  try {
    const result = await asJob(
      ctx,
      { kind: 'scene reply-edit', userId: message.author.id, guildId: message.guildId, channelId: message.channelId },
      {},
      progress,
      work,
    );
    await progress.settled();
    const sent = await post(await sceneReply(result, title(result), MESSAGE_UPLOAD_LIMIT));
    ctx.limner.links.recordSceneMessage({
      messageId: sent.id,
      imageId: result.image.id,
      guildId: message.guildId,
      channelId: message.channelId,
    });
  } catch (err) {
    await progress.settled();
    const text = failureText(err, log, { providerErrorId: true });
    await post(text).catch((replyErr: unknown) => log.warn({ err: replyErr }, 'could not tell the user about a failed edit'));
  }
}

/** How an edit operation runs. */
export interface EditJobOptions {
  /** Job kind for the job row and metrics; default `scene edit`. */
  readonly kind?: string;
  /** false for work without model calls (undo): it skips budgets and the queue. Default true. */
  readonly modelWork?: boolean;
}

/**
 * Model work goes through the job runner (budgets, fair queue, job row), and gets the job's id
 * and abort signal; the rest runs at once.
 */
function asJob(ctx: BotContext, job: NewJob, options: EditJobOptions, progress: ProgressReply, work: EditWork): Promise<EditResult> {
  const show = (text: string) => progress.show(text);
  const start = (context?: JobContext) =>
    work({
      show,
      origin: { guildId: job.guildId ?? null, channelId: job.channelId ?? null, jobId: context?.jobId ?? null },
      options: {
        onProgress: (stage) => {
          progress.dropPlace();
          const text = EDIT_STAGE_TEXT[stage];
          if (text) show(text);
        },
        signal: context?.signal,
      },
    });
  if (!(options.modelWork ?? true)) return start();
  return ctx.limner.runner.run(job, start, { imageOf: (r) => r.image.id, onPosition: (place) => progress.showPlace(queueText(place)) });
}
