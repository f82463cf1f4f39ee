/**
 * The service proxy component (kube-proxy): watches Services and EndpointSlices and programs a
 * backend — nftables in the root network modes, the user-space relay in loopback mode. Changes
 * are coalesced: one sync runs at a time, and every change seen while it runs is folded into the
 * next one, so bursts cost one sync and a single change applies within milliseconds.
 */
import { R } from '../../client/factory.js';
import { Informer } from '../../client/informer.js';
import type { RestClient } from '../../client/rest.js';
import type { Component } from '../../cluster/component.js';
import { buildServicePorts, type ServicePort } from './model.js';
import { NftablesBackend } from './nftables.js';
import { UserspaceBackend } from './userspace.js';

export interface ProxyBackend {
  sync(ports: ServicePort[]): Promise<void>;
  close(): Promise<void>;
}

export interface ServiceProxyOptions {
  /** `nftables` (root) or `userspace` (loopback mode). */
  mode: 'nftables' | 'userspace';
  nodeName?: string;
  nodeIP?: string;
  /** Pod range (for masquerading ClusterIP traffic from outside it). */
  clusterCIDR?: string;
  /** nftables table name (default skiff-proxy). */
  table?: string;
  log?: (msg: string) => void;
  /** A ready-made backend (tests). */
  backend?: ProxyBackend;
}

export interface ServiceProxy extends Component {
  readonly backend: ProxyBackend;
  /** Resolves once the backend reflects every change seen so far. */
  flush(): Promise<void>;
  /** Duration of the last sync (ms) and how many Service ports it programmed. */
  readonly lastSync: { ms: number; ports: number; at: number };
}

export function createServiceProxy(client: RestClient, opts: ServiceProxyOptions): ServiceProxy {
  const log = opts.log ?? (() => undefined);
  const backend: ProxyBackend =
    opts.backend ?? (opts.mode === 'nftables' ? new NftablesBackend(opts.table ?? 'skiff-proxy', { clusterCIDR: opts.clusterCIDR }) : new UserspaceBackend({ nodeIP: opts.nodeIP, onError: log }));
  const services = new Informer(client, R.services);
  const slices = new Informer(client, R.endpointslices);
  let dirty = false;
  let running: Promise<void> | undefined;
  let stopped = false;
  const lastSync = { ms: 0, ports: 0, at: 0 };

  const loop = async () => {
    while (dirty && !stopped) {
      dirty = false;
      const t0 = performance.now();
      const ports = buildServicePorts(services.list(), slices.list());
      try {
        await backend.sync(ports);
      } catch (e) {
        log(`service proxy: sync failed: ${(e as Error).message}`);
        // Retry soon, from scratch (the backend resets itself on failure).
        setTimeout(kick, 1000).unref();
      }
      lastSync.ms = performance.now() - t0;
      lastSync.ports = ports.length;
      lastSync.at = Date.now();
    }
  };
  const kick = () => {
    dirty = true;
    if (!running) running = loop().finally(() => (running = undefined));
  };
  for (const inf of [services, slices]) inf.addHandlers({ add: kick, update: kick, delete: kick });

  return {
    name: `service-proxy (${opts.mode})`,
    backend,
    lastSync,
    async start() {
      await Promise.all([services.start(), slices.start()]);
      kick();
      await running;
    },
    async stop() {
      stopped = true;
      services.stop();
      slices.stop();
      await running;
      await backend.close();
    },
    async flush() {
      while (running || dirty) {
        if (!running) kick();
        await running;
      }
    },
  };
}
