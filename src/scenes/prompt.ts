import type { ThinkingLevel } from '@google/genai';
import type { Character } from '../campaigns/campaign.ts';
import type { Logger } from '../platform/log.ts';
import { boundContext, formatEntries, type SceneContext } from './context.ts';
import { candidateText, type CallUsage, type GeminiGateway, type GenerateOptions } from '../platform/gemini.ts';
import { estimateTextTokens } from '../platform/tokens.ts';

/**
 * System instruction of the prompt writer, after seed 17-2's SCENE_PROMPT_SYSTEM: a 30-50 word
 * visual description with no character names, so the image model draws people from their looks.
 */
export const SCENE_PROMPT_SYSTEM = `You are an art director for a fantasy tabletop role-playing game.
Given transcript turns from a game session, write a vivid visual scene description in 30-50 words
to be used as a prompt for an image generation model.
Focus on: setting, lighting, character poses, dramatic action, atmosphere.
Do NOT include any character or player names: describe characters by their appearance instead.
Speakers in the transcript are players and the game master; illustrate the story they tell, not the people at the table.
Answer with the description only: no preamble, no quotes, no lists.`;

/** The prompt the image model receives and how it came about. */
export interface ScenePrompt {
  /** Scene description plus art style, at most `maxChars` characters. */
  readonly prompt: string;
  /** The text model's description alone. */
  readonly scene: string;
  /** True when the final prompt had to be cut to `maxChars`. */
  readonly truncated: boolean;
  readonly usage: CallUsage;
}

/**
 * Room for the prompt writer's answer, tokens. On Gemini 3 thinking tokens count against it too;
 * low thinking leaves plenty for a 30-50 word description.
 */
const PROMPT_MAX_OUTPUT_TOKENS = 1024;

/**
 * Asks the text model for a visual description of `context` and appends the art style. What it
 * is sent is bounded by `input.maxInputTokens` ({@link boundedRequestText}), with a warning when
 * something was left out. The call is recorded in the usage ledger under `options.record` whatever its outcome.
 * @throws the {@link GeminiGateway.generate} errors, and ReplyCutOffError / PromptBlockedError /
 *   MalformedReplyError from {@link candidateText}.
 */
export async function writeScenePrompt(
  gateway: GeminiGateway,
  input: {
    readonly model: string;
    readonly context: SceneContext;
    readonly focus: 'latest' | 'turn';
    readonly characters: readonly Character[];
    readonly artStyle: string;
    /** A director's note from the requester, which the description follows. */
    readonly note?: string;
    readonly maxChars: number;
    /** Largest request, estimated input tokens (`generation.prompt_token_limit`). */
    readonly maxInputTokens: number;
  },
  log: Logger,
  options: GenerateOptions,
): Promise<ScenePrompt> {
  const bounded = boundedRequestText(input, input.maxInputTokens);
  if (bounded.droppedEntries > 0 || bounded.shortened || bounded.droppedCharacters > 0) {
    log.warn(
      {
        turn: input.context.turn,
        keptEntries: input.context.entries.length - bounded.droppedEntries,
        droppedEntries: bounded.droppedEntries,
        shortenedFocus: bounded.shortened,
        droppedCharacters: bounded.droppedCharacters,
        maxInputTokens: input.maxInputTokens,
      },
      'context cut to the prompt token limit',
    );
  }
  const { candidate, usage } = await gateway.generate(
    {
      model: input.model,
      contents: [{ role: 'user', parts: [{ text: bounded.text }] }],
      config: {
        systemInstruction: SCENE_PROMPT_SYSTEM,
        temperature: 0.8,
        maxOutputTokens: PROMPT_MAX_OUTPUT_TOKENS,
        // A short description needs little deliberation, and default thinking can use up the whole output limit.
        thinkingConfig: { thinkingLevel: 'LOW' as ThinkingLevel },
      },
    },
    options,
  );
  const scene = candidateText(candidate, log).replace(/\s+/g, ' ');
  const { prompt, truncated } = withStyle(scene, input.artStyle, input.maxChars);
  if (truncated) log.warn({ chars: scene.length, maxChars: input.maxChars }, 'scene prompt cut to the configured length');
  return { prompt, scene, truncated, usage };
}

