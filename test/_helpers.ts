/** Shared test helpers: fixture paths and a runner that spawns the built `zs` binary. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
export const CLIP_DIR = join(FIXTURES, 'tiny-random-clip');
export const VIT_DIR = join(FIXTURES, 'tiny-random-vit');
export const REF_DIR = join(FIXTURES, 'reference');
export const REF_IMAGES = join(REF_DIR, 'images');
export const BIN = join(ROOT, 'dist', 'cli', 'bin.js');

export interface RunResult { code: number | null; stdout: string; stderr: string }

/** A ZS_HOME private to this test process, so spawned runs never read or fill the user's cache. */
let privateHome: string | undefined;
function testHome(): string {
  if (!privateHome) {
    const dir = mkdtempSync(join(tmpdir(), 'zs-home-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    privateHome = dir;
  }
  return privateHome;
}

/** Runs `zs` with the given arguments (built binary, no network: ZS_OFFLINE=1, a private ZS_HOME, unless env overrides). */
export function zs(args: string[], opts: { env?: Record<string, string>; cwd?: string; input?: string } = {}): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ZS_OFFLINE: '1', ZS_HOME: testHome(), ...opts.env },
    input: opts.input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh temporary folder, removed by the returned cleanup function. */
export function tempDir(prefix = 'zs-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
