import type { z } from 'zod';
import { MalformedReplyError, ReplyCutOffError } from './errors.ts';
import { candidateText } from './gemini.ts';
import type { Logger } from './log.ts';

/**
 * A structured-output answer's text (`responseMimeType: 'application/json'` with a
 * `responseJsonSchema`) read with the zod schema it was asked for: the value, or what is wrong with
 * it in words the model can be told when it is asked again ("not JSON: ...", "turn: expected number").
 */
export function readStructured<S extends z.ZodType>(text: string, schema: S): { value: z.output<S> } | { problem: string } {
  if (text.trim() === '') return { problem: 'no text' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: `not JSON: ${text.slice(0, 80)}` };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) return { problem: parsed.error.issues.map((i) => `${i.path.join('.') || 'answer'}: ${i.message}`).join('; ') };
  return { value: parsed.data };
}

/**
 * {@link readStructured} on a candidate's text; a reply with no usable text (malformed, or cut off at
 * the output limit before any) is a problem to ask again about too.
 * @throws PromptBlockedError from {@link candidateText}.
 */
export function readStructuredCandidate<S extends z.ZodType>(
  candidate: Parameters<typeof candidateText>[0],
  schema: S,
  log: Logger,
): { value: z.output<S> } | { problem: string } {
  let text: string;
  try {
    text = candidateText(candidate, log);
  } catch (err) {
    if (err instanceof MalformedReplyError) return { problem: err.detail };
    if (err instanceof ReplyCutOffError) return { problem: 'the answer reached the output token limit before any text' };
    throw err;
  }
  return readStructured(text, schema);
}
