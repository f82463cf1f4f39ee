/**
 * Test fixture: a containerd of its own under a fresh short directory, a loopback registry
 * (Debian's docker-registry where installed) serving the offline busybox image, and that image
 * pulled through CRI. Everything is removed
 * by cleanup() (pods, daemon, mounts, bridge, directory).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomInt } from 'node:crypto';
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
  // A random /24 in 10.244.128.0/17 so concurrent runs on one machine do not share a subnet.
  const podCIDR = o.podCIDR ?? `10.244.${randomInt(128, 255)}.0/24`;
  let runtime: ContainerdRuntime | undefined;
  try {
    runtime = await startContainerdRuntime({ dir, podCIDR, mirrors: { [registry.host]: [`http://${registry.host}`], [authRegistry.host]: [`http://${authRegistry.host}`], ...o.mirrors } });
    await runtime.pullImage({ image });
  } catch (e) {
    await runtime?.close().catch(() => undefined);
    await registry.close();
    await authRegistry.close();
    rmSync(dir, { recursive: true, force: true });
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
    },
  };
}
