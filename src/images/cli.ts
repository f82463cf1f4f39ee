/**
 * `skiff image load FILE.tar…` and `skiff image ls`: the node's images, through the CRI endpoint
 * of the kubelet's containerd (like `kind load image-archive` and `crictl images`). Loading uses
 * `ctr images import` into the CRI namespace: OCI archives and docker-archive (`docker save`)
 * tarballs both work. Functions take parsed options; the CLI wires flags to them.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ContainerdSupervisor, containerdDir, importArchive } from '../runtime/containerd/supervisor.js';
import { ContainerdRuntime } from '../runtime/containerd/runtime.js';
import { SkiffError } from '../util/errors.js';

export interface ImageCommandOptions {
  /** The kubelet's data dir (its containerd lives under it); default `./.skiff/kubelet`. */
  dataDir?: string;
  /** A CRI endpoint instead (`unix:///run/containerd/containerd.sock`). */
  endpoint?: string;
  out?: (line: string) => void;
}

export function imageEndpoint(o: ImageCommandOptions): string {
  if (o.endpoint) return o.endpoint;
  const dir = o.dataDir ?? '.skiff/kubelet';
  // Either the kubelet's data dir or the cluster's (`skiff up --data-dir X` keeps the kubelet's in X/kubelet).
  const sup = [dir, path.join(dir, 'kubelet')].map((d) => new ContainerdSupervisor({ dir: containerdDir(d) })).find((s) => existsSync(s.paths.socket));
  if (!sup) throw new SkiffError('NoRuntime', `no containerd socket under ${dir} (nor ${path.join(dir, 'kubelet')}): is the node running with --runtime containerd? (or pass --container-runtime-endpoint)`);
  return sup.endpoint;
}

/** Imports each tarball; prints `Loaded image: NAME` per image, as `docker load` does. Returns the names. */
export async function imageLoad(files: string[], o: ImageCommandOptions = {}): Promise<string[]> {
  const out = o.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const endpoint = imageEndpoint(o);
  // Loading goes through containerd's own API (ctr); other CRI runtimes have their own tools.
  const rt = new ContainerdRuntime({ endpoint });
  const v = await rt.version().finally(() => rt.close());
  if (v.runtimeName !== 'containerd') throw new SkiffError('Unsupported', `skiff image load needs containerd, but ${endpoint} is ${v.runtimeName} ${v.runtimeVersion}; load images with that runtime's own tools (for CRI-O: skopeo copy into containers-storage)`);
  const names: string[] = [];
  for (const f of files) {
    if (!existsSync(f)) throw new SkiffError('NotFound', `image archive ${f} does not exist`);
    const text = await importArchive(endpoint, f);
    // ctr prints "unpacking NAME (sha256:…)...done" per image
    for (const m of text.matchAll(/unpacking (\S+) \(sha256:/g)) {
      names.push(m[1]);
      out(`Loaded image: ${m[1]}`);
    }
  }
  return names;
}

export interface ImageRow {
  image: string;
  tag: string;
  id: string;
  size: number;
}

/** Lists the node's images as `crictl images` does (IMAGE, TAG, IMAGE ID, SIZE). */
export async function imageList(o: ImageCommandOptions = {}): Promise<ImageRow[]> {
  const out = o.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const rt = new ContainerdRuntime({ endpoint: imageEndpoint(o) });
  try {
    const rows: ImageRow[] = [];
    for (const img of await rt.listImages()) {
      const tags = img.repoTags.length ? img.repoTags : img.repoDigests.map((d) => `${d.split('@')[0]}:<none>`);
      for (const t of tags) {
        const i = t.lastIndexOf(':');
        rows.push({ image: t.slice(0, i), tag: t.slice(i + 1), id: img.id.replace(/^sha256:/, '').slice(0, 13), size: img.size });
      }
    }
    rows.sort((a, b) => a.image.localeCompare(b.image) || a.tag.localeCompare(b.tag));
    const w = (k: keyof ImageRow, h: string) => Math.max(h.length, ...rows.map((r) => String(k === 'size' ? human(r.size) : r[k]).length));
    const wi = w('image', 'IMAGE');
    const wt = w('tag', 'TAG');
    const wd = w('id', 'IMAGE ID');
    out(`${'IMAGE'.padEnd(wi)}   ${'TAG'.padEnd(wt)}   ${'IMAGE ID'.padEnd(wd)}   SIZE`);
    for (const r of rows) out(`${r.image.padEnd(wi)}   ${r.tag.padEnd(wt)}   ${r.id.padEnd(wd)}   ${human(r.size)}`);
    return rows;
  } finally {
    await rt.close();
  }
}

function human(n: number): string {
  if (n < 1000) return `${n}B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)}kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)}MB`;
  return `${(n / 1e9).toFixed(1)}GB`;
}
