/**
 * The CLI's I/O conventions: stdout carries data, stderr carries progress, warnings and errors.
 * Progress bars only on a TTY and never with --quiet.
 */
import { readFileSync } from 'node:fs';
import { ZsError, usageError } from '../errors.js';

export interface Io {
  /** Writes one line of data to stdout. */
  out(line: string): void;
  /** Writes a warning or note to stderr (suppressed by --quiet unless `always`). */
  note(line: string, always?: boolean): void;
  /** True when a progress bar may be drawn. */
  readonly progress: boolean;
  readonly quiet: boolean;
}

export function makeIo(quiet: boolean): Io {
  return {
    out: (line) => { process.stdout.write(line + '\n'); },
    note: (line, always = false) => { if (!quiet || always) process.stderr.write(`zs: ${line}\n`); },
    progress: !quiet && Boolean(process.stderr.isTTY),
    quiet,
  };
}

/** Formats any thrown value as the one line the CLI prints. */
export function errorLine(e: unknown): string {
  if (e instanceof ZsError) return e.toLine();
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Plain left-aligned text table (first row is the header). */
export function table(rows: string[][], align: ('l' | 'r')[] = []): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length); });
  return rows
    .map((row) => row.map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}

/**
 * The non-blank lines of a text file named by `flag` (labels, texts), as a usage error naming the flag when it
 * cannot be read. `trim` also strips each line's surrounding whitespace.
 */
export function readLinesFile(flag: string, file: string, what: string, trim: boolean): string[] {
  let body: string;
  try {
    body = readFileSync(file, 'utf8');
  } catch (e) {
    throw usageError(`E_${flag.replace(/^--/, '').replace(/-/g, '_').toUpperCase()}`,
      `cannot read ${flag} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      `give a readable text file with one ${what} per line`);
  }
  const lines = body.split(/\r?\n/);
  return (trim ? lines.map((s) => s.trim()) : lines).filter((s) => s.trim() !== '');
}
