/**
 * How character names compare: `campaign.yaml` names a character `Grog Strongjaw (played by TRAVIS)`,
 * the story calls him `Grog`, and the cast proposer may answer `grog strongjaw`. These rules decide
 * when two names are one character and which words of a name the story uses to mention it.
 */

/** The name without parenthesised notes (`(played by TRAVIS)`), trimmed, with runs of blanks as one space. */
function bareName(name: string): string {
  return name
    .replace(/\([^)]*\)/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The key cast members merge and are stored on: the bare name (no parenthesised notes), lowercased,
 * NFKC-normalised and with curly apostrophes made straight, so `Vax’ildan` and `vax'ildan` are one.
 */
export function characterNameKey(name: string): string {
  return bareName(name).normalize('NFKC').replace(/[\u2018\u2019]/g, "'").toLowerCase();
}

/**
 * True when two names are the same character: equal keys ({@link characterNameKey}), or one key is
 * the other's first whole words (`Grog` and `Grog Strongjaw (played by TRAVIS)`).
 */
export function sameCharacter(a: string, b: string): boolean {
  const [x, y] = [characterNameKey(a), characterNameKey(b)];
  if (x === '' || y === '') return false;
  const [short, long] = x.length <= y.length ? [x, y] : [y, x];
  return long === short || long.startsWith(`${short} `);
}

/** Words of a name too common to mark a mention of the character on their own. */
const NOT_NAMES = new Set(['the', 'of', 'de', 'von', 'van', 'la', 'le', 'du', 'and', 'lord', 'lady', 'sir', 'dame']);

/**
 * The words by which the story may mention a character: each word of the bare name of at least three
 * letters (`Grog`, `Strongjaw`), and the part of a word before an apostrophe (`Vax` of `Vax'ildan`),
 * common particles and titles aside. Matching is by whole word and case-sensitive on the first letter
 * (see {@link mentions}), so `Pike` the cleric is not `pike` the weapon.
 */
export function mentionWords(name: string): string[] {
  const words = new Set<string>();
  for (const word of bareName(name).normalize('NFKC').replace(/[\u2018\u2019]/g, "'").split(' ')) {
    const clean = word.replace(/^[^\p{L}]+|[^\p{L}]+$/gu, '');
    for (const candidate of [clean, clean.split("'")[0] ?? '']) {
      if ([...candidate].length >= 3 && !NOT_NAMES.has(candidate.toLowerCase())) words.add(candidate);
    }
  }
  return [...words];
}

/**
 * How many words of `text` mention the character named `name`: a word (possessive `'s` aside) that is
 * one of its {@link mentionWords}, or whose part before an apostrophe is, in any case but starting
 * with a capital (so `GROG!` and `Vax'ildan's` count, `pike` does not).
 */
export function mentions(name: string, text: string): number {
  const wanted = new Set(mentionWords(name).map((w) => w.toLowerCase()));
  let count = 0;
  for (const [token] of text.normalize('NFKC').replace(/[\u2018\u2019]/g, "'").matchAll(/[\p{L}\p{N}']+/gu)) {
    const word = token.replace(/^'+|'+$/g, '').replace(/'s$/i, '');
    if (word === '' || word[0] === word[0]!.toLowerCase()) continue;
    const lower = word.toLowerCase();
    if (wanted.has(lower) || wanted.has(lower.split("'")[0]!)) count++;
  }
  return count;
}
