/**
 * A real registry for tests: Debian's `docker-registry` (CNCF distribution 2.8) on loopback with
 * its own storage dir, images pushed to it over the registry v2 upload API (blob upload sessions,
 * then the manifest), as `docker push` / `skopeo copy` would. Its access log tells which requests
 * were made (to assert that a pull really went through the registry).
 *
 * startTestRegistry() prefers it and falls back to the in-process registry (registry.ts) where
 * docker-registry is not installed, so a machine without the package still runs the tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BuiltImage } from './oci.js';
import { startLocalRegistry } from './registry.js';
import { SkiffError } from '../util/errors.js';

export const DOCKER_REGISTRY_BIN = '/usr/bin/docker-registry';

export interface TestRegistry {
  /** host:port on loopback */
  host: string;
  /** 'docker-registry' (Debian's distribution) or 'in-process' (the fallback). */
  kind: 'docker-registry' | 'in-process';
  /** Publishes `img` as `repo:tag`; returns `host/repo:tag`. */
  publish(img: BuiltImage, repo: string, tag: string): Promise<string>;
  /** Requests seen, `METHOD path`. */
  readonly requests: string[];
  close(): Promise<void>;
}

export function dockerRegistryMissing(): string | undefined {
  return existsSync(DOCKER_REGISTRY_BIN) ? undefined : 'docker-registry is not installed (apt-get install docker-registry)';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Debian's docker-registry on a free loopback port, storing under a fresh temp dir. */
export async function startDockerRegistry(): Promise<TestRegistry> {
  const missing = dockerRegistryMissing();
  if (missing) throw new SkiffError('NotInstalled', missing);
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-registry-'));
  const requests: string[] = [];
  let child: ChildProcess | undefined;
  let log = '';
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = path.join(dir, 'config.yml');
    writeFileSync(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: warn',
        '  accesslog:',
        '    disabled: false',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${JSON.stringify(path.join(dir, 'data'))}`,
        'http:',
        `  addr: 127.0.0.1:${port}`,
        '',
      ].join('\n'),
    );
    const c = spawn(DOCKER_REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (d: Buffer) => {
      log = (log + d.toString()).slice(-20_000);
      for (const m of d.toString().matchAll(/"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP\/[\d.]+"/g)) requests.push(`${m[1]} ${m[2]}`);
    };
    c.stdout!.on('data', onData);
    c.stderr!.on('data', onData);
    let exited = false;
    c.once('exit', () => (exited = true));
    const deadline = Date.now() + 10_000;
    const logged = requests.length;
    let up = false;
    while (!exited && Date.now() < deadline) {
      const ok = await fetch(`http://127.0.0.1:${port}/v2/`, { signal: AbortSignal.timeout(2000) }).then((r) => r.ok, () => false);
      // Another process may have taken the port meanwhile: only our child, alive, logging the probe, is ours.
      up = ok && !exited && requests.slice(logged).includes('GET /v2/');
      if (up) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    if (up) {
      child = c;
      const host = `127.0.0.1:${port}`;
      return {
        host,
        kind: 'docker-registry',
        requests,
        publish: (img, repo, tag) => pushImage(host, img, repo, tag),
        close: async () => {
          if (child && child.exitCode === null && child.signalCode === null) {
            const gone = new Promise((r) => child!.once('exit', r));
            child.kill('SIGTERM');
            const kill = setTimeout(() => child!.kill('SIGKILL'), 5000);
            await gone;
            clearTimeout(kill);
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    c.kill('SIGKILL');
    if (attempt >= 2) {
      rmSync(dir, { recursive: true, force: true });
      throw new SkiffError('RegistryFailed', `docker-registry did not start: ${log.slice(-2000)}`);
    }
  }
}

/** Pushes an image's blobs (upload sessions) and then its manifest, over the registry v2 API. */
export async function pushImage(host: string, img: BuiltImage, repo: string, tag: string): Promise<string> {
  const base = `http://${host}/v2/${repo}`;
  for (const d of [img.layer.digest, img.config.digest]) {
    if ((await fetch(`${base}/blobs/${d}`, { method: 'HEAD' })).ok) continue;
    const start = await fetch(`${base}/blobs/uploads/`, { method: 'POST' });
    if (start.status !== 202) throw new SkiffError('PushFailed', `starting an upload to ${base}: ${start.status} ${await start.text()}`);
    const loc = new URL(start.headers.get('location')!, `http://${host}`);
    loc.searchParams.set('digest', d);
    const put = await fetch(loc, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body: img.blobs.get(d)! });
    if (put.status !== 201) throw new SkiffError('PushFailed', `uploading ${d} to ${base}: ${put.status} ${await put.text()}`);
  }
  const man = await fetch(`${base}/manifests/${tag}`, { method: 'PUT', headers: { 'Content-Type': img.manifest.mediaType }, body: img.blobs.get(img.manifest.digest)! });
  if (man.status !== 201) throw new SkiffError('PushFailed', `putting the manifest ${repo}:${tag}: ${man.status} ${await man.text()}`);
  return `${host}/${repo}:${tag}`;
}

/** docker-registry where installed, else the in-process registry. */
export async function startTestRegistry(): Promise<TestRegistry> {
  if (!dockerRegistryMissing()) return startDockerRegistry();
  const r = await startLocalRegistry();
  return { host: r.host, kind: 'in-process', requests: r.requests, publish: async (img, repo, tag) => r.push(img, repo, tag), close: () => r.close() };
}
