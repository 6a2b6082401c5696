import { MessageFlags, type RepliableInteraction } from 'discord.js';
import { LimnerError } from '../../src/errors.ts';
import { newErrorId, type Logger } from '../../src/log.ts';

/**
 * Tells the user why their command failed, ephemerally: a {@link LimnerError}'s own message, or
 * for anything unexpected a generic line with an error id that is logged with the stack.
 * If the interaction was deferred publicly, the public "thinking" reply is removed first so the
 * failure is only shown to the user who asked.
 * Never throws: a failure to answer is logged.
 */
export async function replyWithError(interaction: RepliableInteraction, err: unknown, log: Logger): Promise<void> {
  let content: string;
  if (err instanceof LimnerError) {
    log.info({ code: err.code, err: err.cause ?? undefined }, 'command refused');
    content = err.userMessage;
  } else {
    const errorId = newErrorId();
    log.error({ err, errorId }, 'command failed unexpectedly');
    content = `Something went wrong on Limner's side (error id \`${errorId}\`). Please try again; if it keeps happening, give the id to the bot's operator.`;
  }
  try {
    await sendEphemeral(interaction, content);
  } catch (replyErr) {
    log.warn({ err: replyErr }, 'could not tell the user about a failed command');
  }
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
