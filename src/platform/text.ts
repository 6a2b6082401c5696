/**
 * Characters that show nothing: white space (Unicode `White_Space`), control and format characters
 * (`Cc`, `Cf`: zero-width spaces and joiners U+200B-U+200D, word joiner U+2060, the byte order mark
 * U+FEFF, left-to-right and right-to-left marks and embeddings), the other default-ignorable code
 * points (variation selectors, Hangul fillers, soft hyphen) and the blank Braille pattern U+2800.
 */
const INVISIBLE = /^[\p{White_Space}\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\u2800]*$/u;

/** True when `text` has no visible character: empty, or only the characters {@link INVISIBLE} lists. */
export function isBlank(text: string): boolean {
  return INVISIBLE.test(text);
}
