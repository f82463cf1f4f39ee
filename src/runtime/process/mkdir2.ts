import { mkdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * `mkdir -p` for a directory whose grandparent usually exists (a pod's log or cgroup directory,
 * then the container's): two plain mkdirs. A recursive mkdir first tries the leaf, fails, and
 * climbs, each step a round trip through libuv's pool and back to the event loop; a burst of pods
 * makes hundreds. Falls back to the recursive form when more is missing.
 */
export async function mkdirParentAndSelf(dir: string): Promise<void> {
  try {
    await mkdir(path.dirname(dir)).catch(existsOk);
    await mkdir(dir).catch(existsOk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await mkdir(dir, { recursive: true });
  }
}

function existsOk(e: NodeJS.ErrnoException): void {
  if (e.code !== 'EEXIST') throw e;
}
