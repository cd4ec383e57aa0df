/**
 * Where zs keeps its files (models, embedding cache). Resolved from the environment each call, never cached:
 * `--cache-dir` (passed in) > ZS_HOME > the platform's user cache directory. Never inside node_modules.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function zsHome(override?: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (override) return resolve(override);
  if (env.ZS_HOME) return resolve(env.ZS_HOME);
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(homedir(), 'AppData', 'Local'), 'zs', 'Cache');
  if (platform === 'darwin') return join(homedir(), 'Library', 'Caches', 'zs');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'zs');
}

/** True when the environment asks zs never to touch the network. */
export function isOffline(env: NodeJS.ProcessEnv = process.env): boolean {
  const on = (v: string | undefined) => v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
  return on(env.ZS_OFFLINE) || on(env.HF_HUB_OFFLINE);
}