/** What {@link boundedRequestText} sends and what it left out. */
export interface BoundedRequest {
  readonly text: string;
  /** Transcript entries left out. */
  readonly droppedEntries: number;
  /** True when the focus entry alone was over the budget and was shortened. */
  readonly shortened: boolean;
  /** Characters whose looks were left out. */
  readonly droppedCharacters: number;
}

/**
 * {@link sceneRequestText} within `maxTokens` estimated tokens, the system instruction included:
 * characters' looks take at most a quarter of the budget (in the order given), the transcript the
 * rest, cut at turn boundaries around the focus turn ({@link boundContext}).
 * @param maxTokens - Estimated tokens (see {@link estimateTextTokens}).
 */
export function boundedRequestText(
  input: {
    readonly context: SceneContext;
    readonly focus: 'latest' | 'turn';
    readonly characters: readonly Character[];
    readonly note?: string;
  },
  maxTokens: number,
): BoundedRequest {
  const characterBudget = Math.floor(maxTokens / 4);
  const characters: Character[] = [];
  let characterTokens = 0;
  for (const c of input.characters) {
    const tokens = estimateTextTokens(characterLine(c)) + 1;
    if (characterTokens + tokens > characterBudget) break;
    characters.push(c);
    characterTokens += tokens;
  }
  const frame = sceneRequestText({ ...input, characters, context: { ...input.context, entries: [] } });
  const room = Math.max(1, maxTokens - estimateTextTokens(SCENE_PROMPT_SYSTEM) - estimateTextTokens(frame));
  const context = boundContext(input.context, room);
  return {
    text: sceneRequestText({ ...input, characters, context }),
    droppedEntries: context.dropped,
    shortened: context.shortened,
    droppedCharacters: input.characters.length - characters.length,
  };
}

function characterLine(c: Character): string {
  return `- ${c.name}: ${c.description}`;
}

/** The user turn sent to the prompt writer: characters' looks, the turns, what to illustrate and the director's note. */
export function sceneRequestText(input: {
  readonly context: SceneContext;
  readonly focus: 'latest' | 'turn';
  readonly characters: readonly Character[];
  readonly note?: string;
}): string {
  const parts: string[] = [];
  if (input.characters.length > 0) {
    parts.push(
      'Characters (names for your understanding only; describe them by appearance):\n' + input.characters.map(characterLine).join('\n'),
    );
  }
  parts.push(`Transcript:\n${formatEntries(input.context.entries)}`);
  parts.push(
    input.focus === 'turn'
      ? `Illustrate the moment of turn ${input.context.turn}; the other turns are context.`
      : 'Illustrate the latest moment of the story.',
  );
  if (input.note) parts.push(`Director's note from the player who asked (follow it): ${input.note}`);
  return parts.join('\n\n');
}

/**
 * `"<scene> Art style: <style>."`, cut to `maxChars`. The scene is shortened at a word
 * boundary so the art style survives; only a style longer than the limit is cut itself.
 */
export function withStyle(scene: string, artStyle: string, maxChars: number): { prompt: string; truncated: boolean } {
  const style = artStyle.trim() ? ` Art style: ${artStyle.trim().replace(/\.$/, '')}.` : '';
  const full = `${scene}${style}`;
  if (full.length <= maxChars) return { prompt: full, truncated: false };
  const room = maxChars - style.length;
  if (room < 20) return { prompt: full.slice(0, maxChars).trimEnd(), truncated: true };
  const cut = scene.slice(0, room);
  const atWord = cut.lastIndexOf(' ') > room / 2 ? cut.slice(0, cut.lastIndexOf(' ')) : cut;
  return { prompt: `${atWord.trimEnd()}${style}`, truncated: true };
}
