import type { Message, RepliableInteraction } from 'discord.js';
import type { EditResult } from '../../src/edits/edit.ts';
import type { Requester } from '../../src/jobs/runner.ts';
import type { SceneRequest, SceneResult } from '../../src/scenes/illustrate.ts';
import type { BotContext } from '../types.ts';
import { progressText, type PictureProgress } from '../messages.ts';
import { ProgressReply } from './progress.ts';
import { failureText, finishReply, replyWithError } from './respond.ts';
import { sceneReply, type SceneMessage } from './scene-message.ts';

/** A picture a use case made or returned to. */
export type PictureResult = SceneResult | EditResult;

/** One picture request as the Discord door runs it. */
export interface PictureWork<R extends PictureResult> {
  /** Refusals that need no model call, answered privately before anything public is posted. */
  readonly check?: () => Promise<void> | void;
  /** Calls the use case, passing `report` as its progress listener. */
  readonly run: (report: (progress: PictureProgress) => void) => Promise<R>;
  /** Embed title of the finished picture, e.g. `Turn 1,503 · current scene`. */
  readonly title: (result: R) => string;
}

/**
 * Who asks, as the use cases take it: the interaction's user, guild and channel, and the interaction
 * itself so a job its process leaves behind can still be answered.
 */
export function requesterOf(interaction: RepliableInteraction): Requester {
  return {
    userId: interaction.user.id,
    guildId: interaction.guildId,
    channelId: interaction.channelId,
    interaction: { id: interaction.id, token: interaction.token },
  };
}

/**
 * A public answer to an interaction that does model work: runs `check` (a refusal is private, never
 * flashed in the channel), defers publicly (unless the caller already did), lets `run` show progress
 * in the reply, settles the progress lines, then `show`s the result. Failures become ephemeral
 * messages ({@link replyWithError}), provider failures with an error id. Never throws.
 */
export async function answerPublicly<R>(
  interaction: RepliableInteraction,
  ctx: BotContext,
  work: {
    readonly check?: () => Promise<void> | void;
    readonly run: (progress: ProgressReply) => Promise<R>;
    readonly show: (result: R) => Promise<void>;
  },
): Promise<void> {
  const log = ctx.limner.log.child({ interaction: interaction.id, guild: interaction.guildId, user: interaction.user.id });
  try {
    await work.check?.();
  } catch (err) {
    await replyWithError(interaction, err, log);
    return;
  }
  try {
    if (!interaction.deferred && !interaction.replied) await interaction.deferReply();
  } catch (err) {
    log.warn({ err }, 'could not acknowledge the interaction');
    return;
  }
  const progress = new ProgressReply((text) => interaction.editReply({ content: text }), log);
  try {
    const result = await work.run(progress);
    await progress.settled();
    await work.show(result);
  } catch (err) {
    // A progress line still on its way must not overwrite the error.
    await progress.settled();
    await replyWithError(interaction, err, log, { providerErrorId: true });
  }
}

/**
 * Answers an interaction with a picture ({@link answerPublicly}): the use case's progress in the
 * reply, then the picture with its embed and buttons, and the message recorded against the stored
 * picture for replies, buttons and galleries. Never throws.
 */
export function answerWithPicture<R extends PictureResult>(
  interaction: RepliableInteraction,
  ctx: BotContext,
  work: PictureWork<R>,
): Promise<void> {
  return answerPublicly(interaction, ctx, {
    ...(work.check ? { check: work.check } : {}),
    run: (progress) => work.run((p) => reportProgress(progress, p)),
    show: async (result) => {
      const payload = await sceneReply(result, work.title(result), interaction.attachmentSizeLimit, ctx.limner.images);
      const shown = await finishReply(interaction, withReuseNote(result, payload));
      await ctx.limner.links.recordSceneMessage({
        messageId: shown.id,
        imageId: result.image.id,
        guildId: interaction.guildId,
        channelId: shown.channelId,
      });
    },
  });
}

/**
 * The upload limit assumed for replies to messages, bytes: Discord's limit in a server without
 * boosts (messages, unlike interactions, do not carry `attachment_size_limit`). Larger pictures are
 * shown as a preview by {@link sceneReply}.
 */
const MESSAGE_UPLOAD_LIMIT = 10 * 1024 * 1024;

/**
 * Answers a message (reply-to-edit) with a reply that shows progress and then the picture, recorded
 * against the picture. A message cannot be answered privately, so failures are shown in that reply,
 * provider failures with an error id; a refusal of `work.check` is that reply's only line, posted
 * before any progress. Never throws.
 */
export async function answerMessageWithPicture<R extends PictureResult>(
  message: Message<true>,
  ctx: BotContext,
  work: PictureWork<R>,
): Promise<void> {
  const log = ctx.limner.log.child({ message: message.id, guild: message.guildId, user: message.author.id });
  let answer: Message<true> | undefined;
  const post = async (body: string | SceneMessage): Promise<Message<true>> => {
    const payload = typeof body === 'string' ? { content: body, embeds: [], files: [], components: [] } : body;
    answer = answer ? await answer.edit(payload) : await message.reply(payload);
    return answer;
  };
  try {
    await work.check?.();
  } catch (err) {
    await post(failureText(err, log)).catch((replyErr: unknown) =>
      log.warn({ err: replyErr }, 'could not tell the user about a refused edit'),
    );
    return;
  }
  const progress = new ProgressReply((text) => post(text), log);
  try {
    const result = await work.run((p) => reportProgress(progress, p));
    await progress.settled();
    const sent = await post(await sceneReply(result, work.title(result), MESSAGE_UPLOAD_LIMIT, ctx.limner.images));
    await ctx.limner.links.recordSceneMessage({
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

/** Shows one progress event: places in line paced across the process, other lines newest first. */
export function reportProgress(progress: ProgressReply, event: PictureProgress): void {
  if (event.stage === 'queued') {
    progress.showPlace(progressText(event)!);
    return;
  }
  progress.dropPlace();
  const text = progressText(event);
  if (text) progress.showLatest(text);
}

/** A reused scene says so above the picture. */
function withReuseNote(result: PictureResult, payload: SceneMessage): SceneMessage {
  if (!('reused' in result) || !result.reused) return payload;
  const minutes = Math.max(1, Math.round(result.reused.ageMs / 60_000));
  const line = `This scene was painted ${minutes} min ago, so here it is again. Press **Reroll** for a fresh one.`;
  return { ...payload, content: payload.content ? `${line}\n${payload.content}` : line };
}

/** {@link answerWithPicture} for a scene request: the "illustrate a scene" use case's check, then its run. */
export function answerWithScene(
  interaction: RepliableInteraction,
  ctx: BotContext,
  request: SceneRequest,
  title: (turn: number) => string,
): Promise<void> {
  const { scenes } = ctx.limner;
  return answerWithPicture(interaction, ctx, {
    check: () => scenes.check(request),
    run: (report) => scenes.run(request, { onProgress: report }),
    title: (result) => title(result.image.turn),
  });
}
