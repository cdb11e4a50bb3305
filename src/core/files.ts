import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';

/**
 * Replaces a file's content in one step (temporary file, fsync, rename), so a reader or a crash never
 * sees half a file. Writes through a symbolic link to its target instead of replacing the link.
 */
export async function writeFileAtomic(file: string, content: string, mode = 0o644): Promise<void> {
  const target = await realpath(file).catch(() => file);
  mkdirSync(path.dirname(target), { recursive: true });
  const temporary = `${target}.${process.pid}.${Date.now()}.tmp`;
  const fd = openSync(temporary, 'w', mode);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, target);
}

/**
 * Runs `work` while holding an exclusive lock tied to `file` (a `.lock` folder beside it), so pcc
 * processes running at once take turns at a read-modify-write. A lock left by a killed process is
 * taken over once it is stale.
 */
export async function withFileLock<T>(file: string, work: () => Promise<T>): Promise<T> {
  // Folders pcc makes for its own files (.pcc/, its private state, ~/.ssh/config.d) are its owner's alone.
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const release = await lockfile.lock(file, {
    realpath: false,
    lockfilePath: `${file}.lock`,
    stale: 15_000,
    retries: { retries: 400, factor: 1.2, minTimeout: 5, maxTimeout: 100 },
  });
  try {
    return await work();
  } finally {
    await release();
  }
}
