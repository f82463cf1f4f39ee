import { openSync, writeSync, closeSync, readFileSync, unlinkSync, linkSync, writeFileSync, statSync } from 'node:fs';
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
  // By time, not attempts: a waiter descheduled on a busy machine must not give up early.
  const deadline = Date.now() + LOCK_WAIT_MS;
  while (Date.now() < deadline) {
    // pid and a token: a lock this process holds (another cluster in the same process) is not stale.
    const token = `${process.pid} ${randomBytes(6).toString('hex')}`;
    if (createWith(file, token)) {
      heldHere.add(token);
      return () => {
        heldHere.delete(token);
        try {
          if (readFileSync(file, 'utf8') === token) unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    }
    const content = readLock(file);
    if (content === undefined) continue; // released meanwhile
    const pid = Number(content.split(' ')[0]);
    if (pid && (pid === process.pid ? heldHere.has(content) : alive(pid))) return pid;
    // No pid yet: a lock being written (file systems without hard links), unless it is old.
    if (!pid && !olderThan(file, ABANDONED_MS)) {
      pause(1);
      continue;
    }
    // Stale. Two waiters may both have read it: remove it only under the takeover lock, and only if
    // it still holds what we read (the other waiter may already have replaced it with its own lock).
    const breaker = `${file}.takeover`;
    const mine = `${process.pid} ${randomBytes(6).toString('hex')}`;
    if (createWith(breaker, mine)) {
      try {
        if (readLock(file) === content) unlinkSync(file);
      } catch {
        /* gone meanwhile */
      } finally {
        try {
          if (readLock(breaker) === mine) unlinkSync(breaker);
        } catch {
          /* removed meanwhile */
        }
      }
      continue;
    }
    // Another waiter is taking over, which takes microseconds. A takeover lock that has stood for
    // seconds was left by a waiter that died (its pid may since belong to another process): judged by
    // age, so a fresh one another waiter just made is never removed.
    if (olderThan(breaker, ABANDONED_MS)) {
      try {
        unlinkSync(breaker);
      } catch {
        /* removed meanwhile */
      }
    } else pause(1);
  }
  throw new SkiffError('LOCK_FAILED', `could not lock ${file} within ${LOCK_WAIT_MS / 1000} s; if no skiff is running, remove it and ${file}.takeover`);
}

const LOCK_WAIT_MS = 10_000;
const ABANDONED_MS = 5_000;

/** Whether the file was last modified more than `ms` ago (false when it is gone). */
function olderThan(file: string, ms: number): boolean {
  try {
    return Date.now() - statSync(file).mtimeMs > ms;
  } catch {
    return false;
  }
}

/**
 * Creates `file` holding `content`, or returns false if it exists. The content is in place the
 * moment the file appears (a hard link to a finished temp file), so a reader never sees an empty
 * lock and takes it for a stale one.
 */
function createWith(file: string, content: string): boolean {
  const tmp = `${file}.${content.replace(' ', '.')}.tmp`;
  writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw e;
    // A file system without hard links: exclusive create, then write.
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, content);
      closeSync(fd);
      return true;
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e2;
    }
  } finally {
    unlinkSync(tmp);
  }
}

function readLock(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
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
