import { CastReplyError } from './errors.ts';
import { MalformedReplyError, ReplyCutOffError } from '../platform/errors.ts';
import { createHash } from 'node:crypto';
import type { ThinkingLevel } from '@google/genai';
import pLimit, { type LimitFunction } from 'p-limit';
import { z } from 'zod';
import type { Transcript } from '../campaigns/transcript.ts';
import { characterNameKey, sameCharacter } from '../campaigns/character-names.ts';
import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/log.ts';
import { candidateText, type CallOrigin, type CallUsage, type GeminiGateway } from '../platform/gemini.ts';
import { readStructured } from '../platform/structured-answer.ts';
import { PASSAGE_SHARE, splitPassages, type Passage } from '../scenes/best/passages.ts';
import type { ScanCache } from '../scenes/best/scan-cache.ts';

/** Most words of a proposed description: enough for build, face, hair, clothing and signature items. */
export const DESCRIPTION_MAX_WORDS = 60;

/** Most characters one passage may propose, and the cast a whole transcript proposes. */
export const MAX_PROPOSED = 12;

/**
 * The cast proposer's answer for one passage. Sent to Gemini as `responseJsonSchema` and used to
 * parse the reply, so the two cannot drift apart.
 */
export const castAnswerSchema = z.object({
  characters: z
    .array(
      z.object({
        name: z.string().min(1).max(100).describe('the name the story uses for the character (never a player at the table)'),
        description: z
          .string()
          .min(1)
          .max(1000)
          .describe('what the character looks like: build, face, hair, clothing, signature items; at most 60 words, no names'),
      }),
    )
    .max(MAX_PROPOSED),
});

const CAST_ANSWER_JSON_SCHEMA = z.toJSONSchema(castAnswerSchema);

/** Instruction for reading one passage. */
export const CAST_SYSTEM = `You read a passage of a tabletop role-playing session to cast its illustrations.
List the characters of the story who act or are named in the passage and matter to it: player characters, their companions and recurring non-player characters.
Speakers are the players and the game master at the table (for example TRAVIS or MATT): never list them; list the characters they play or voice.
For each character give the name the story uses and a visual description for a portrait painter: build, face, hair, clothing and signature items, in at most 60 words, without names.
Use what the story says; where it says nothing, choose looks that fit the character's people, calling and role.
List at most 12 characters, the most present first; an empty list when the passage has none.`;

/** A character the story proposes, merged over the passages that name it. */
export interface ProposedCharacter {
  readonly name: string;
  /** At most {@link DESCRIPTION_MAX_WORDS} words. */
  readonly description: string;
  /** Passages that proposed it. */
  readonly passages: number;
}

/** How far a cast reading has got, for progress lines. */
export interface CastReadProgress {
  /** Entries in the transcript. */
  readonly turns: number;
  readonly passages: number;
  /** Passages read so far, cached ones included. */
  readonly read: number;
}

/** What the proposer found in a whole transcript. */
export interface CastReading {
  /** Most recurring first (passages proposing it), then in order of first proposal; at most {@link MAX_PROPOSED}. */
  readonly characters: readonly ProposedCharacter[];
  readonly passages: number;
  /** True when every passage's answer was cached, so no model call was made. */
  readonly cached: boolean;
  /** Every call this reading made, retries included. */
  readonly calls: readonly CallUsage[];
}

/** Collaborators of {@link CastProposer}. */
export interface CastProposerDeps {
  readonly config: Config;
  readonly gateway: GeminiGateway;
  readonly cache: ScanCache;
  readonly log: Logger;
}

/**
 * Reads a transcript in the passages of `/scene best` ({@link splitPassages}, 80% of
 * `generation.scanner_token_limit` each) with `generation.scanner_model` and proposes the story's
 * recurring characters with their looks. Each passage's answer is cached by content, so an unchanged
 * transcript costs nothing and a grown one only its new passages.
 */
export class CastProposer {
  /** Shared by every reading, so `scanner_concurrency` bounds the process's cast calls. */
  private readonly limit: LimitFunction;

  constructor(private readonly deps: CastProposerDeps) {
    this.limit = pLimit(deps.config.generation.scanner_concurrency);
  }

  /**
   * Proposes the cast of `transcript`. Calls are recorded in the usage ledger under `origin` with
   * purpose `cast`.
   * @param options.onProgress - Called before reading and after each passage.
   * @param options.signal - Abandons the reading; calls waiting for a slot are not started. The first
   *   failing passage abandons the others too, and its error is the one thrown.
   * @throws CastReplyError when a passage's answer was unusable twice; the {@link GeminiGateway.generate}
   *   errors and PromptBlockedError.
   */
  async propose(
    transcript: Transcript,
    origin: CallOrigin & { readonly campaignId: string },
    options: { onProgress?: (progress: CastReadProgress) => void; signal?: AbortSignal } = {},
  ): Promise<CastReading> {
    const { generation } = this.deps.config;
    const passages = splitPassages(transcript.entries, Math.floor(generation.scanner_token_limit * PASSAGE_SHARE));
    let read = 0;
    const report = () => options.onProgress?.({ turns: transcript.entries.length, passages: passages.length, read });
    report();
    const calls: CallUsage[] = [];
    // The first failure stops the reading's other calls; passages already read stay cached for the next try.
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const answers = await Promise.all(
      passages.map(async (passage) => {
        try {
          const answer = await this.readPassage(passage, origin, calls, signal);
          read++;
          report();
          return answer;
        } catch (err) {
          stop.abort(err);
          throw err;
        }
      }),
    );
    const characters = mergeProposals(answers);
    this.deps.log.info(
      { campaign: origin.campaignId, passages: passages.length, calls: calls.length, proposed: characters.length },
      'cast proposed',
    );
    return { characters, passages: passages.length, cached: calls.length === 0, calls };
  }

