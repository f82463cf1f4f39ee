import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { openBackend } from '../storage/open.js';
import type { Backend } from '../storage/backend.js';
import { ApiServer } from '../apiserver/server.js';
import { ensureClusterPKI } from '../pki/ca.js';
import { writeKubeconfig } from '../pki/kubeconfig.js';
import { Executor, type Component } from './component.js';
import { lockDataDir } from './lock.js';

export interface UpOptions {
  dataDir: string;
  apiPort: number;
  datastore: string;
  host?: string;
  log?: (msg: string) => void;
}

export interface RunningCluster {
  apiServer: ApiServer;
  kubeconfigPath: string;
  server: string;
  stop(): Promise<void>;
}

/** Brings up a single-node cluster: storage, PKI, API server, admin kubeconfig. */
export async function up(opts: UpOptions): Promise<RunningCluster> {
  const log = opts.log ?? (() => undefined);
  const dataDir = path.resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const unlock = lockDataDir(dataDir);
  let backend: Backend;
  let pki: Awaited<ReturnType<typeof ensureClusterPKI>>;
  try {
    [backend, pki] = await Promise.all([
    openBackend(opts.datastore, dataDir),
      ensureClusterPKI(path.join(dataDir, 'pki'), { serverSANs: { dns: [], ips: [] } }),
    ]);
  } catch (e) {
    unlock();
    throw e;
  }
  const apiServer = new ApiServer({
    backend,
    port: opts.apiPort,
    host: opts.host,
    tls: { cert: pki.apiserver.certPem, key: pki.apiserver.keyPem, ca: pki.ca.certPem },
  });
  const exec = new Executor(log);
  const storage: Component = { name: `storage (${backend.name})`, start: async () => undefined, stop: () => backend.close() };
  const api: Component = { name: 'apiserver', start: () => apiServer.start(), stop: () => apiServer.stop() };
  try {
    await exec.run([storage, api]);
  } catch (e) {
    await exec.stop();
    unlock();
    throw e;
  }
  const server = `https://127.0.0.1:${apiServer.port}`;
  const kubeconfigPath = path.join(dataDir, 'kubeconfig');
  await writeKubeconfig(kubeconfigPath, { server, caPem: pki.ca.certPem, certPem: pki.admin.certPem, keyPem: pki.admin.keyPem });
  return {
    apiServer,
    kubeconfigPath,
    server,
    stop: async () => {
      await exec.stop();
      unlock();
    },
  };
}

export type { Backend };
