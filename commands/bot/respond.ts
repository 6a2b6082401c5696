import { MessageFlags, type RepliableInteraction } from 'discord.js';
import { LimnerError, MalformedReplyError, ProviderError, ProviderTimeoutError } from '../../src/errors.ts';
import { newErrorId, type Logger } from '../../src/log.ts';

/**
 * Tells the user why their command failed, ephemerally, in the words of {@link failureText}.
 * If the interaction was deferred publicly, the public "thinking" reply is removed first so the
 * failure is only shown to the user who asked.
 * Never throws: a failure to answer is logged.
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
    if (options.providerErrorId && (err instanceof ProviderError || err instanceof ProviderTimeoutError || err instanceof MalformedReplyError)) {
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

/** An ephemeral answer whatever state the interaction is in. */
export async function sendEphemeral(interaction: RepliableInteraction, content: string): Promise<void> {
  if (!interaction.deferred && !interaction.replied) {
    await interaction.reply({ content, flags: MessageFlags.Ephemeral });
    return;
  }
  if (interaction.deferred && !interaction.ephemeral) {
    await interaction.deleteReply().catch(() => undefined);
  }
  await interaction.followUp({ content, flags: MessageFlags.Ephemeral });
}
