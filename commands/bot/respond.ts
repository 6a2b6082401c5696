import { MessageFlags, type RepliableInteraction } from 'discord.js';
import type { SceneMessage } from './scene-message.ts';
import { LimnerError, MalformedReplyError, ProviderError, ProviderTimeoutError } from '../../src/errors.ts';
import { newErrorId, type Logger } from '../../src/platform/log.ts';

/**
 * Tells the user why their command failed, ephemerally, in the words of {@link failureText}, by way
 * of {@link sendEphemeral}. Never throws: a failure to answer is logged.
 */
export async function replyWithError(
  interaction: RepliableInteraction,
  err: unknown,
  log: Logger,
  options: FailureTextOptions = {},
): Promise<void> {
  const content = failureText(err, log, options);
  try {
    await sendEphemeral(interaction, content);
  } catch (replyErr) {
    log.warn({ err: replyErr }, 'could not tell the user about a failed command');
  }
}

/** How {@link failureText} words a failure. */
export interface FailureTextOptions {
  /**
   * Give provider failures (HTTP errors after retries, timeouts, unreadable replies) an error id
   * too, logged with the cause, so a failed edit can be traced in the log.
   */
  readonly providerErrorId?: boolean;
}

/**
 * What to tell a user about a failure, logging it: a {@link LimnerError}'s own message (plus an
 * error id for provider failures when asked), or for anything unexpected a generic line with an
 * error id that is logged with the stack.
 */
export function failureText(err: unknown, log: Logger, options: FailureTextOptions = {}): string {
  if (err instanceof LimnerError) {
    if (
      options.providerErrorId &&
      (err instanceof ProviderError || err instanceof ProviderTimeoutError || err instanceof MalformedReplyError)
    ) {
      const errorId = newErrorId();
      log.warn({ code: err.code, err: err.cause ?? err, errorId }, 'provider failed');
      return `${err.userMessage} (error id \`${errorId}\`)`;
    }
    log.info({ code: err.code, err: err.cause ?? undefined }, 'command refused');
    return err.userMessage;
  }
  // The job runner has already logged it under an id when the failure happened inside a job.
  const logged = (err as { errorId?: unknown } | null)?.errorId;
  const errorId = typeof logged === 'string' ? logged : newErrorId();
  if (typeof logged !== 'string') log.error({ err, errorId }, 'command failed unexpectedly');
  return `Something went wrong on Limner's side (error id \`${errorId}\`). Please try again; if it keeps happening, give the id to the bot's operator.`;
}

/**
 * An ephemeral answer whatever state the interaction is in:
 * - not yet acknowledged: an ephemeral reply;
 * - deferred privately (`deferReply` with the Ephemeral flag): the private reply itself shows it;
 * - deferred publicly: the public reply is removed, so the failure is only shown to the user who
 *   asked, and an ephemeral follow-up says it;
 * - anything else, e.g. a component's `deferUpdate` or `update`: an ephemeral follow-up; the message
 *   the component is on stays.
 *
 * discord.js 14 sets `ephemeral` (true or false) only in `reply` and `deferReply`; after `deferUpdate`
 * it stays null while `deferred` is true, and there the "reply" is the component's own message.
 */
export async function sendEphemeral(interaction: RepliableInteraction, content: string): Promise<void> {
  if (!interaction.deferred && !interaction.replied) {
    await interaction.reply({ content, flags: MessageFlags.Ephemeral });
    return;
  }
  if (interaction.deferred && interaction.ephemeral === true) {
    await interaction.editReply({ content, embeds: [], components: [], attachments: [] });
    return;
  }
  if (interaction.deferred && interaction.ephemeral === false) {
    await interaction.deleteReply().catch(() => undefined);
  }
  await interaction.followUp({ content, flags: MessageFlags.Ephemeral });
}

/** Discord accepts edits and follow-ups of an interaction for 15 minutes after it was created. */
export const TOKEN_LIFETIME_MS = 15 * 60 * 1000;
/** Room left for the upload itself when deciding whether the token will still be good. */
const TOKEN_MARGIN_MS = 60 * 1000;

/** Where a finished picture was shown: the interaction's reply, or a message posted in its channel. */
export interface ShownMessage {
  readonly kind: 'reply' | 'post';
  readonly id: string;
  readonly channelId: string;
}

/**
 * Shows the finished result in the interaction's reply, or, when a long wait (queue, scan) has
 * brought the interaction close to its 15-minute token lifetime, posts it as a new message in the
 * channel mentioning the user, so a picture that was paid for is never lost.
 * @throws the REST error of the edit or the post.
 */
export async function finishReply(interaction: RepliableInteraction, payload: SceneMessage): Promise<ShownMessage> {
  const edit = async (): Promise<ShownMessage> => {
    const message = await interaction.editReply(payload);
    return { kind: 'reply', id: message.id, channelId: message.channelId };
  };
  if (Date.now() - interaction.createdTimestamp < TOKEN_LIFETIME_MS - TOKEN_MARGIN_MS) return edit();
  const { channelId } = interaction;
  const channel = interaction.channel ?? (channelId ? await interaction.client.channels.fetch(channelId).catch(() => null) : null);
  if (!channel?.isSendable()) return edit();
  const mention = `<@${interaction.user.id}>`;
  const posted = await channel.send({
    ...payload,
    content: payload.content ? `${mention} ${payload.content}` : mention,
    allowedMentions: { users: [interaction.user.id] },
  });
  return { kind: 'post', id: posted.id, channelId: posted.channelId };
}
