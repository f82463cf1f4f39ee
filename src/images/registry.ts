/**
 * A read-only OCI distribution (registry v2) server for built images: enough of the pull side
 * (`/v2/`, manifests by tag or digest, blobs, HEAD and GET) for containerd to pull through CRI
 * PullImage over plain HTTP on loopback. Tests use it to exercise real pulls without internet.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BuiltImage } from './oci.js';

export interface LocalRegistry {
  /** host:port, e.g. 127.0.0.1:41234 */
  host: string;
  /** Publishes `img` as `repo:tag` (repo like `library/busybox`); returns `host/repo:tag`. */
  push(img: BuiltImage, repo: string, tag: string): string;
  /** Basic-auth credentials required from now on (imagePullSecrets tests). */
  requireAuth(username: string, password: string): void;
  /** Requests seen, `METHOD path` (for asserting that a pull happened). */
  readonly requests: string[];
  close(): Promise<void>;
}

export async function startLocalRegistry(): Promise<LocalRegistry> {
  const manifests = new Map<string, { body: Buffer; mediaType: string; digest: string }>(); // repo:ref → manifest
  const blobs = new Map<string, Buffer>();
  const requests: string[] = [];
  let auth: string | undefined;
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (auth && req.headers.authorization !== auth) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="skiff"', 'Docker-Distribution-Api-Version': 'registry/2.0' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, body: Buffer, headers: Record<string, string | number>) => {
      res.writeHead(status, { 'Docker-Distribution-Api-Version': 'registry/2.0', 'Content-Length': body.length, ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const notFound = (code: string) => send(404, Buffer.from(JSON.stringify({ errors: [{ code, message: code.toLowerCase().replace(/_/g, ' ') }] })), { 'Content-Type': 'application/json' });
    if (url.pathname === '/v2/' || url.pathname === '/v2') return send(200, Buffer.from('{}'), { 'Content-Type': 'application/json' });
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    if (!m || (req.method !== 'GET' && req.method !== 'HEAD')) return notFound('UNSUPPORTED');
    const [, repo, kind, ref] = m;
    if (kind === 'manifests') {
      const man = manifests.get(`${repo}:${ref}`);
      if (!man) return notFound('MANIFEST_UNKNOWN');
      return send(200, man.body, { 'Content-Type': man.mediaType, 'Docker-Content-Digest': man.digest });
    }
    const blob = blobs.get(ref);
    if (!blob) return notFound('BLOB_UNKNOWN');
    return send(200, blob, { 'Content-Type': 'application/octet-stream', 'Docker-Content-Digest': ref });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    requests,
    push(img, repo, tag) {
      for (const [d, b] of img.blobs) blobs.set(d, b);
      const body = img.blobs.get(img.manifest.digest)!;
      const entry = { body, mediaType: img.manifest.mediaType, digest: img.manifest.digest };
      manifests.set(`${repo}:${tag}`, entry);
      manifests.set(`${repo}:${img.manifest.digest}`, entry);
      return `${host}/${repo}:${tag}`;
    },
    requireAuth(username, password) {
      auth = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
