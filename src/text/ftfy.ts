/**
 * The part of ftfy's `fix_text` (ftfy 6.x, default settings) that OpenAI's CLIP tokenizer relies on,
 * re-implemented in TypeScript because ftfy is Python-only. Steps, in ftfy's order, repeated on each
 * segment until nothing changes:
 *
 *   unescape_html ........ ftfy's entity fixer (html.ts); "auto": off from the first line that has a
 *                          literal '<' onwards (the switch sticks for later lines, as in ftfy)
 *   fix_encoding ......... PARTIAL: UTF-8 read as Windows-1252/Latin-1 only (mojibake.ts says what is
 *                          and is not covered)
 *   fix_c1_controls ...... U+0080-U+009F read as Windows-1252 ("\x80" -> "€")
 *   fix_latin_ligatures .. ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ(->ſt) ﬆ Ĳ ĳ ŉ(->ʼn) and the DŽ/LJ/NJ/DZ digraphs
 *   fix_character_width .. U+FF01-U+FFEF to their NFKC forms, U+3000 -> space
 *   uncurl_quotes ........ U+02BC, U+2018-U+201B -> ', U+201C-U+201F -> "
 *   fix_line_breaks ...... \r\n, \r, U+2028, U+2029, U+0085 -> \n
 *   fix_surrogates ....... lone UTF-16 surrogates -> U+FFFD (pairs are already characters in JS)
 *   remove_terminal_escapes  ESC [ digits/; letter
 *   remove_control_chars . U+0000-U+0008, U+000B, U+000E-U+001F, U+007F, U+206A-U+206F, U+FEFF,
 *                          U+FFF9-U+FFFC
 *   normalization ........ NFC
 *
 * Segments are lines (split after each '\n'), as in fix_text; ftfy's 1,000,000-character cap on a
 * segment without line breaks is not reproduced (prompts are short).
 */
import { ftfyUnescapeHtml, type HtmlTables } from './html.js';
import { fixC1Controls, fixMojibake, type MojibakeTable } from './mojibake.js';

export interface FtfyTables {
  readonly html: HtmlTables;
  readonly mojibake: MojibakeTable;
}

const LIGATURES: Readonly<Record<string, string>> = {
  'Ĳ': 'IJ', 'ĳ': 'ij', 'ŉ': 'ʼn',
  'Ǳ': 'DZ', 'ǲ': 'Dz', 'ǳ': 'dz', 'Ǆ': 'DŽ', 'ǅ': 'Dž', 'ǆ': 'dž',
  'Ǉ': 'LJ', 'ǈ': 'Lj', 'ǉ': 'lj', 'Ǌ': 'NJ', 'ǋ': 'Nj', 'ǌ': 'nj',
  'ﬀ': 'ff', 'ﬁ': 'fi', 'ﬂ': 'fl', 'ﬃ': 'ffi', 'ﬄ': 'ffl', 'ﬅ': 'ſt', 'ﬆ': 'st',
};
const LIGATURE_RE = /[ĲĳŉǄ-ǌǱ-ǳﬀ-ﬆ]/gu;
const WIDTH_RE = /[\u3000\uff01-\uffef]/g;
const SINGLE_QUOTE_RE = /[\u02bc\u2018-\u201b]/g;
const DOUBLE_QUOTE_RE = /[\u201c-\u201f]/g;
const LINE_BREAK_RE = /\r\n|[\r\u2028\u2029\u0085]/g;
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const TERMINAL_ESCAPE_RE = /\x1b\[[\p{Nd};]*[a-zA-Z]/gu;
const CONTROL_RE = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
/** Text that no step below can change (then fixText returns it as it is). */
const INERT_RE = /^[\t\n\x20-\x25\x27-\x7e]*$/;

function widthFix(c: string): string {
  return c === '\u3000' ? ' ' : c.normalize('NFKC');
}

function fixSegment(segment: string, unescape: boolean, t: FtfyTables): string {
  let text = segment;
  for (;;) {
    const orig = text;
    if (unescape) text = ftfyUnescapeHtml(text, t.html);
    for (let prev = ''; prev !== text; ) {
      prev = text;
      text = fixMojibake(text, t.mojibake);
    }
    text = fixC1Controls(text, t.mojibake);
    text = text.replace(LIGATURE_RE, (c) => LIGATURES[c] ?? c);
    text = text.replace(WIDTH_RE, widthFix);
    text = text.replace(DOUBLE_QUOTE_RE, '"').replace(SINGLE_QUOTE_RE, "'");
    text = text.replace(LINE_BREAK_RE, '\n');
    text = text.replace(LONE_SURROGATE_RE, '\ufffd');
    text = text.replace(TERMINAL_ESCAPE_RE, '');
    text = text.replace(CONTROL_RE, '');
    text = text.normalize('NFC');
    if (text === orig) return text;
  }
}

/** ftfy.fix_text(text) with the coverage described in the header. */
export function fixText(text: string, tables: FtfyTables): string {
  if (INERT_RE.test(text)) return text;
  let unescape = true;
  let out = '';
  for (let pos = 0; pos < text.length; ) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl + 1;
    const segment = text.slice(pos, end);
    if (unescape && segment.includes('<')) unescape = false;
    out += fixSegment(segment, unescape, tables);
    pos = end;
  }
  return out;
}
