/**
 * Pod volumes as directories under `<dataDir>/pods/<uid>/volumes/<plugin>/<name>`, as upstream's
 * layout: emptyDir (Memory medium under /dev/shm), configMap, secret, downwardAPI, projected
 * (including serviceAccountToken via the TokenRequest API when the server has it) and hostPath.
 * Files are written as upstream's AtomicWriter does (a timestamped directory, a `..data` symlink
 * swapped atomically, and user-visible symlinks into it), so the volume's directory never changes
 * and a refresh after the ConfigMap or Secret changed reaches containers through their bind mounts.
 * The runtime receives CRI Mounts (containerPath → hostPath, with subPath resolved here).
 * persistentVolumeClaim volumes wait until the claim is Bound, then use the bound PV's directory
 * (hostPath or local) in place, as a hostPath volume.
 */
import { createHash, randomInt } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RestClient } from '../client/rest.js';
import type { Mount } from '../runtime/cri.js';
import { ContainerConfigError, MountError } from './podworker/worker.js';
import { expand, fieldValue, resourceValue, type NodeFacts, type ObjectSource } from './env.js';

const PLUGIN: Record<string, string> = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
};

/** Volumes whose content comes from API objects and may change while the pod runs. */
export function hasRefreshableVolumes(pod: any): boolean {
  return (pod.spec?.volumes ?? []).some((v: any) => v.configMap || v.secret || v.downwardAPI || v.projected);
}

/** A tree's allocated bytes (st_blocks × 512, as du), each inode counted once; a missing path is 0. */
export async function diskUsage(root: string): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (p: string): Promise<void> => {
    const st = await lstat(p).catch(() => undefined);
    if (!st) return;
    const ino = `${st.dev}:${st.ino}`;
    if (seen.has(ino)) return;
    seen.add(ino);
    total += st.blocks * 512;
    if (st.isDirectory()) for (const name of await readdir(p).catch(() => [] as string[])) await walk(path.join(p, name));
  };
  await walk(root);
  return total;
}

/**
 * upstream's hostPath checkTypeInternal: DirectoryOrCreate makes the directory (0755) and
 * FileOrCreate the file (0644, its parent must exist) when missing; otherwise the path must be of
 * the type named. An empty type checks nothing.
 */
export async function checkHostPathType(p: string, type: string): Promise<void> {
  if (type === '') return;
  const st = await stat(p).catch(() => undefined);
  if (!st && type === 'DirectoryOrCreate') return void (await mkdir(p, { recursive: true, mode: 0o755 }));
  if (!st && type === 'FileOrCreate') return void (await writeFile(p, '', { flag: 'a', mode: 0o644 }));
  // An existing path of the *OrCreate types must be of the type too.
  const checks: Record<string, [string, (s: NonNullable<typeof st>) => boolean]> = {
    DirectoryOrCreate: ['a directory', (s) => s.isDirectory()],
    Directory: ['a directory', (s) => s.isDirectory()],
    FileOrCreate: ['a file', (s) => s.isFile()],
    File: ['a file', (s) => s.isFile()],
    Socket: ['a socket file', (s) => s.isSocket()],
    CharDevice: ['a character device', (s) => s.isCharacterDevice()],
    BlockDevice: ['a block device', (s) => s.isBlockDevice()],
  };
  const c = checks[type];
  if (!c) throw new Error(`${type} is an invalid volume type`);
  if (!st || !c[1](st)) throw new Error(`hostPath type check failed: ${p} is not ${c[0]}`);
}

export class VolumeManager {
  /** Content hash of each written volume directory: unchanged content is not rewritten. */
  private readonly written = new Map<string, string>();
  /** The directory behind each persistentVolumeClaim volume (`<pod uid>/<volume>`), found at setup. */
  private readonly claimPaths = new Map<string, { path: string; readOnly: boolean }>();
  /** Projected service-account tokens, reused until 80% of their lifetime (as the kubelet's token manager). */
  private readonly tokens = new Map<string, { token: string; refreshAt: number }>();

  constructor(
    private readonly podsDir: string,
    private readonly src: ObjectSource,
    private readonly node: NodeFacts,
    private readonly client?: RestClient,
    /**
     * How long a pod's first mount waits for an unbound claim before failing (FailedMount). The
     * scheduler binds the pod as it picks the node, and the claim is bound a moment later; upstream's
     * kubelet waits too, so a normal start shows no FailedMount.
     */
    private readonly claimGraceMs = 2000,
  ) {}
  /** Pod volumes that already had their grace period. */
  private readonly claimWaited = new Set<string>();

