import { openSync, writeSync, closeSync, readFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../util/errors.js';

/**
 * One process owns a data dir: the embedded store assigns revisions in memory, so two servers on
 * the same files would corrupt history. A stale lock (its process gone) is taken over.
 */
export function lockDataDir(dir: string): () => void {
  const file = path.join(dir, 'skiff.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(file, 'utf8') === String(process.pid)) unlinkSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (pid && pid !== process.pid && alive(pid)) {
        throw new SkiffError('DATA_DIR_LOCKED', `another skiff (pid ${pid}) is using ${dir}: stop it first or pass a different --data-dir`);
      }
      unlinkSync(file);
    }
  }
  throw new SkiffError('DATA_DIR_LOCKED', `could not lock ${dir}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
