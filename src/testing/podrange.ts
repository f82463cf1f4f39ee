import os from 'node:os';
import path from 'node:path';
import { tryLockFile } from '../cluster/lock.js';
import { until } from './wait.js';

/**
 * Root-mode network tests give their node 10.244.0.0/24 on the host's own routing table, so two
 * test files (run in parallel) must take turns: the lock is held from cluster start to teardown.
 */
export function lockHostPodRange(): Promise<() => void> {
  const file = path.join(os.tmpdir(), 'skiff-e2e-host-pod-range.lock');
  return until(
    'the host pod range 10.244.0.0/24 (another network test holds it)',
    () => {
      const got = tryLockFile(file);
      return typeof got === 'number' ? undefined : got;
    },
    600_000,
    250,
  );
}