  podDir(uid: string): string {
    return path.join(this.podsDir, uid);
  }

  /** Where volume `v` of the pod lives on the host. */
  hostPathOf(pod: any, v: any): string {
    if (v.hostPath) return v.hostPath.path;
    if (v.persistentVolumeClaim) {
      const c = this.claimPaths.get(`${pod.metadata.uid}/${v.name}`);
      if (!c) throw new ContainerConfigError(`volume "${v.name}" is not mounted yet`);
      return c.path;
    }
    if (v.emptyDir?.medium === 'Memory' && existsSync('/dev/shm')) return path.join('/dev/shm', 'skiff', pod.metadata.uid, v.name);
    const kind = Object.keys(PLUGIN).find((k) => v[k]) ?? 'emptyDir';
    return path.join(this.podDir(pod.metadata.uid), 'volumes', PLUGIN[kind], v.name);
  }

  async setup(pod: any, podIP = ''): Promise<void> {
    const claims = (pod.spec?.volumes ?? []).filter((v: any) => v.persistentVolumeClaim);
    if (claims.length) await this.setupClaims(pod, claims);
    // Every volume is tried, each failure its own FailedMount, as upstream's per-volume mounts.
    const failed: string[] = [];
    for (const v of pod.spec?.volumes ?? []) {
      if (v.persistentVolumeClaim) continue;
      try {
        await this.setupOne(pod, v, podIP);
      } catch (e) {
        failed.push(`MountVolume.SetUp failed for volume "${v.name}" : ${(e as Error).message}`);
      }
    }
    if (failed.length) throw new MountError(failed[0], failed);
  }

  /**
   * Resolves each claim to its bound PV's directory (upstream's desired-state populator): an
   * unbound claim fails the mount with upstream's message, and the pod worker retries.
   */
  private async setupClaims(pod: any, vols: any[]): Promise<void> {
    const ns = pod.metadata.namespace;
    const all = (pod.spec?.volumes ?? []).map((v: any) => v.name).sort();
    const unmounted: string[] = [];
    let firstError = '';
    for (const v of vols) {
      const key = `${pod.metadata.uid}/${v.name}`;
      if (this.claimPaths.has(key)) continue;
      try {
        const found = await this.waitForClaim(key, ns, v.persistentVolumeClaim.claimName);
        const dir = found.pv.spec?.hostPath?.path ?? found.pv.spec?.local?.path;
        if (!dir) throw new Error(`volume ${found.pv.metadata.name} has no hostPath or local source (only local volumes are supported)`);
        // A hostPath PV without a type gets its directory created, as containerd does for a missing
        // bind-mount source (so kind-style static PVs work); a local PV's path must exist.
        const type = found.pv.spec?.hostPath ? (found.pv.spec.hostPath.type ?? '') : 'Local';
        if (type === 'DirectoryOrCreate' || type === '') await mkdir(dir, { recursive: true, mode: type === '' ? 0o755 : 0o777 });
        else if (!existsSync(dir)) throw new Error(`path "${dir}" does not exist`);
        this.claimPaths.set(key, { path: dir, readOnly: !!v.persistentVolumeClaim.readOnly });
      } catch (e) {
        unmounted.push(v.name);
        firstError ||= (e as Error).message;
      }
    }
    if (unmounted.length) throw new MountError(`Unable to attach or mount volumes: unmounted volumes=[${unmounted.join(' ')}], unattached volumes=[${all.join(' ')}]: ${firstError}`);
  }

