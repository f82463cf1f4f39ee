import { existsSync } from 'node:fs';
import path from 'node:path';
import { CniPodNetwork } from './cnimode.js';
import { LoopbackPodNetwork } from './loopbackmode.js';
import { NetnsPodNetwork } from './netnsmode.js';
import type { NetworkMode, PodNetwork } from './types.js';

const CNI_BIN_DIRS = ['/usr/lib/cni', '/opt/cni/bin'];

/** The mode this machine supports best: cni (root + plugins), netns (root + iproute2), loopback. */
export function detectNetworkMode(): NetworkMode {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'loopback';
  const hasIp = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].some(existsSync);
  if (!hasIp) return 'loopback';
  const plugins = ['bridge', 'host-local', 'loopback', 'portmap'];
  if (CNI_BIN_DIRS.some((d) => plugins.every((p) => existsSync(path.join(d, p))))) return 'cni';
  return 'netns';
}

export function createPodNetwork(mode: NetworkMode | 'auto', o: { dataDir: string; bridge?: string; netnsPrefix?: string }): PodNetwork {
  const m = mode === 'auto' ? detectNetworkMode() : mode;
  if (m === 'cni') return new CniPodNetwork({ dataDir: o.dataDir, bridge: o.bridge, netnsPrefix: o.netnsPrefix, binDirs: CNI_BIN_DIRS });
  if (m === 'netns') return new NetnsPodNetwork(o);
  return new LoopbackPodNetwork(o);
}
