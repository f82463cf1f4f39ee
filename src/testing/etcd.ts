/**
 * A throwaway single-member etcd for tests and benchmarks: loopback ports, a temp data dir, fast elections.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { which } from './real.js';

export interface EtcdInstance {
  /** Client URLs, e.g. ["http://127.0.0.1:43123"]. */
  endpoints: string[];
  stop(): Promise<void>;
  /** Stop and start again on the same ports and data (clients see a dropped connection). */
  restart(): Promise<void>;
}

const ETCD_DEFAULT = '/usr/bin/etcd';

/** SKIFF_ETCD_BIN overrides where etcd is looked for. */
function etcdBinary(): string | undefined {
  const override = process.env.SKIFF_ETCD_BIN;
  if (override) return existsSync(override) ? override : undefined;
  return which('etcd') || (existsSync(ETCD_DEFAULT) ? ETCD_DEFAULT : undefined);
}

/** Why etcd cannot be started here, or undefined when it can. */
export function etcdMissing(): string | undefined {
  if (etcdBinary()) return undefined;
  const override = process.env.SKIFF_ETCD_BIN;
  return override ? `SKIFF_ETCD_BIN=${override} does not exist` : 'etcd is not installed (apt-get install etcd-server)';
}

/** A port that was free a moment ago (the OS may hand it out again; startEtcd retries on a clash). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Children still running; killed if the test process exits without stopping them. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await res.json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}

interface Running {
  exited: Promise<void>;
  hasExited(): boolean;
  kill(signal: NodeJS.Signals): void;
}

/** Launch etcd on the given ports and data dir, and wait until it is healthy. */
async function launch(bin: string, dataDir: string, clientPort: number, peerPort: number): Promise<Running> {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child = spawn(
    bin,
    [
      '--name', 'skiff-test',
      '--data-dir', join(dataDir, 'data'),
      '--listen-client-urls', client,
      '--advertise-client-urls', client,
      '--listen-peer-urls', peer,
      '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `skiff-test=${peer}`,
      '--initial-cluster-state', 'new',
      // A single member elects itself at once with these; the defaults take about a second.
      '--heartbeat-interval', '10',
      '--election-timeout', '100',
      '--logger', 'zap',
      '--log-level', 'error',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  running.add(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  let exited = false;
  const exitedP = new Promise<void>((resolve) =>
    child.on('exit', () => {
      exited = true;
      running.delete(child);
      resolve();
    }),
  );
  const proc: Running = { exited: exitedP, hasExited: () => exited, kill: (sig) => child.kill(sig) };
  const deadline = Date.now() + 20_000;
  while (!(await healthy(client))) {
    if (exited || Date.now() > deadline) {
      await terminate(proc);
      throw new Error(`etcd did not become ready on ${client}: ${stderr.trim() || 'no output'}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return proc;
}

async function terminate(p: Running): Promise<void> {
  if (p.hasExited()) return;
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), 5000);
  await p.exited;
  clearTimeout(t);
}

async function startOnce(bin: string): Promise<EtcdInstance> {
  const dataDir = await mkdtemp(join(tmpdir(), 'skiff-etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  let proc: Running;
  try {
    proc = await launch(bin, dataDir, clientPort, peerPort);
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    endpoints: [`http://127.0.0.1:${clientPort}`],
    async stop() {
      await terminate(proc);
      await rm(dataDir, { recursive: true, force: true });
    },
    async restart() {
      await terminate(proc);
      proc = await launch(bin, dataDir, clientPort, peerPort);
    },
  };
}

/** Start etcd and wait until it serves requests. */
export async function startEtcd(): Promise<EtcdInstance> {
  const bin = etcdBinary();
  if (!bin) throw new Error(etcdMissing());
  // A port picked by freePort() can be taken before etcd binds it; try a few times.
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(bin);
    } catch (err) {
      lastErr = err;
    }
  }
  throw lastErr;
}
