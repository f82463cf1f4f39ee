import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { hostname } from 'node:os';
import { openBackend } from '../storage/open.js';
import type { Backend } from '../storage/backend.js';
import { ApiServer } from '../apiserver/server.js';
import { ensureClusterPKI, type ClusterPKI } from '../pki/ca.js';
import { writeKubeconfig } from '../pki/kubeconfig.js';
import { RestClient } from '../client/rest.js';
import { Executor, type Component } from './component.js';
import { lockDataDir } from './lock.js';

/** Which parts run besides storage and the API server (all on for `skiff up`). */
export interface ComponentSelection {
  controllers?: boolean;
}

export interface UpOptions {
  dataDir: string;
  apiPort: number;
  datastore: string;
  host?: string;
  log?: (msg: string) => void;
  components?: ComponentSelection;
}

export interface RunningCluster {
  apiServer: ApiServer;
  kubeconfigPath: string;
  server: string;
  pki: ClusterPKI;
  stop(): Promise<void>;
}

export const ALL_COMPONENTS: Required<ComponentSelection> = { controllers: true };

/**
 * Brings up a single-node cluster: storage, PKI, API server, admin kubeconfig, then the components
 * that talk to the API server (each only through it, as they would from another machine).
 */
export async function up(opts: UpOptions): Promise<RunningCluster> {
  const log = opts.log ?? (() => undefined);
  const dataDir = path.resolve(opts.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const unlock = lockDataDir(dataDir);
  const exec = new Executor(log);
  try {
    const [backend, pki] = await Promise.all([
      openBackend(opts.datastore, dataDir),
      ensureClusterPKI(path.join(dataDir, 'pki'), { serverSANs: { dns: [], ips: [] } }),
    ]);
    const apiServer = new ApiServer({
      backend,
      port: opts.apiPort,
      host: opts.host,
      tls: { cert: pki.apiserver.certPem, key: pki.apiserver.keyPem, ca: pki.ca.certPem },
    });
    const storage: Component = { name: `storage (${backend.name})`, start: async () => undefined, stop: () => backend.close() };
    const api: Component = { name: 'apiserver', start: () => apiServer.start(), stop: () => apiServer.stop() };
    await exec.run([storage, api]);
    const server = `https://127.0.0.1:${apiServer.port}`;
    const kubeconfigPath = path.join(dataDir, 'kubeconfig');
    await writeKubeconfig(kubeconfigPath, { server, caPem: pki.ca.certPem, certPem: pki.admin.certPem, keyPem: pki.admin.keyPem });
    await exec.run(await clusterComponents({ ...ALL_COMPONENTS, ...opts.components }, server, pki, log));
    return {
      apiServer,
      kubeconfigPath,
      server,
      pki,
      stop: async () => {
        await exec.stop();
        unlock();
      },
    };
  } catch (e) {
    await exec.stop();
    unlock();
    throw e;
  }
}

/** The components that run against the API server, each with its own client. */
async function clusterComponents(sel: Required<ComponentSelection>, server: string, pki: ClusterPKI, log: (m: string) => void): Promise<Component[]> {
  const client = (userAgent: string) => new RestClient({ server, caPem: pki.ca.certPem, certPem: pki.admin.certPem, keyPem: pki.admin.keyPem, userAgent });
  const out: Component[] = [];
  if (sel.controllers) {
    const { createControllerManager } = await import('../controllers/manager.js');
    const c = client('skiff-controller-manager');
    // A stable identity lets a restarted `skiff up` take its own lease back at once.
    const cm = createControllerManager(c, { caPem: pki.ca.certPem, log, identity: `${hostname()}_skiff-up` });
    out.push({ name: cm.name, start: () => cm.start(), stop: async () => { await cm.stop(); c.close(); } });
  }
  return out;
}

export type { Backend };
