import { promises as fsp, writeFileSync, renameSync, unlinkSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { wrapError } from '../errors.js';

function tempName(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/**
 * Writes a file atomically through `write`, given an open handle to a temporary file in the same folder: then fsync
 * and rename into place. On failure the temporary file is removed and the error rethrown as is.
 */
export async function writeAtomicWith(file: string, write: (fh: FileHandle) => Promise<void>): Promise<void> {
  const tmp = tempName(file);
  try {
    const fh = await fsp.open(tmp, 'w');
    try {
      await write(fh);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}

/** Writes a file atomically: to a temporary file in the same folder, fsync'd, then renamed into place. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  try {
    await writeAtomicWith(file, (fh) => fh.writeFile(data));
  } catch (e) {
    throw wrapError(e, 'E_WRITE', `cannot write ${file}`, 'check that the folder exists, is writable and the disk has room');
  }
}

/** Synchronous twin of writeFileAtomic, for exit paths. */
export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  const tmp = tempName(file);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw wrapError(e, 'E_WRITE', `cannot write ${file}`, 'check that the folder exists, is writable and the disk has room');
  }
}
