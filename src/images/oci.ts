/**
 * Builds a single-layer OCI image deterministically: layer tar (its sha256 is the diff_id) →
 * gzip → config blob → manifest blob → index.json (annotated with the image name, as
 * `ctr images import` reads it) + oci-layout. The result is both an OCI archive (a tar of that
 * layout, what `skiff image load` and `ctr images import` take) and the blobs a registry serves.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { tarball, type TarEntry } from './tar.js';

export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export interface ImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  exposedPorts?: string[];
  stopSignal?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface BuiltImage {
  /** Fully qualified name, e.g. `skiff.local/busybox:1.35`. */
  name: string;
  manifest: Descriptor;
  config: Descriptor;
  layer: Descriptor;
  /** digest → bytes, for every blob (layer, config, manifest). */
  blobs: Map<string, Buffer>;
  /** The OCI archive (tar of the image layout). */
  archive(): Buffer;
}

export function sha256(b: Buffer): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

function desc(mediaType: string, data: Buffer): Descriptor {
  return { mediaType, digest: sha256(data), size: data.length };
}

export function buildImage(name: string, entries: TarEntry[], cfg: ImageConfig): BuiltImage {
  const layerTar = tarball(entries);
  const diffId = sha256(layerTar);
  const layerGz = gzipSync(layerTar, { level: 6 });
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created: '1970-01-01T00:00:00Z',
      config: {
        Env: cfg.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
        ...(cfg.entrypoint ? { Entrypoint: cfg.entrypoint } : {}),
        ...(cfg.cmd ? { Cmd: cfg.cmd } : {}),
        ...(cfg.workingDir ? { WorkingDir: cfg.workingDir } : {}),
        ...(cfg.exposedPorts ? { ExposedPorts: Object.fromEntries(cfg.exposedPorts.map((p) => [p, {}])) } : {}),
        ...(cfg.stopSignal ? { StopSignal: cfg.stopSignal } : {}),
      },
      rootfs: { type: 'layers', diff_ids: [diffId] },
      history: [{ created: '1970-01-01T00:00:00Z', created_by: 'skiff image build' }],
    }),
  );
  const layer = desc(MEDIA.layer, layerGz);
  const configDesc = desc(MEDIA.config, config);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.manifest, config: configDesc, layers: [layer] }));
  const manifestDesc = desc(MEDIA.manifest, manifest);
  const blobs = new Map<string, Buffer>([
    [layer.digest, layerGz],
    [configDesc.digest, config],
    [manifestDesc.digest, manifest],
  ]);
  return {
    name,
    manifest: manifestDesc,
    config: configDesc,
    layer,
    blobs,
    archive: () => {
      const tag = name.slice(name.lastIndexOf(':') + 1);
      const index = {
        schemaVersion: 2,
        mediaType: MEDIA.index,
        manifests: [{ ...manifestDesc, platform: { architecture: 'amd64', os: 'linux' }, annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': tag } }],
      };
      const files: TarEntry[] = [
        { type: 'file', path: 'oci-layout', data: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
        { type: 'file', path: 'index.json', data: Buffer.from(JSON.stringify(index)) },
        { type: 'dir', path: 'blobs' },
        { type: 'dir', path: 'blobs/sha256' },
        ...[...blobs].sort(([a], [b]) => a.localeCompare(b)).map(([d, data]): TarEntry => ({ type: 'file', path: `blobs/sha256/${d.slice(7)}`, data })),
      ];
      return tarball(files);
    },
  };
}