  private async waitForClaim(key: string, ns: string, claimName: string): Promise<{ pvc: any; pv: any }> {
    const deadline = Date.now() + (this.claimWaited.has(key) ? 0 : this.claimGraceMs);
    this.claimWaited.add(key);
    for (;;) {
      try {
        return await this.claimVolume(ns, claimName);
      } catch (e) {
        if (!/PVC is not bound$/.test((e as Error).message) || Date.now() + 250 > deadline) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  private async claimVolume(ns: string, claimName: string): Promise<{ pvc: any; pv: any }> {
    if (!this.client) throw new Error(`error processing PVC ${ns}/${claimName}: no API client`);
    const get = async (p: string, what: string) => {
      try {
        return await this.client!.get(p);
      } catch (e) {
        throw new Error(`error processing PVC ${ns}/${claimName}: failed to fetch ${what} from API server: ${(e as Error).message}`);
      }
    };
    const pvc = await get(`/api/v1/namespaces/${ns}/persistentvolumeclaims/${claimName}`, 'PVC');
    if (pvc.metadata?.deletionTimestamp) throw new Error(`error processing PVC ${ns}/${claimName}: can't start pod because PVC is being deleted`);
    if (pvc.status?.phase !== 'Bound' || !pvc.spec?.volumeName) throw new Error(`error processing PVC ${ns}/${claimName}: PVC is not bound`);
    const pv = await get(`/api/v1/persistentvolumes/${pvc.spec.volumeName}`, `PV ${pvc.spec.volumeName}`);
    if (!pv.spec?.claimRef) throw new Error(`error processing PVC ${ns}/${claimName}: found PV object ${pv.metadata.name} but it has a nil pv.Spec.ClaimRef indicating it is not yet bound to the claim`);
    if (pv.spec.claimRef.uid !== pvc.metadata.uid) throw new Error(`error processing PVC ${ns}/${claimName}: found PV object ${pv.metadata.name} but its pv.Spec.ClaimRef.UID (${pv.spec.claimRef.uid}) does not point to claim.UID (${pvc.metadata.uid})`);
    return { pvc, pv };
  }

  private async setupOne(pod: any, v: any, podIP: string): Promise<void> {
    const dir = this.hostPathOf(pod, v);
    const ns = pod.metadata.namespace;
    if (v.hostPath) {
      await checkHostPathType(dir, v.hostPath.type ?? '');
      return;
    }
    if (v.emptyDir || !Object.keys(PLUGIN).some((k) => v[k])) {
      await mkdir(dir, { recursive: true, mode: 0o777 });
      return;
    }
    const files = new Map<string, { data: Buffer; mode: number }>();
    if (v.configMap) await this.configMapFiles(ns, v.configMap, files, v.configMap.defaultMode);
    if (v.secret) await this.secretFiles(ns, { ...v.secret, name: v.secret.secretName }, files, v.secret.defaultMode);
    if (v.downwardAPI) this.downwardFiles(pod, v.downwardAPI.items ?? [], files, v.downwardAPI.defaultMode, podIP);
    if (v.projected) {
      const mode = v.projected.defaultMode;
      for (const s of v.projected.sources ?? []) {
        if (s.configMap) await this.configMapFiles(ns, s.configMap, files, mode);
        if (s.secret) await this.secretFiles(ns, s.secret, files, mode);
        if (s.downwardAPI) this.downwardFiles(pod, s.downwardAPI.items ?? [], files, mode, podIP);
        if (s.serviceAccountToken) files.set(s.serviceAccountToken.path, { data: Buffer.from(await this.cachedToken(pod, v.name, s.serviceAccountToken)), mode: mode ?? 0o644 });
      }
    }
    const hash = contentHash(files);
    if (this.written.get(dir) === hash && existsSync(path.join(dir, DATA_DIR_NAME))) return;
    await writeAtomically(dir, files);
    this.written.set(dir, hash);
  }

  private async cachedToken(pod: any, volume: string, src: any): Promise<string> {
    const key = `${pod.metadata.uid}/${volume}/${src.path}`;
    const hit = this.tokens.get(key);
    if (hit && Date.now() < hit.refreshAt) return hit.token;
    const token = await this.token(pod, src);
    if (token) this.tokens.set(key, { token, refreshAt: Date.now() + 0.8 * (src.expirationSeconds ?? 3607) * 1000 });
    return token;
  }

  private async configMapFiles(ns: string, ref: any, files: Map<string, { data: Buffer; mode: number }>, defaultMode = 0o644): Promise<void> {
    const cm = await this.src.configMap(ns, ref.name);
    if (!cm) {
      if (ref.optional) return;
      throw new Error(`configmap "${ref.name}" not found`);
    }
    const all: Record<string, Buffer> = {};
    for (const [k, val] of Object.entries(cm.data ?? {})) all[k] = Buffer.from(String(val));
    for (const [k, val] of Object.entries(cm.binaryData ?? {})) all[k] = Buffer.from(String(val), 'base64');
    project(all, ref.items, files, defaultMode, `configmap references non-existent config key`);
  }

  private async secretFiles(ns: string, ref: any, files: Map<string, { data: Buffer; mode: number }>, defaultMode = 0o644): Promise<void> {
    const s = await this.src.secret(ns, ref.name);
    if (!s) {
      if (ref.optional) return;
      throw new Error(`secret "${ref.name}" not found`);
    }
    const all: Record<string, Buffer> = {};
    for (const [k, val] of Object.entries(s.data ?? {})) all[k] = Buffer.from(String(val), 'base64');
    project(all, ref.items, files, defaultMode, `references non-existent secret key`);
  }

  private downwardFiles(pod: any, items: any[], files: Map<string, { data: Buffer; mode: number }>, defaultMode = 0o644, podIP: string): void {
    for (const it of items) {
      const value = it.fieldRef ? fieldValue(pod, it.fieldRef.fieldPath, podIP, this.node) : resourceValue(pod, it.resourceFieldRef, undefined, this.node);
      files.set(it.path, { data: Buffer.from(value), mode: it.mode ?? defaultMode });
    }
  }

  private async token(pod: any, src: any): Promise<string> {
    if (!this.client) return '';
    const sa = pod.spec?.serviceAccountName || 'default';
    try {
      const tr = await this.client.create(`/api/v1/namespaces/${pod.metadata.namespace}/serviceaccounts/${sa}/token`, {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: src.audience ? [src.audience] : undefined, expirationSeconds: src.expirationSeconds ?? 3607, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata.name, uid: pod.metadata.uid } },
      });
      return tr?.status?.token ?? '';
    } catch {
      // The server may not offer TokenRequest yet; the file exists but is empty.
      return '';
    }
  }

  /**
   * CRI mounts of one container, with subPath (or subPathExpr, expanded with the container's
   * declared env values and downward-API fields) resolved and a missing subPath directory created,
   * as upstream's makeMounts. Throws ContainerConfigError with upstream's messages.
   */
  /** Bytes used (allocated blocks, as du) by each emptyDir volume of the pod that has a sizeLimit. */
  async emptyDirUsage(pod: any): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const v of pod.spec?.volumes ?? []) {
      if (v.emptyDir?.sizeLimit === undefined) continue;
      out.set(v.name, await diskUsage(this.hostPathOf(pod, v)));
    }
    return out;
  }

  mounts(pod: any, spec: any): Mount[] {
    const out: Mount[] = [];
    for (const vm of spec.volumeMounts ?? []) {
      const v = (pod.spec?.volumes ?? []).find((x: any) => x.name === vm.name);
      if (!v) continue;
      const volumePath = this.hostPathOf(pod, v);
      let host = volumePath;
      let sub: string = vm.subPath ?? '';
      if (vm.subPathExpr) sub = expandSubPathExpr(vm.subPathExpr, this.subPathEnv(pod, spec));
      if (sub) {
        if (path.isAbsolute(sub)) throw new ContainerConfigError(`error SubPath \`${sub}\` must not be an absolute path`);
        if (sub.split(/[\\/]/).includes('..')) throw new ContainerConfigError(`unable to provision SubPath \`${sub}\`: must not contain '..'`);
        host = path.join(volumePath, sub);
        if (!existsSync(host)) {
          try {
            const mode = existsSync(volumePath) ? statSync(volumePath).mode & 0o7777 : 0o755;
            mkdirSync(host, { recursive: true, mode });
            chmodSync(host, mode);
          } catch {
            throw new ContainerConfigError(`failed to create subPath directory for volumeMount "${vm.name}" of container "${spec.name}"`);
          }
        }
      }
      const claimRO = v.persistentVolumeClaim ? !!this.claimPaths.get(`${pod.metadata.uid}/${v.name}`)?.readOnly : false;
      out.push({ containerPath: vm.mountPath, hostPath: host, readonly: !!vm.readOnly || claimRO });
    }
    return out;
  }

  /** The env values subPathExpr may use: plain values (expanded in order) and downward-API fields. */
  private subPathEnv(pod: any, spec: any): Map<string, string> {
    const vars = new Map<string, string>();
    for (const e of spec.env ?? []) {
      if (!e.valueFrom) vars.set(e.name, expand(e.value ?? '', vars));
      else if (e.valueFrom.fieldRef) vars.set(e.name, fieldValue(pod, e.valueFrom.fieldRef.fieldPath, pod.status?.podIP ?? '', this.node));
    }
    return vars;
  }

  async teardown(pod: any): Promise<void> {
    const uid = pod.metadata.uid;
    for (const k of this.written.keys()) if (k.startsWith(this.podDir(uid) + path.sep)) this.written.delete(k);
    for (const k of this.tokens.keys()) if (k.startsWith(`${uid}/`)) this.tokens.delete(k);
    // The claims' data stays where it is (the volume outlives the pod).
    for (const k of this.claimPaths.keys()) if (k.startsWith(`${uid}/`)) this.claimPaths.delete(k);
    for (const k of this.claimWaited) if (k.startsWith(`${uid}/`)) this.claimWaited.delete(k);
    await rm(this.podDir(pod.metadata.uid), { recursive: true, force: true });
    await rm(path.join('/dev/shm', 'skiff', pod.metadata.uid), { recursive: true, force: true }).catch(() => undefined);
  }
}

