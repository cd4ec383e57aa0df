/**
 * A tiny, dependency-free glob matcher (Node 20 has no fs.glob) for the patterns users quote on the command
 * line or type on Windows, where the shell does not expand them:
 *
 *   `*`   any run of characters within one path segment (not `/`)
 *   `?`   one character within a segment
 *   `**`  as a whole segment: zero or more segments (`data/**\/*.jpg`, `**\/cat/*`)
 *
 * Everything else is literal (no `[...]`, `{a,b}` or `!`). Patterns and paths use `/` separators; matching
 * is case-sensitive. Hidden entries are the walker's business (images.ts skips them), not the matcher's.
 */

/** True when `s` contains a glob wildcard. */
export function hasGlob(s: string): boolean {
  return s.includes('*') || s.includes('?');
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+^${}()|[\]\\*?]/g, '\\$&');
}

function segmentSource(seg: string): string {
  let out = '';
  for (const ch of seg) {
    if (ch === '*') out += '[^/]*';
    else if (ch === '?') out += '[^/]';
    else out += escapeRegExp(ch);
  }
  return out;
}

/** Compiles a `/`-separated pattern (relative to its base folder) to an anchored RegExp. */
export function globToRegExp(pattern: string): RegExp {
  const segs = pattern.split('/').filter((s, i, all) => s !== '' || i === all.length - 1);
  let src = '';
  segs.forEach((seg, i) => {
    const last = i === segs.length - 1;
    if (seg === '**') src += last ? '.*' : '(?:[^/]+/)*';
    else src += segmentSource(seg) + (last ? '' : '/');
  });
  return new RegExp(`^${src}$`);
}

/**
 * Splits a glob into the literal folder to walk and the pattern below it:
 * `data/train/*\/*.jpg` -> { base: 'data/train', pattern: '*\/*.jpg' }; `*.png` -> { base: '.', pattern: '*.png' }.
 * Backslashes count as separators only on Windows.
 */
export function splitGlob(input: string, platform: NodeJS.Platform = process.platform): { base: string; pattern: string } {
  const norm = platform === 'win32' ? input.replace(/\\/g, '/') : input;
  const segs = norm.split('/');
  const first = segs.findIndex(hasGlob);
  if (first === -1) return { base: norm, pattern: '' };
  const baseSegs = segs.slice(0, first);
  let base = baseSegs.join('/');
  if (base === '' && norm.startsWith('/')) base = '/';
  else if (base === '') base = '.';
  return { base, pattern: segs.slice(first).join('/') };
}
