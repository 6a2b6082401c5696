import { MessageReferenceType, type Message } from 'discord.js';

/**
 * The id of the message that `message` is a reply to, or undefined. A forward also carries a
 * `reference`, of type Forward, to the message it copies: forwarding a scene picture elsewhere asks
 * Limner for nothing, so only references of type Default count.
 */
export function repliedMessageId(message: Pick<Message, 'reference'>): string | undefined {
  const reference = message.reference;
  if (!reference) return undefined;
  // Discord documents an absent `type` as Default (0); discord.js passes it through as undefined.
  const type: MessageReferenceType | undefined = reference.type;
  return (type ?? MessageReferenceType.Default) === MessageReferenceType.Default ? reference.messageId : undefined;
}
