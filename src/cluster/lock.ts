import { openSync, writeSync, closeSync, readFileSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { SkiffError } from '../util/errors.js';

/**
 * One process owns a data dir: the embedded store assigns revisions in memory, so two servers on
 * the same files would corrupt history. A stale lock (its process gone) is taken over.
 */
export function lockDataDir(dir: string): () => void {
  const got = tryLockFile(path.join(dir, 'skiff.lock'));
  if (typeof got === 'number') throw new SkiffError('DATA_DIR_LOCKED', `another skiff (pid ${got}) is using ${dir}: stop it first or pass a different --data-dir`);
  return got;
}

/**
 * A pid file taken exclusively: the release function, or the pid of the live process holding it.
 * A file left by a process that is gone is taken over.
 */
export function tryLockFile(file: string): (() => void) | number {
  for (let attempt = 0; attempt < 3; attempt++) {
    // pid and a token: a lock this process holds (another cluster in the same process) is not stale.
    const token = `${process.pid} ${randomBytes(6).toString('hex')}`;
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, token);
      closeSync(fd);
      heldHere.add(token);
      return () => {
        heldHere.delete(token);
        try {
          if (readFileSync(file, 'utf8') === token) unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let content = '';
      try {
        content = readFileSync(file, 'utf8').trim();
      } catch {
        continue; // released meanwhile
      }
      const pid = Number(content.split(' ')[0]);
      if (pid && (pid === process.pid ? heldHere.has(content) : alive(pid))) return pid;
      try {
        unlinkSync(file);
      } catch {
        /* someone else took it over first */
      }
    }
  }
  throw new SkiffError('LOCK_FAILED', `could not lock ${file}`);
}

const heldHere = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
