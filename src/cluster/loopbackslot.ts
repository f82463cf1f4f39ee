import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SkiffError } from '../util/errors.js';
import { tryLockFile } from './lock.js';

/**
 * Loopback-mode clusters map pod and Service addresses to 127 aliases (10.a.b.c → 127.a.b.c), so two
 * of them on one machine must not share address ranges. Each data dir gets a slot — its own pod and
 * Service CIDRs, kept in the data dir so a restart keeps its addresses — and holds the slot's lock
 * while it runs.
 */
export interface LoopbackRanges {
  slot: number;
  clusterCIDR: string;
  serviceCIDR: string;
}

/** Slot k: pods 10.(244+k).0.0/16, Services 10.(96+16k).0.0/12 (slot 0 is the upstream defaults). */
export const MAX_LOOPBACK_SLOTS = 9;
export function rangesForSlot(slot: number): LoopbackRanges {
  return { slot, clusterCIDR: `10.${244 + slot}.0.0/16`, serviceCIDR: `10.${96 + 16 * slot}.0.0/12` };
}

export function claimLoopbackRanges(dataDir: string, lockDir = path.join(os.tmpdir(), 'skiff-loopback-slots')): { ranges: LoopbackRanges; release: () => void } {
  mkdirSync(lockDir, { recursive: true, mode: 0o1777 });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'loopback-network.json');
  if (existsSync(file)) {
    const ranges = JSON.parse(readFileSync(file, 'utf8')) as LoopbackRanges;
    const got = tryLockFile(path.join(lockDir, `slot-${ranges.slot}.lock`));
    if (typeof got === 'number') {
      throw new SkiffError('LOOPBACK_RANGES_IN_USE', `another skiff (pid ${got}) uses this cluster's loopback addresses (${ranges.clusterCIDR}, ${ranges.serviceCIDR}): stop it first`);
    }
    return { ranges, release: got };
  }
  for (let slot = 0; slot < MAX_LOOPBACK_SLOTS; slot++) {
    const got = tryLockFile(path.join(lockDir, `slot-${slot}.lock`));
    if (typeof got === 'number') continue;
    const ranges = rangesForSlot(slot);
    writeFileSync(file, JSON.stringify(ranges) + '\n', { mode: 0o600 });
    return { ranges, release: got };
  }
  throw new SkiffError('LOOPBACK_SLOTS_FULL', `${MAX_LOOPBACK_SLOTS} loopback clusters already run on this machine: stop one, or pass --cluster-cidr and --service-cidr`);
}
