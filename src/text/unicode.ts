/**
 * Python-exact character handling for the CLIP tokenizer: OpenAI's simple_tokenizer.py runs on Python
 * strings and the `regex` module, whose rules differ from JavaScript's in small ways. Each difference
 * is written out here as an explicit character class instead of relying on JS shorthands:
 *
 *  - `regex`'s `\s` (used by whitespace_clean and the pre-token pattern) is exactly Unicode's White_Space
 *    set: \t \n \v \f \r, space, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F,
 *    U+3000. JS `\s` also matches U+FEFF and misses U+0085.
 *  - `str.strip()` strips `str.isspace()` characters: the set above plus U+001C-U+001F.
 *  - The pre-token pattern is compiled with IGNORECASE. After `str.lower()` that matters in two places:
 *    `'s` also matches `'ſ` (U+017F folds to s), and U+0345 COMBINING GREEK YPOGEGRAMMENI matches none of
 *    the three classes (its case partner ι is a letter, so `[^\s\p{L}\p{N}]` rejects it and `[\p{L}]`
 *    does not take it), so Python skips it. JS `/iu` would treat U+0345 as a letter; we compile without
 *    `i` and write both rules out. test/tokenizer.test.ts checks every code point against a table made
 *    by Python (scripts/make-token-goldens.py).
 *  - `str.lower()` and `String.prototype.toLowerCase()` agree (final sigma, İ -> i̇, ẞ -> ß included) on
 *    every code point assigned in Python 3.11's Unicode 14; they differ only on the 55 characters Unicode
 *    added later (JS lowercases those, Python 3.11 does not).
 */

/** The characters of `regex`'s `\s` (str patterns), as a character-class body. */
export const PY_REGEX_SPACE = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/** `str.isspace()` characters: `regex`'s `\s` plus the information separators U+001C-U+001F. */
const PY_ISSPACE = `${PY_REGEX_SPACE}\\x1c-\\x1f`;

const STRIP_RE = new RegExp(`^[${PY_ISSPACE}]+|[${PY_ISSPACE}]+$`, 'gu');
const SPACE_RUN_RE = new RegExp(`[${PY_REGEX_SPACE}]+`, 'gu');

/** Python's `str.strip()` with no argument. */
export function pyStrip(text: string): string {
  return text.replace(STRIP_RE, '');
}

/** `regex.sub(r'\s+', ' ', text)`. */
export function collapseSpaces(text: string): string {
  return text.replace(SPACE_RUN_RE, ' ');
}

/** Python's `str.lower()` (see the header for the only, documented, difference). */
export function pyLower(text: string): string {
  return text.toLowerCase();
}

/**
 * simple_tokenizer.py's pre-token pattern with its IGNORECASE effects written out (header):
 * the special tokens, the contractions, letter runs, single digits, runs of anything else.
 */
export const CLIP_PRETOKEN_SOURCE =
  `<\\|[sſ]tartoftext\\|>|<\\|endoftext\\|>|'[sſ]|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|[^${PY_REGEX_SPACE}\\p{L}\\p{N}\\u0345]+`;

/** A fresh global regex for the pattern (a /g regex carries lastIndex, so callers own theirs). */
export function clipPreTokenRegex(): RegExp {
  return new RegExp(CLIP_PRETOKEN_SOURCE, 'gu');
}

/**
 * The class the pre-token pattern gives one code point: 0 none (skipped), 1 whitespace, 2 letter,
 * 3 digit, 4 other. Used by the tests to compare against Python on all of Unicode.
 */
export function preTokenClass(codePoint: number): 0 | 1 | 2 | 3 | 4 {
  const c = String.fromCodePoint(codePoint);
  if (CLASS_SPACE.test(c)) return 1;
  if (CLASS_LETTER.test(c)) return 2;
  if (CLASS_DIGIT.test(c)) return 3;
  return CLASS_OTHER.test(c) ? 4 : 0;
}

const CLASS_SPACE = new RegExp(`^[${PY_REGEX_SPACE}]$`, 'u');
const CLASS_LETTER = /^\p{L}$/u;
const CLASS_DIGIT = /^\p{N}$/u;
const CLASS_OTHER = new RegExp(`^[^${PY_REGEX_SPACE}\\p{L}\\p{N}\\u0345]$`, 'u');
