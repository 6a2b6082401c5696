import type { z } from 'zod';

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
