import { createHash } from 'node:crypto';

/** Minimal view of a wire `Part` (camelCase JSON as the SDK sends it). */
export interface WirePart {
  text?: unknown;
  thought?: unknown;
  inlineData?: { mimeType?: unknown; data?: unknown };
  fileData?: { mimeType?: unknown; fileUri?: unknown };
}

/** Minimal view of a wire `Content`. */
export interface WireContent {
  role?: unknown;
  parts?: unknown;
}

function partsOf(content: unknown): WirePart[] {
  if (content === null || typeof content !== 'object') return [];
  const parts = (content as WireContent).parts;
  return Array.isArray(parts) ? (parts.filter((p) => p !== null && typeof p === 'object') as WirePart[]) : [];
}

function contentsOf(body: unknown): unknown[] {
  if (body === null || typeof body !== 'object') return [];
  const contents = (body as { contents?: unknown }).contents;
  return Array.isArray(contents) ? contents : [];
}

function textsOf(content: unknown): string[] {
  return partsOf(content)
    .filter((p) => typeof p.text === 'string' && p.thought !== true)
    .map((p) => p.text as string);
}

/** All text of the request's `contents`, in order, joined by newlines. */
export function allContentText(body: unknown): string {
  return contentsOf(body).flatMap(textsOf).join('\n');
}

/** Text of the last user turn that has any text: the actual instruction in a multi-turn request. */
export function lastUserText(body: unknown): string {
  const contents = contentsOf(body);
  for (let i = contents.length - 1; i >= 0; i--) {
    const content = contents[i];
    const role = content !== null && typeof content === 'object' ? (content as WireContent).role : undefined;
    if (role !== undefined && role !== 'user') continue;
    const texts = textsOf(content);
    if (texts.length > 0) return texts.join('\n');
  }
  return '';
}

/** Characters of text in `contents` and `systemInstruction`; the token estimate is this / 4. */
export function promptTextChars(body: unknown): number {
  let chars = allContentText(body).length;
  if (body !== null && typeof body === 'object') {
    chars += textsOf((body as { systemInstruction?: unknown }).systemInstruction).join('\n').length;
  }
  return chars;
}

/** Image parts (inline or by file URI) anywhere in `contents`. */
export function inputImageParts(body: unknown): WirePart[] {
  return contentsOf(body)
    .flatMap(partsOf)
    .filter((p) => {
      const mime = p.inlineData?.mimeType ?? p.fileData?.mimeType;
      return typeof mime === 'string' && mime.startsWith('image/');
    });
}

const STOPWORDS = new Set(
  (
    'about above after again against because before being below between both could does doing down during each ' +
    'from further have having here hers herself himself into itself just more most myself once only other ought ' +
    'ours ourselves over same should some such than that their theirs them themselves then there these they this ' +
    'those through under until very what when where which while whom with would your yours yourself yourselves ' +
    'also okay yeah like really think know going want gonna right well back still even make made says said ' +
    'roll rolls rolled check turn dice players player scene image illustration describe description prompt ' +
    'transcript session campaign speaker speakers style please write return json'
  ).split(' '),
);

const FALLBACK_WORDS = ['lanterns', 'ruins', 'banners', 'embers', 'ravens', 'spires', 'runes', 'thorns'];
const MOODS = ['brooding', 'luminous', 'storm-lashed', 'twilight', 'haunting', 'sun-dappled', 'moonlit', 'smoke-wreathed'];
const SETTINGS = [
  'a crumbling hilltop fortress',
  'a misty elven forest',
  'a torchlit dwarven hall',
  'a ruined temple of white stone',
  'a bustling harbour town',
  'a frozen mountain pass',
  'a sunken marsh shrine',
  'a cavern of glowing crystals',
];
const LIGHTS = [
  'flickering amber torchlight',
  'a pale silver moon',
  'the last red rays of sunset',
  'drifting motes of arcane light',
  'a sky split by lightning',
  'cold blue witchfire',
];
const SUBJECTS = [
  'a weary band of adventurers',
  'a cloaked ranger',
  'a young sorceress',
  'a grizzled dwarven warrior',
  'a lone paladin in dented armour',
  'a halfling rogue',
];
const VERBS = ['looms', 'glimmers', 'stirs', 'burns', 'waits', 'rises'];

/**
 * Vivid words of `source`, lowercased. All-caps tokens and `Name:` labels are skipped because
 * transcripts prefix lines with speaker names, which a real illustrator prompt must not repeat.
 */
