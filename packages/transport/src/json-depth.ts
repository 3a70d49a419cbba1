/**
 * Cheap nesting check run on the raw bytes before `JSON.parse`, so that a hostile
 * `[[[[…]]]]` is refused without building it and without recursion.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * True when the JSON text in `bytes` nests arrays/objects deeper than `maxDepth`.
 *
 * Works on UTF-8 bytes: the structural characters are ASCII and never occur inside
 * a multi-byte sequence. Brackets inside strings are skipped. The text need not be
 * valid JSON; `JSON.parse` judges that afterwards.
 */
export function exceedsJsonDepth(bytes: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) {
      inString = true;
    } else if (b === OPEN_BRACKET || b === OPEN_BRACE) {
      if (++depth > maxDepth) return true;
    } else if (b === CLOSE_BRACKET || b === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}
