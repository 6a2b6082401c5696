import type { ContentListUnion, Part } from '@google/genai';

/**
 * Rough token count of text without a network call: about 4 characters per token for Gemini
 * models (source: Gemini API docs, "Understand and count tokens").
 */
export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * Estimated tokens of one input image: a reference shrunk to at most 1024x1024 pixels is at most
 * 4 tiles of 768x768 at 258 tokens each (source: Gemini API docs, "Understand and count tokens",
 * images). A picture being edited may be larger; the estimate is only shown beside the real
 * count, so one figure for every image is close enough.
 */
export const IMAGE_INPUT_TOKENS = 258 * 4;

/** Estimated input tokens of a request's `contents` plus its system instruction. */
export function estimateRequestTokens(contents: ContentListUnion, systemInstruction?: unknown): number {
  let tokens = typeof systemInstruction === 'string' ? estimateTextTokens(systemInstruction) : 0;
  const list = Array.isArray(contents) ? contents : [contents];
  for (const item of list) {
    if (typeof item === 'string') {
      tokens += estimateTextTokens(item);
      continue;
    }
    const parts: Part[] = 'parts' in item && Array.isArray(item.parts) ? item.parts : [item as Part];
    for (const part of parts) {
      if (part.text) tokens += estimateTextTokens(part.text);
      else if (part.inlineData) tokens += IMAGE_INPUT_TOKENS;
    }
  }
  return tokens;
}
