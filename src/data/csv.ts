/**
 * A small RFC 4180 CSV reader: comma separator, CRLF or LF line ends, fields optionally in double quotes with
 * `""` for a quote inside, line breaks allowed inside quotes. Departures, all deliberate:
 *  - a leading byte-order mark is dropped; blank (or all-space) lines are skipped;
 *  - unquoted fields are trimmed of surrounding spaces (so `cat, dog` reads as "cat","dog"); quoted fields
 *    are kept exactly;
 *  - a quote inside an unquoted field, text after a closing quote, or a quote left open is an error naming
 *    the line, not something to guess around.
 * Each row records the line it starts on (1-based) for error messages.
 */
import { ZsError } from '../errors.js';

export interface CsvRow {
  /** 1-based line number where the row starts. */
  line: number;
  fields: string[];
}

function csvError(source: string, line: number, what: string): ZsError {
  return new ZsError('E_CSV', `${source} line ${line}: ${what}`, {
    kind: 'usage',
    hint: 'quote a field that holds a comma, quote or line break ("a ""b"", c"), and close every quote',
  });
}

/** Parses CSV text into rows (see the header for the rules). `source` names the file in errors. */
export function parseCsv(text: string, source: string): CsvRow[] {
  const rows: CsvRow[] = [];
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const n = s.length;
  let i = 0;
  let line = 1;
  while (i < n) {
    const rowLine = line;
    const fields: string[] = [];
    let anyQuoted = false;
    // One record: fields until an unquoted line break or the end.
    for (;;) {
      let field: string;
      let j = i;
      while (s[j] === ' ' || s[j] === '\t') j++;
      if (s[j] === '"') {
        i = j;
        const openLine = line;
        anyQuoted = true;
        i++; // opening quote
        let buf = '';
        for (;;) {
          if (i >= n) throw csvError(source, openLine, 'a quoted field is never closed');
          const ch = s[i]!;
          if (ch === '"') {
            if (s[i + 1] === '"') { buf += '"'; i += 2; continue; }
            i++;
            break;
          }
          if (ch === '\n') line++;
          buf += ch;
          i++;
        }
        while (s[i] === ' ' || s[i] === '\t') i++;
        if (i < n && s[i] !== ',' && s[i] !== '\n' && s[i] !== '\r') throw csvError(source, line, 'text after a closing quote');
        field = buf;
      } else {
        const start = i;
        while (i < n && s[i] !== ',' && s[i] !== '\n' && s[i] !== '\r') {
          if (s[i] === '"') throw csvError(source, line, 'a quote inside an unquoted field');
          i++;
        }
        field = s.slice(start, i).trim();
      }
      fields.push(field);
      if (i < n && s[i] === ',') { i++; continue; }
      // End of record: consume CRLF / LF / CR.
      if (s[i] === '\r') i++;
      if (s[i] === '\n') i++;
      line++;
      break;
    }
    const blank = !anyQuoted && fields.every((f) => f === '');
    if (!(blank && fields.length === 1)) rows.push({ line: rowLine, fields });
  }
  return rows;
}
