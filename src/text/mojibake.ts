/**
 * Mojibake repair for the common case: UTF-8 bytes that were decoded as Windows-1252 or Latin-1
 * ("cafÃ©" -> "café", "donâ€™t" -> "don’t", "ÐŸÑ€Ð¸Ð²ÐµÑ‚" -> "Привет"). This is our own, smaller rule,
 * not ftfy's: ftfy decides with a hand-tuned "badness" heuristic over ten single-byte encodings;
 * we look only for complete UTF-8 sequences spelled in Windows-1252/Latin-1 characters and decode each
 * one whose result is a plausible character.
 *
 * A candidate is a lead character (byte 0xC2-0xF4) followed by exactly the number of continuation
 * characters (bytes 0x80-0xBF) its lead byte announces, where each character maps to a byte through
 * Latin-1 (U+0000-U+00FF) or the Windows-1252 letters for 0x80-0x9F ("€", "™", "œ", ...). It is
 * decoded when the bytes are valid UTF-8 and the result passes the checks of `fixMojibake` (so
 * uppercase Czech "PÍŠE" and "NESTLÉ®" stay, while "Ã©" becomes "é").
 *
 * Not covered (ftfy does these): the other code pages (1250, 1251, 1253, 1254, 1257, ISO-8859-2,
 * MacRoman, cp437), spaces standing for a lost 0xA0 byte ("Ã " -> "à"), sequences where bytes were lost
 * to "?" or U+FFFD, CESU-8 / Java's modified UTF-8, and ftfy's refusal to change text its heuristic
 * does not find "bad" (rarely matters: valid UTF-8 spelled in Windows-1252 is almost never intended).
 */

/** Byte value of a character in Latin-1 / Windows-1252, or -1. Built by `loadMojibakeTable`. */
export interface MojibakeTable {
  readonly byteOf: ReadonlyMap<number, number>;
  readonly pattern: RegExp;
  /** Windows-1252 reading of bytes 0x80-0x9F, undefined bytes as the C1 control itself ("sloppy"). */
  readonly c1: readonly string[];
}

function charClass(chars: string[]): string {
  return chars.map((c) => `\\u{${c.codePointAt(0)!.toString(16)}}`).join('');
}

/**
 * Windows-1252 for bytes 0x80-0x9F (the rest of the code page is Latin-1). The five bytes it leaves
 * undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) read as the C1 control itself, as ftfy's "sloppy" codec and
 * the WHATWG decoder do. Written out because Node's TextDecoder('windows-1252') is not reliable here.
 */
const CP1252_80_9F =
  '\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f' +
  '\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178';

/** Builds the byte tables and the candidate pattern. */
export function loadMojibakeTable(): MojibakeTable {
  const byteOf = new Map<number, number>();
  const c1 = Array.from(CP1252_80_9F);
  for (let b = 0; b < 0x100; b++) byteOf.set(b, b); // Latin-1
  c1.forEach((ch, i) => byteOf.set(ch.codePointAt(0)!, 0x80 + i));
  const charsFor = (lo: number, hi: number): string[] => {
    const out: string[] = [];
    for (const [cp, b] of byteOf) if (b >= lo && b <= hi) out.push(String.fromCodePoint(cp));
    return out;
  };
  const cont = `[${charClass(charsFor(0x80, 0xbf))}]`;
  const lead2 = `[${charClass(charsFor(0xc2, 0xdf))}]`;
  const lead3 = `[${charClass(charsFor(0xe0, 0xef))}]`;
  const lead4 = `[${charClass(charsFor(0xf0, 0xf4))}]`;
  const pattern = new RegExp(`${lead2}${cont}|${lead3}${cont}{2}|${lead4}${cont}{3}`, 'gu');
  return { byteOf, pattern, c1 };
}

const IMPLAUSIBLE = /[\p{Cc}\p{M}\p{Co}\p{Cn}\p{Cs}]/u;
const LETTER = /\p{L}/u;
const LOWER_BEFORE = /\p{Ll}$/u;
const NON_ASCII = /[^\x00-\x7f]/;
const C1 = /[\x80-\x9f]/;

interface Candidate {
  start: number;
  end: number;
  decoded: string | undefined; // undefined: not valid UTF-8 or an implausible character
  strong: boolean;
  weakOk: boolean;
}

/**
 * Decodes the plausible UTF-8-as-Windows-1252 sequences in `text` (one pass). A decoded character must
 * not be a control, mark, private-use, surrogate or unassigned code point. Then a sequence is "strong"
 * evidence of mojibake when its lead is "Â"/"Ã" (U+0080-U+00FF, the commonest case), when it holds a
 * C1 control, or when it decodes to punctuation, a symbol or a number ("â€™", "âœ”"). If the text has
 * any strong sequence, every plausible sequence is decoded (like ftfy's whole-string decoding, so
 * "HÄ±rsÄ±zÄ± BÃ¼yÃ¼" is fixed throughout). Otherwise a sequence that decodes to a letter is decoded
 * only next to another candidate (a run such as "ÐŸÑ€Ð¸Ð²ÐµÑ‚") or, for two-byte ones, right after a
 * lowercase letter ("konkrÄ“tus"): uppercase text such as "MARQUÉ…", "NESTLÉ®", "5×£35" and
 * "Brontë…”" stays as it is.
 */
export function fixMojibake(text: string, table: MojibakeTable): string {
  if (!NON_ASCII.test(text)) return text;
  const matches = Array.from(text.matchAll(table.pattern));
  if (matches.length === 0) return text;
  const fatal = new TextDecoder('utf-8', { fatal: true });
  const cands: Candidate[] = matches.map((m, i) => {
    const seq = m[0];
    const start = m.index!;
    const end = start + seq.length;
    const adjacent = (i > 0 && matches[i - 1]!.index! + matches[i - 1]![0].length === start) || matches[i + 1]?.index === end;
    const bytes = Uint8Array.from(Array.from(seq, (c) => table.byteOf.get(c.codePointAt(0)!)!));
    let decoded: string | undefined;
    try {
      decoded = fatal.decode(bytes);
    } catch {
      decoded = undefined;
    }
    if (decoded !== undefined && IMPLAUSIBLE.test(decoded)) decoded = undefined;
    const letter = decoded !== undefined && LETTER.test(decoded);
    const strong = decoded !== undefined && (bytes[0] === 0xc2 || bytes[0] === 0xc3 || C1.test(seq) || !letter);
    const weakOk = adjacent || (bytes.length === 2 && LOWER_BEFORE.test(text.slice(Math.max(0, start - 2), start)));
    return { start, end, decoded, strong, weakOk };
  });
  const evidence = cands.some((c) => c.strong);
  let out = '';
  let pos = 0;
  for (const c of cands) {
    const accept = c.decoded !== undefined && (evidence || c.weakOk);
    out += text.slice(pos, c.start) + (accept ? c.decoded! : text.slice(c.start, c.end));
    pos = c.end;
  }
  return out + text.slice(pos);
}

const C1_RE = /[\x80-\x9f]/g;

/** ftfy's `fix_c1_controls`: C1 controls read as Windows-1252 (undefined bytes stay as they are). */
export function fixC1Controls(text: string, table: MojibakeTable): string {
  return text.replace(C1_RE, (c) => table.c1[c.charCodeAt(0) - 0x80]!);
}
