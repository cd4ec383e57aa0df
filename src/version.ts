/** The package version, read from package.json next to src/ and dist/ (both two levels below the root). */
import { readFile } from 'node:fs/promises';

export async function zsVersion(): Promise<string> {
  const text = await readFile(new URL('../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}
