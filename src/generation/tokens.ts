import type { ContentListUnion, Part } from '@google/genai';

/**
 * Rough token count of text without a network call: about 4 characters per token for Gemini
 * models (source: Gemini API docs, "Understand and count tokens").
 */
export function estimateTextTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/**
 * Tokens an input image costs: 258 for an image whose sides are both at most 384 pixels, else
 * 258 per 768x768 tile (source: Gemini API docs, "Understand and count tokens", images).
 * Unknown dimensions count as one 1024x1024 image (4 tiles).
 */
export function estimateImageTokens(width?: number, height?: number): number {
  if (!width || !height) return 258 * 4;
  if (width <= 384 && height <= 384) return 258;
  return 258 * Math.ceil(width / 768) * Math.ceil(height / 768);
}

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
      else if (part.inlineData) tokens += estimateImageTokens();
    }
  }
  return tokens;
}
