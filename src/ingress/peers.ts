/** Test and benchmark peers: echo backends that report what they saw, and a real nginx process. */
import http from 'node:http';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';

export const NGINX_BIN = process.env.SKIFF_NGINX ?? '/usr/sbin/nginx';
export const nginxMissing = (): string | undefined => (existsSync(NGINX_BIN) ? undefined : `nginx is not installed at ${NGINX_BIN}`);

export interface EchoServer {
  name: string;
  port: number;
  server: http.Server;
  close(): Promise<void>;
}

/** Answers every request with JSON {backend, url, method, prefix, host}; `status` for the default backend's 404. */
export async function startEcho(name: string, status = 200, port = 0, host = '127.0.0.1'): Promise<EchoServer> {
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const body = JSON.stringify({ backend: name, url: req.url, method: req.method, prefix: req.headers['x-forwarded-prefix'] ?? null, host: req.headers.host ?? null, xff: req.headers['x-forwarded-for'] ?? null, proto: req.headers['x-forwarded-proto'] ?? null, xfhost: req.headers['x-forwarded-host'] ?? null, xfport: req.headers['x-forwarded-port'] ?? null, rid: req.headers['x-request-id'] ?? null });
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    name,
    port: (server.address() as net.AddressInfo).port,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A non-loopback IPv4 address of this machine: EndpointSlices may not point at loopback (as upstream). */
export function hostIPv4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

/** Ports freePort() has handed out in this process: the kernel may offer a just-closed port again. */
const handedOut = new Set<number>();

/** A port free at the moment, never one this process was given before (callers take several for one nginx). */
export async function freePort(): Promise<number> {
  for (;;) {
    const s = net.createServer();
    await new Promise<void>((resolve, reject) => s.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
    const p = (s.address() as net.AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    if (handedOut.has(p)) continue;
    handedOut.add(p);
    return p;
  }
}

/** Whether something accepts connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise<boolean>((r) => {
    const s = net.connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
    s.on('error', () => r(false));
  });
}

export async function waitPort(port: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await accepts(port)) return;
    if (Date.now() > deadline) throw new Error(`port ${port} did not open`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface NginxProcess {
  dir: string;
  child: ChildProcess;
  /** Writes a new configuration and reloads (SIGHUP), as ingress-nginx does on changes. */
  reload(conf: string): Promise<void>;
  stop(): Promise<void>;
}

/** Runs nginx from a temporary prefix (non-root safe: pid, logs and temp paths inside it). */
export async function startNginx(render: (dir: string) => string, waitFor: number[]): Promise<NginxProcess> {
  const dir = await mkdtemp(path.join(tmpdir(), 'skiff-nginx-'));
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi', 'logs']) await mkdir(path.join(dir, d), { recursive: true });
  const conf = path.join(dir, 'nginx.conf');
  const text = render(dir);
  await writeFile(conf, text);
  // nginx writes its pid file only once it has bound every listen socket (it exits if it cannot):
  // an open port alone may be another process's.
  const pidPath = /^\s*pid\s+([^;\s]+);/m.exec(text.replace(/;/g, ';\n'))?.[1];
  const pidFile = pidPath && path.resolve(dir, pidPath);
  const child = spawn(NGINX_BIN, ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const ours = async () => !pidFile || (await readFile(pidFile, 'utf8').catch(() => '')).trim() === String(child.pid);
  const ready = async () => {
    for (const p of waitFor) if (!(await accepts(p))) return false;
    return ours();
  };
  try {
    const deadline = Date.now() + 10_000;
    while (!(await ready())) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nginx exited (${child.exitCode ?? child.signalCode})`);
      if (Date.now() > deadline) throw new Error(`nginx was not listening on ${waitFor.join(', ')} within 10 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nginx exited (${child.exitCode ?? child.signalCode})`);
  } catch (e) {
    child.kill('SIGKILL');
    const log = await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '');
    throw new Error(`nginx did not start: ${stderr} ${log}`, { cause: e });
  }
  return {
    dir,
    child,
    async reload(text) {
      await writeFile(conf, text);
      child.kill('SIGHUP');
    },
    async stop() {
      child.kill('SIGQUIT');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