export function vividWords(source: string): string[] {
  const seen = new Set<string>();
  const words: string[] = [];
  for (const token of source.split(/\s+/)) {
    if (token.endsWith(':')) continue;
    const word = token.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
    if (!/^\p{L}[\p{L}'-]*$/u.test(word)) continue;
    if (word.length >= 2 && word === word.toUpperCase() && word !== word.toLowerCase()) continue;
    const lower = word.toLowerCase();
    if (lower.length < 4 || STOPWORDS.has(lower) || seen.has(lower)) continue;
    seen.add(lower);
    words.push(lower);
  }
  return words;
}

/**
 * A deterministic 30-50 word fantasy scene description built from the vivid words of `source`,
 * so different inputs yield different (but stable) prompts. Never contains ALL-CAPS words.
 */
export function describeScene(source: string): string {
  const seed = createHash('sha256').update(source).digest();
  const pick = <T>(list: readonly T[], i: number): T => list[(seed[i] ?? 0) % list.length] as T;
  // Longest words first: they tend to be the nouns and adjectives that carry the scene.
  const ranked = vividWords(source)
    .map((word, position) => ({ word, position }))
    .sort((a, b) => b.word.length - a.word.length || a.position - b.position)
    .slice(0, 4)
    .sort((a, b) => a.position - b.position)
    .map((entry) => entry.word);
  for (let i = 0; ranked.length < 4; i++) {
    const filler = FALLBACK_WORDS[((seed[10 + i] ?? 0) + i) % FALLBACK_WORDS.length] as string;
    if (!ranked.includes(filler)) ranked.push(filler);
  }
  // The story's own words go in as a list of motifs: they make each answer differ with its input
  // while the sentences around them stay grammatical for a person reading the demo.
  const text =
    `A ${pick(MOODS, 0)} fantasy scene in ${pick(SETTINGS, 1)}, lit by ${pick(LIGHTS, 2)}. ` +
    `In the foreground ${pick(SUBJECTS, 3)} stands ready while something ${pick(VERBS, 4)} in the distance. ` +
    `Motifs from the story: ${ranked.join(', ')}. Painterly, dramatic, cinematic.`;
  return clampWords(text, 30, 50);
}

function clampWords(text: string, min: number, max: number): string {
  let words = text.split(/\s+/);
  if (words.length > max) words = words.slice(0, max);
  while (words.length < min) words.push('detailed');
  const joined = words.join(' ');
  return /[.!?]$/.test(joined) ? joined : `${joined.replace(/[,;:]$/, '')}.`;
}

const BUILDS = [
  'tall and broad-shouldered',
  'small and wiry',
  'lean and long-limbed',
  'stocky and muscular',
  'slight and graceful',
  'towering and heavy-set',
];
const FACES = [
  'a weathered, scarred face',
  'sharp green eyes',
  'a freckled round face',
  'high cheekbones and dark eyes',
  'a broken nose and a wide grin',
];
const HAIRS = ['long braided black hair', 'a shaved head', 'wild copper curls', 'silver hair tied back', 'short sandy hair'];
const CLOTHES = [
  'a travel-stained leather coat',
  'dented plate armour',
  'layered green robes',
  'a hooded grey cloak',
  'furs over chain mail',
];
const ITEMS = ['a notched greataxe', 'a gnarled oak staff', 'twin curved daggers', 'a longbow across the back', 'a battered lute'];

/** Words that start sentences or name things rather than people, when capitalised mid-sentence. */
const NOT_CHARACTERS = new Set(
  'okay yeah well alright right what this that there they then when where sure also just like good great nice cool'.split(' '),
);

/**
 * The emulator's answer to a cast request (a JSON schema with `characters`): the names the passage's
 * text uses most often in the middle of sentences (capitalised, not ALL CAPS like the speakers), at
 * most six with at least three uses, each with looks derived from a hash of the name, so the same
 * passage always gets the same cast.
 */
export function proposeCast(request: string): string {
  const counts = new Map<string, number>();
  for (const line of request.split('\n')) {
    const text = /^\[Turn \d+\] [^:]+: (.*)$/.exec(line)?.[1];
    if (!text) continue;
    for (const m of text.matchAll(/(?<=[\p{Ll},;] )(\p{Lu}[\p{Ll}]+(?:'[\p{Ll}]+)?)(?![\p{L}])/gu)) {
      const word = m[1]!;
      if (word.length < 3 || NOT_CHARACTERS.has(word.toLowerCase()) || STOPWORDS.has(word.toLowerCase())) continue;
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  const names = [...counts.entries()]
    .filter(([, n]) => n >= 3)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 6)
    .map(([name]) => name);
  const characters = names.map((name) => {
    const seed = createHash('sha256').update(name).digest();
    const pick = <T>(list: readonly T[], i: number): T => list[(seed[i] ?? 0) % list.length] as T;
    return {
      name,
      description: `${pick(BUILDS, 0)}, with ${pick(FACES, 1)} and ${pick(HAIRS, 2)}, wearing ${pick(CLOTHES, 3)} and carrying ${pick(ITEMS, 4)}.`,
    };
  });
  return JSON.stringify({ characters });
}
