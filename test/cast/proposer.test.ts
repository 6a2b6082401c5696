import { describe, expect, it } from 'vitest';
import { limitWords, mergeProposals } from '../../src/cast/proposer.ts';
import { characterNameKey, mentions, sameCharacter } from '../../src/campaigns/character-names.ts';

describe('mergeProposals', () => {
  it('merges a character named in several passages under its fullest name and most detailed looks, most recurring first', () => {
    const merged = mergeProposals([
      [
        { name: 'Pike', description: 'a gnome cleric' },
        { name: 'Grog', description: 'a goliath' },
      ],
      [
        { name: 'Grog Strongjaw', description: 'a towering grey goliath with a maul' },
        { name: 'grog', description: 'big' },
      ],
    ]);
    expect(merged).toEqual([
      { name: 'Grog Strongjaw', description: 'a towering grey goliath with a maul', passages: 2 },
      { name: 'Pike', description: 'a gnome cleric', passages: 1 },
    ]);
  });

  it('cuts descriptions to 60 words', () => {
    const long = Array.from({ length: 80 }, (_, i) => `w${i}`).join(' ');
    expect(limitWords(long, 60).split(' ')).toHaveLength(60);
    expect(mergeProposals([[{ name: 'Vex', description: long }]])[0]!.description.endsWith('w59…')).toBe(true);
  });
});

describe('character names', () => {
  it("treats a file's longer name as the same character, and counts mentions by capitalised whole words", () => {
    expect(sameCharacter('Grog', 'Grog Strongjaw (played by TRAVIS)')).toBe(true);
    expect(sameCharacter('Gro', 'Grog')).toBe(false);
    expect(characterNameKey('Vax’ildan  (LIAM)')).toBe("vax'ildan");
    expect(mentions("Vax'ildan", "Vax'ildan's dagger; Vax runs. VAX! vax")).toBe(3);
    expect(mentions('Pike', 'a pike and Pike')).toBe(1);
  });
});
