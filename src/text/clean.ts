/**
 * CLIP's text cleaning, as OpenAI's simple_tokenizer.py does it before splitting into words:
 *
 *   basic_clean:      ftfy.fix_text(text); html.unescape(html.unescape(text)); text.strip()
 *   whitespace_clean: regex.sub(r'\s+', ' ', text); text.strip()
 *   then:             text.lower()
 *
 * ftfy.ts, html.ts and unicode.ts hold the Python-exact pieces. `createClipCleaner` loads the tables
 * once (per tokenizer, no module state) and returns the cleaning function.
 */
import { fixText, type FtfyTables } from './ftfy.js';
import { loadHtmlTables, pyHtmlUnescape } from './html.js';
import { loadMojibakeTable } from './mojibake.js';
import { collapseSpaces, pyLower, pyStrip } from './unicode.js';

export type TextCleaner = (text: string) => string;

/** Plain printable ASCII without '&': only whitespace handling and lowercasing can change it. */
const SIMPLE_RE = /^[\t\n\x20-\x25\x27-\x7e]*$/;

/** Builds the cleaning function of OpenAI's CLIP tokenizer (reads the entity table). */
export function createClipCleaner(): TextCleaner {
  const tables: FtfyTables = { html: loadHtmlTables(), mojibake: loadMojibakeTable() };
  return (text: string): string => {
    let t = text;
    if (!SIMPLE_RE.test(t)) {
      t = fixText(t, tables);
      t = pyHtmlUnescape(pyHtmlUnescape(t, tables.html), tables.html);
    }
    t = pyStrip(collapseSpaces(pyStrip(t)));
    return pyLower(t);
  };
}
