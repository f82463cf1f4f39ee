/**
 * Test fixture: a containerd of its own under a fresh short directory, a loopback registry
 * (Debian's docker-registry where installed) serving the offline busybox image, and that image
 * pulled through CRI. Everything is removed
 * by cleanup() (pods, daemon, mounts, bridge, directory).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { tryLockFile } from '../../cluster/lock.js';
import { busyboxImage } from '../../images/testimages.js';
import { startLocalRegistry, type LocalRegistry } from '../../images/registry.js';
import { startTestRegistry, type TestRegistry } from '../../images/distribution.js';
import { busyboxMissing } from '../../images/rootfs.js';
import { containerdMissing } from './supervisor.js';
import { startContainerdRuntime, type ContainerdRuntime } from './runtime.js';

export function containerdFixtureMissing(): string | undefined {
  return containerdMissing() ?? busyboxMissing();
}

export interface ContainerdFixture {
  runtime: ContainerdRuntime;
  /** Debian's docker-registry where installed (else the in-process one), serving the busybox image. */
  registry: TestRegistry;
  /** An in-process registry that can require credentials (requireAuth), also reachable over plain HTTP. */
  authRegistry: LocalRegistry;
  /** The busybox image, pulled: `127.0.0.1:PORT/skiff/busybox:1.35`. */
  image: string;
  dir: string;
  podCIDR: string;
  cleanup(): Promise<void>;
}

export async function startContainerdFixture(o: { podCIDR?: string; mirrors?: Record<string, string[]> } = {}): Promise<ContainerdFixture> {
  const dir = mkdtempSync('/tmp/skc-');
  const registry = await startTestRegistry();
  const authRegistry = await startLocalRegistry();
  const image = await registry.publish(busyboxImage(), 'skiff/busybox', '1.35');
  const claim = o.podCIDR ? { podCIDR: o.podCIDR, release: () => undefined } : claimFixturePodCIDR();
  const podCIDR = claim.podCIDR;
  let runtime: ContainerdRuntime | undefined;
  try {
    runtime = await startContainerdRuntime({ dir, podCIDR, mirrors: { [registry.host]: [`http://${registry.host}`], [authRegistry.host]: [`http://${authRegistry.host}`], ...o.mirrors } });
    await runtime.pullImage({ image });
  } catch (e) {
    await runtime?.close().catch(() => undefined);
    await registry.close();
    await authRegistry.close();
    rmSync(dir, { recursive: true, force: true });
    claim.release();
    throw e;
  }
  const rt = runtime;
  return {
    runtime: rt,
    registry,
    authRegistry,
    image,
    dir,
    podCIDR,
    cleanup: async () => {
      await rt.close();
      await registry.close();
      await authRegistry.close();
      rmSync(dir, { recursive: true, force: true });
      claim.release();
    },
  };
}

/**
 * A /24 in 10.244.192.0–10.244.249.0 that no other fixture on this machine holds (a lock file each),
 * so concurrent test files never share a subnet. The other real-network users of 10.244.x keep
 * apart: 0 (the host pod range, testing/podrange.ts), 20–127 (the containerd e2e files and
 * runtime.test's restart), 128–191 (e2e/containerd.test.ts), 250 (bench/containerd.ts).
 */
function claimFixturePodCIDR(): { podCIDR: string; release(): void } {
  const lo = 192;
  const n = 250 - lo;
  const start = randomInt(n);
  for (let i = 0; i < n; i++) {
    const third = lo + ((start + i) % n);
    const got = tryLockFile(path.join(tmpdir(), `skiff-test-podcidr-10.244.${third}.lock`));
    if (typeof got !== 'number') return { podCIDR: `10.244.${third}.0/24`, release: got };
  }
  throw new Error(`every /24 in 10.244.${lo}-${lo + n - 1}.0 is held by another containerd fixture`);
}
