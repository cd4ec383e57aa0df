/**
 * HTML character references, two ways, both needed by the CLIP tokenizer's text cleaning:
 *
 *  - `pyHtmlUnescape`: Python's `html.unescape` exactly: `&name;` and `&name` (HTML5 table, longest
 *    known prefix wins for names without ';', e.g. "&notit;" -> "¬it;"), `&#123;` / `&#x7b;` with or
 *    without ';', the HTML5 remapping of invalid numeric references (0x80 -> €, 0 -> U+FFFD,
 *    surrogates and > U+10FFFF -> U+FFFD, noncharacters and most controls -> removed).
 *  - `ftfyUnescapeHtml`: ftfy's `unescape_html` fixer: only complete references `&#?[0-9A-Za-z]{1,24};`,
 *    names from the HTML5 table plus all-uppercase spellings of lowercase names that HTML does not
 *    already define (e.g. "&EACUTE;" -> "É"), numeric ones through html.unescape, anything else kept.
 *
 * The data (Python's html5 table and its invalid-reference lists) is src/text/html-entities.json,
 * written by scripts/make-token-goldens.py; `loadHtmlTables` reads it when a tokenizer is built.
 */
import { readFileSync } from 'node:fs';
import { wrapError } from '../errors.js';

export interface HtmlTables {
  /** HTML5 names without '&' ("amp;", "amp", "AMP;", ...) -> text. */
  readonly html5: ReadonlyMap<string, string>;
  /** Numeric references the HTML5 spec remaps (0x80 -> "€", 0x0d -> "\r", ...). */
  readonly invalidCharrefs: ReadonlyMap<number, string>;
  /** Code points a numeric reference to which is dropped. */
  readonly invalidCodepoints: ReadonlySet<number>;
  /** ftfy's table: "&name;" -> text, including its uppercase spellings. */
  readonly ftfyEntities: ReadonlyMap<string, string>;
}

interface EntityFile {
  html5: Record<string, string>;
  invalidCharrefs: Record<string, string>;
  invalidCodepoints: number[];
}

/** Reads html-entities.json next to this module (works from src via tsx and from dist). */
export function loadHtmlTables(): HtmlTables {
  const url = new URL('./html-entities.json', import.meta.url);
  let data: EntityFile;
  try {
    data = JSON.parse(readFileSync(url, 'utf8')) as EntityFile;
  } catch (e) {
    throw wrapError(e, 'E_TEXT_DATA', `cannot read the HTML entity table ${url.pathname}`, 'reinstall zs; the file ships with it');
  }
  const html5 = new Map(Object.entries(data.html5));
  const invalidCharrefs = new Map(Object.entries(data.invalidCharrefs).map(([k, v]) => [Number(k), v] as const));
  const partial: HtmlTables = { html5, invalidCharrefs, invalidCodepoints: new Set(data.invalidCodepoints), ftfyEntities: new Map() };
  const ftfy = partial.ftfyEntities as Map<string, string>;
  for (const [name, text] of html5) {
    if (!name.endsWith(';')) continue;
    ftfy.set(`&${name}`, text);
    if (name === name.toLowerCase()) {
      const upper = `&${name.toUpperCase()}`;
      if (pyHtmlUnescape(upper, partial) === upper) ftfy.set(upper, text.toUpperCase());
    }
  }
  return partial;
}

const CHARREF_RE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

function replaceCharref(ref: string, t: HtmlTables): string {
  if (ref[0] === '#') {
    const hex = ref[1] === 'x' || ref[1] === 'X';
    const digits = ref.slice(hex ? 2 : 1).replace(/;$/, '');
    const num = hex ? parseInt(digits, 16) : parseInt(digits, 10);
    const remapped = t.invalidCharrefs.get(num);
    if (remapped !== undefined) return remapped;
    if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd';
    if (t.invalidCodepoints.has(num)) return '';
    return String.fromCodePoint(num);
  }
  const whole = t.html5.get(ref);
  if (whole !== undefined) return whole;
  // the longest known prefix (at least 2 code points), as html.unescape does
  const cps = Array.from(ref);
  for (let x = cps.length - 1; x > 1; x--) {
    const head = cps.slice(0, x).join('');
    const hit = t.html5.get(head);
    if (hit !== undefined) return hit + cps.slice(x).join('');
  }
  return `&${ref}`;
}

/** Python's `html.unescape(text)`. */
export function pyHtmlUnescape(text: string, tables: HtmlTables): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARREF_RE, (_m, ref: string) => replaceCharref(ref, tables));
}

const FTFY_ENTITY_RE = /&#?[0-9A-Za-z]{1,24};/g;

/** ftfy's `unescape_html` fixer (one pass). */
export function ftfyUnescapeHtml(text: string, tables: HtmlTables): string {
  if (!text.includes('&')) return text;
  return text.replace(FTFY_ENTITY_RE, (m) => {
    const known = tables.ftfyEntities.get(m);
    if (known !== undefined) return known;
    if (m.startsWith('&#')) {
      const out = pyHtmlUnescape(m, tables);
      return out.includes(';') ? m : out;
    }
    return m;
  });
}
