/**
 * Pod volumes as directories under `<dataDir>/pods/<uid>/volumes/<plugin>/<name>`, as upstream's
 * layout: emptyDir (Memory medium under /dev/shm), configMap, secret, downwardAPI, projected
 * (including serviceAccountToken via the TokenRequest API when the server has it) and hostPath.
 * Files are written atomically with the volume's modes. The runtime receives CRI Mounts
 * (containerPath → hostPath, with subPath resolved here).
 */
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RestClient } from '../client/rest.js';
import type { Mount } from '../runtime/cri.js';
import { MountError } from './podworker/worker.js';
import { fieldValue, resourceValue, type NodeFacts, type ObjectSource } from './env.js';

const PLUGIN: Record<string, string> = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
};

export class VolumeManager {
  constructor(
    private readonly podsDir: string,
    private readonly src: ObjectSource,
    private readonly node: NodeFacts,
    private readonly client?: RestClient,
  ) {}

  podDir(uid: string): string {
    return path.join(this.podsDir, uid);
  }

  /** Where volume `v` of the pod lives on the host. */
  hostPathOf(pod: any, v: any): string {
    if (v.hostPath) return v.hostPath.path;
    if (v.emptyDir?.medium === 'Memory' && existsSync('/dev/shm')) return path.join('/dev/shm', 'skiff', pod.metadata.uid, v.name);
    const kind = Object.keys(PLUGIN).find((k) => v[k]) ?? 'emptyDir';
    return path.join(this.podDir(pod.metadata.uid), 'volumes', PLUGIN[kind], v.name);
  }

  async setup(pod: any, podIP = ''): Promise<void> {
    for (const v of pod.spec?.volumes ?? []) {
      try {
        await this.setupOne(pod, v, podIP);
      } catch (e) {
        throw new MountError(`MountVolume.SetUp failed for volume "${v.name}" : ${(e as Error).message}`);
      }
    }
  }

  private async setupOne(pod: any, v: any, podIP: string): Promise<void> {
    const dir = this.hostPathOf(pod, v);
    const ns = pod.metadata.namespace;
    if (v.hostPath) {
      const t = v.hostPath.type ?? '';
      if (t === 'DirectoryOrCreate') await mkdir(dir, { recursive: true });
      else if (t === 'Directory' && !existsSync(dir)) throw new Error(`hostPath type check failed: ${dir} is not a directory`);
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
        if (s.serviceAccountToken) files.set(s.serviceAccountToken.path, { data: Buffer.from(await this.token(pod, s.serviceAccountToken)), mode: mode ?? 0o644 });
      }
    }
    await writeAtomically(dir, files);
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

  /** CRI mounts of one container, with subPath resolved. */
  mounts(pod: any, spec: any): Mount[] {
    const out: Mount[] = [];
    for (const vm of spec.volumeMounts ?? []) {
      const v = (pod.spec?.volumes ?? []).find((x: any) => x.name === vm.name);
      if (!v) continue;
      let host = this.hostPathOf(pod, v);
      const sub = vm.subPath || (vm.subPathExpr ? '' : '');
      if (sub) host = path.join(host, sub);
      out.push({ containerPath: vm.mountPath, hostPath: host, readonly: !!vm.readOnly });
    }
    return out;
  }

  async teardown(pod: any): Promise<void> {
    await rm(this.podDir(pod.metadata.uid), { recursive: true, force: true });
    await rm(path.join('/dev/shm', 'skiff', pod.metadata.uid), { recursive: true, force: true }).catch(() => undefined);
  }
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

/** Writes the files into a fresh directory and swaps it in, so readers never see half an update. */
async function writeAtomically(dir: string, files: Map<string, { data: Buffer; mode: number }>): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true });
  for (const [rel, f] of files) {
    const p = path.join(tmp, rel);
    if (!p.startsWith(tmp + path.sep)) throw new Error(`invalid path ${rel}`);
    await mkdir(path.dirname(p), { recursive: true });
    await writeFile(p, f.data);
    await chmod(p, f.mode & 0o777);
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(path.dirname(dir), { recursive: true });
  await rename(tmp, dir);
}