/** kubecontainer.ExpandContainerVolumeMounts: every $(VAR) must have a non-empty value. */
export function expandSubPathExpr(expr: string, vars: Map<string, string>): string {
  const missing = new Set<string>();
  const out = expr.replace(/\$\$|\$\(([^)]*)\)/g, (all, name?: string) => {
    if (all === '$$') return '$';
    const v = vars.get(name!);
    if (!v) missing.add(name!);
    return v ?? '';
  });
  if (missing.size) throw new ContainerConfigError(`missing value for ${[...missing].sort().join(', ')}`);
  return out;
}

function project(all: Record<string, Buffer>, items: any[] | undefined, files: Map<string, { data: Buffer; mode: number }>, defaultMode: number, missing: string): void {
  if (!items?.length) {
    for (const [k, data] of Object.entries(all)) files.set(k, { data, mode: defaultMode });
    return;
  }
  for (const it of items) {
    const data = all[it.key];
    if (!data) throw new Error(`${missing} ${it.key}`);
    files.set(it.path, { data, mode: it.mode ?? defaultMode });
  }
}

const DATA_DIR_NAME = '..data';

function contentHash(files: Map<string, { data: Buffer; mode: number }>): string {
  const h = createHash('sha256');
  for (const [rel, f] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) h.update(`${rel}\0${f.mode}\0${f.data.length}\0`).update(f.data);
  return h.digest('hex');
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/**
 * AtomicWriter: the files go into a fresh `..<timestamp>` directory inside `dir`, `..data` is
 * switched to it with one rename, each top-level name is a symlink through `..data`, and the old
 * timestamped directory and names no longer present are removed. Readers see the old or the new
 * content, never a mix; `dir` itself stays the same inode, so bind mounts of it see updates.
 */
export async function writeAtomically(dir: string, files: Map<string, { data: Buffer; mode: number }>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const d = new Date();
  const tsName = `..${d.getUTCFullYear()}_${pad(d.getUTCMonth() + 1)}_${pad(d.getUTCDate())}_${pad(d.getUTCHours())}_${pad(d.getUTCMinutes())}_${pad(d.getUTCSeconds())}.${randomInt(1e9)}`;
  const tsDir = path.join(dir, tsName);
  await mkdir(tsDir, { mode: 0o755 });
  const top = new Set<string>();
  for (const [rel, f] of files) {
    const p = path.join(tsDir, rel);
    if (!p.startsWith(tsDir + path.sep) || rel.split('/')[0].startsWith('..')) throw new Error(`invalid path ${rel}`);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, f.data);
    await chmod(p, f.mode & 0o777);
    top.add(rel.split('/')[0]);
  }
  const dataLink = path.join(dir, DATA_DIR_NAME);
  const old = await readlink(dataLink).catch(() => undefined);
  const tmpLink = path.join(dir, `${DATA_DIR_NAME}_tmp`);
  await rm(tmpLink, { force: true });
  await symlink(tsName, tmpLink);
  await rename(tmpLink, dataLink);
  for (const name of top) {
    const p = path.join(dir, name);
    const st = await lstat(p).catch(() => undefined);
    if (st?.isSymbolicLink()) continue;
    // A plain file or directory here (an older layout) gives way to the symlink.
    if (st) await rm(p, { recursive: true, force: true });
    await symlink(path.join(DATA_DIR_NAME, name), p);
  }
  for (const name of await readdir(dir)) {
    if (name === DATA_DIR_NAME || name === tsName) continue;
    if (name.startsWith('..') ? name === old || /^\.\.\d{4}_/.test(name) : !top.has(name)) await rm(path.join(dir, name), { recursive: true, force: true });
  }
}