  /** One passage's characters, from the cache or from one call (two when the first answer is unusable). */
  private async readPassage(
    passage: Passage,
    origin: CallOrigin & { readonly campaignId: string },
    calls: CallUsage[],
    signal: AbortSignal,
  ): Promise<CastAnswer['characters']> {
    const request = `Transcript passage, turns ${passage.firstTurn}-${passage.lastTurn}:\n${passage.text}`;
    const key = `cast:${createHash('sha256')
      .update(JSON.stringify([this.deps.config.generation.scanner_model, CAST_SYSTEM, CAST_ANSWER_JSON_SCHEMA, request]))
      .digest('hex')}`;
    const cached = await this.deps.cache.getText(key);
    if (cached !== undefined) {
      const parsed = parseAnswer(cached);
      if ('answer' in parsed) return parsed.answer.characters;
    }
    let correction: string | undefined;
    for (let attempt = 1; ; attempt++) {
      const parts = [{ text: request }, ...(correction ? [{ text: correction }] : [])];
      const { candidate, usage } = await this.limit(() => {
        signal.throwIfAborted();
        return this.deps.gateway.generate(
          {
            model: this.deps.config.generation.scanner_model,
            contents: [{ role: 'user', parts }],
            config: {
              systemInstruction: CAST_SYSTEM,
              responseMimeType: 'application/json',
              responseJsonSchema: CAST_ANSWER_JSON_SCHEMA,
              // Listing who appears needs little deliberation; thought tokens would cost more than the reading.
              thinkingConfig: { thinkingLevel: 'LOW' as ThinkingLevel },
            },
          },
          { record: { origin, purpose: 'cast' }, signal },
        );
      });
      calls.push(usage);
      let text: string;
      try {
        text = candidateText(candidate, this.deps.log);
      } catch (err) {
        if (!(err instanceof MalformedReplyError || err instanceof ReplyCutOffError)) throw err;
        text = '';
      }
      const parsed = parseAnswer(text);
      if ('answer' in parsed) {
        await this.deps.cache.putText(key, origin.campaignId, JSON.stringify(parsed.answer));
        return parsed.answer.characters;
      }
      if (attempt === 2) throw new CastReplyError(parsed.problem);
      correction = `Your previous answer was not the requested JSON object (${parsed.problem}). Answer again with {"characters": [{"name": "...", "description": "..."}]}.`;
      this.deps.log.warn({ problem: parsed.problem }, 'unusable cast answer, asking again');
    }
  }
}

type CastAnswer = z.output<typeof castAnswerSchema>;

/** The schema's object from an answer's text, or what is wrong with it. */
function parseAnswer(text: string): { answer: CastAnswer } | { problem: string } {
  const read = readStructured(text, castAnswerSchema);
  return 'problem' in read ? read : { answer: read.value };
}

/**
 * The passages' characters merged by name ({@link sameCharacter}: `Grog` and `Grog Strongjaw` are one,
 * under the longer name), each with the most detailed description proposed, cut to
 * {@link DESCRIPTION_MAX_WORDS} words; most recurring first, at most {@link MAX_PROPOSED}.
 */
export function mergeProposals(answers: ReadonlyArray<CastAnswer['characters']>): ProposedCharacter[] {
  const merged: Array<{ name: string; description: string; passages: number }> = [];
  for (const characters of answers) {
    const inThisPassage = new Set<number>();
    for (const c of characters) {
      const name = c.name.replace(/\s+/g, ' ').trim();
      const description = limitWords(c.description, DESCRIPTION_MAX_WORDS);
      if (characterNameKey(name) === '' || description === '') continue;
      const index = merged.findIndex((m) => sameCharacter(m.name, name));
      if (index < 0) {
        inThisPassage.add(merged.length);
        merged.push({ name, description, passages: 1 });
        continue;
      }
      const known = merged[index]!;
      if (!inThisPassage.has(index)) known.passages++;
      inThisPassage.add(index);
      if (name.length > known.name.length) known.name = name;
      if (wordCount(description) > wordCount(known.description)) known.description = description;
    }
  }
  // Array.prototype.sort is stable: equal recurrence keeps the order of first proposal.
  return merged.sort((a, b) => b.passages - a.passages).slice(0, MAX_PROPOSED);
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/** `text` with blanks collapsed, cut to its first `max` words (ending with `…` when cut). */
export function limitWords(text: string, max: number): string {
  const words = text.split(/\s+/).filter(Boolean);
  return words.length <= max
    ? words.join(' ')
    : `${words
        .slice(0, max)
        .join(' ')
        .replace(/[,;:.]$/, '')}…`;
}
