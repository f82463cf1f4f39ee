import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { tryLockFile } from '../cluster/lock.js';
import { until } from './wait.js';

/** The static busybox the root-mode network tests run in their pods (Debian's busybox-static). */
export const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => {
  try {
    execFileSync(p, ['true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
});

/** Something on this machine routes the pod range (another cluster, or one not yet torn down). */
function podRangeTaken(): boolean {
  try {
    return /10\.244\.0\.0\/24/.test(execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
}

/**
 * Root-mode network tests give their node 10.244.0.0/24 on the host's own routing table, so test
 * files run in parallel take turns: a lock held from cluster start to teardown, then a wait until
 * the route of whoever had the range before is gone.
 */
export async function holdHostPodRange(): Promise<() => void> {
  const file = path.join(os.tmpdir(), 'skiff-e2e-host-pod-range.lock');
  const release = await until(
    'the host pod range 10.244.0.0/24 (another network test holds it)',
    () => {
      const got = tryLockFile(file);
      return typeof got === 'number' ? undefined : got;
    },
    600_000,
    250,
  );
  try {
    await until('10.244.0.0/24 to be free on this machine', async () => !podRangeTaken(), 180_000, 500);
  } catch (e) {
    release();
    throw e;
  }
  return release;
}
