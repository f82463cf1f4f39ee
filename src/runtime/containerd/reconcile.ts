/**
 * Leftovers of an abrupt stop (kill -9 of skiff, a crash during RunPodSandbox): sandboxes of pods
 * the node no longer has, host-local IP reservations no sandbox owns, and network namespace mounts
 * no sandbox uses. The decisions are pure functions over listings; reconcileRuntime() gathers the
 * listings (CRI, the IPAM directory, the netns directory) and releases what they name.
 *
 * Only what this containerd owns is touched: its own IPAM data dir and its own netns dir (CRI puts
 * the mounts under its state dir, netns_mounts_under_state_dir), never the host's /run/netns.
 */
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { isIP } from 'node:net';
import { LABEL_POD_UID, type PodSandbox } from '../cri.js';
import type { ContainerdRuntime } from './runtime.js';

const execFileP = promisify(execFile);

/** One host-local reservation: the file `<dataDir>/<network>/<ip>` holds the owner's container id. */
export interface IpamReservation {
  network: string;
  ip: string;
  containerId: string;
  file: string;
}

/** Sandboxes whose pod the node should no longer run (kept: pods in `keepPodUids`, and sandboxes not made by a kubelet). */
export function orphanSandboxes(sandboxes: Pick<PodSandbox, 'id' | 'labels'>[], keepPodUids: ReadonlySet<string>): string[] {
  return sandboxes.filter((s) => s.labels?.[LABEL_POD_UID] && !keepPodUids.has(s.labels[LABEL_POD_UID])).map((s) => s.id);
}

/** Reservations whose owner (the CNI container id, which is CRI's sandbox id) is no known sandbox. */
export function staleReservations(reservations: IpamReservation[], sandboxIds: ReadonlySet<string>): IpamReservation[] {
  return reservations.filter((r) => !sandboxIds.has(r.containerId));
}

/** Namespace files nothing references. */
export function staleNetns(files: string[], referenced: ReadonlySet<string>): string[] {
  return files.filter((f) => !referenced.has(f));
}

/**
 * host-local's state: one directory per network, one file per reserved IP whose first line is the
 * container id (the second, in newer plugins, the interface); `lock` and `last_reserved_ip.N` are
 * bookkeeping and never stale.
 */
export function readIpamReservations(dataDir: string): IpamReservation[] {
  const out: IpamReservation[] = [];
  for (const network of safeReaddir(dataDir)) {
    const dir = path.join(dataDir, network);
    if (!isDir(dir)) continue;
    for (const name of safeReaddir(dir)) {
      if (!isIP(name)) continue;
      const file = path.join(dir, name);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue;
      }
      out.push({ network, ip: name, containerId: text.split(/\r?\n/)[0].trim(), file });
    }
  }
  return out;
}

/** The network namespace path in a sandbox's verbose status (containerd's info.runtimeSpec). */
export function netnsOfSandboxInfo(info: Record<string, string> | undefined): string | undefined {
  if (!info?.info) return undefined;
  try {
    const parsed = JSON.parse(info.info);
    const ns = (parsed?.runtimeSpec?.linux?.namespaces ?? []).find((n: any) => n?.type === 'network');
    return typeof ns?.path === 'string' && ns.path ? ns.path : undefined;
  } catch {
    return undefined;
  }
}

export interface ReconcileOptions {
  /** host-local's data dir of this runtime's network (none: leave IPs alone). */
  ipamDataDir?: string;
  /** Where this containerd mounts pod network namespaces. */
  netnsDir?: string;
  /** When given, sandboxes of pods not in the set are stopped and removed first. */
  keepPodUids?: ReadonlySet<string>;
  log?: (msg: string) => void;
}

export interface ReconcileResult {
  removedSandboxes: string[];
  releasedIPs: string[];
  removedNetns: string[];
}

/**
 * Releases what belongs to no live pod. Run it before pods start (the supervisor does at start-up,
 * the kubelet once it knows its pods): an IP reserved by a RunPodSandbox still in flight would
 * otherwise look stale.
 */
export async function reconcileRuntime(rt: ContainerdRuntime, o: ReconcileOptions): Promise<ReconcileResult> {
  const result: ReconcileResult = { removedSandboxes: [], releasedIPs: [], removedNetns: [] };
  let sandboxes = await rt.listPodSandbox();
  if (o.keepPodUids) {
    for (const id of orphanSandboxes(sandboxes, o.keepPodUids)) {
      try {
        await rt.stopPodSandbox(id);
        await rt.removePodSandbox(id);
        result.removedSandboxes.push(id);
      } catch (e) {
        o.log?.(`containerd: removing orphaned sandbox ${id}: ${(e as Error).message}`);
      }
    }
    if (result.removedSandboxes.length) sandboxes = await rt.listPodSandbox();
  }
  const ids = new Set(sandboxes.map((s) => s.id));
  for (const r of o.ipamDataDir ? staleReservations(readIpamReservations(o.ipamDataDir), ids) : []) {
    rmSync(r.file, { force: true });
    result.releasedIPs.push(r.ip);
  }
  if (o.netnsDir) {
    const referenced = new Set<string>();
    for (const s of sandboxes) {
      const p = netnsOfSandboxInfo(await rt.podSandboxInfo(s.id).catch(() => undefined));
      if (p) referenced.add(path.resolve(p));
    }
    const files = safeReaddir(o.netnsDir).map((n) => path.join(o.netnsDir!, n));
    for (const f of staleNetns(files, referenced)) {
      await execFileP('umount', [f]).catch(() => undefined); // absent after a reboot: only the file is left
      try {
        rmSync(f, { force: true });
        result.removedNetns.push(f);
      } catch (e) {
        o.log?.(`containerd: removing network namespace ${f}: ${(e as Error).message}`);
      }
    }
  }
  if (result.removedSandboxes.length || result.releasedIPs.length || result.removedNetns.length) {
    o.log?.(`containerd: released ${result.removedSandboxes.length} orphaned sandboxes, ${result.releasedIPs.length} IPs, ${result.removedNetns.length} network namespaces`);
  }
  return result;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
