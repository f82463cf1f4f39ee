/**
 * The service proxy component (kube-proxy): watches Services and EndpointSlices and programs a
 * backend — nftables in the root network modes, the user-space relay in loopback mode. Changes
 * are coalesced and incremental: handlers only note which Services changed; one sync runs at a
 * time, rebuilds the ports of just those Services from the informer caches and hands them to the
 * backend, and every change seen meanwhile folds into the next sync. A periodic kick lets the
 * backend run its full resync even when nothing changes.
 */
import { R } from '../../client/factory.js';
import { Informer } from '../../client/informer.js';
import type { RestClient } from '../../client/rest.js';
import type { Component } from '../../cluster/component.js';
import { ServiceChangeTracker, servicePortsOf, type ServicePort } from './model.js';
import { NftablesBackend } from './nftables.js';
import { UserspaceBackend } from './userspace.js';

export interface ProxyBackend {
  /** Applies the changed Services (`namespace/name` → all its ports; [] removes it). */
  update(changes: Map<string, ServicePort[]>): Promise<void>;
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
  /** nftables full resync period (ms; default 1 hour, as kube-proxy). */
  fullSyncMs?: number;
}

export interface ServiceProxy extends Component {
  readonly backend: ProxyBackend;
  /** Resolves once the backend reflects every change seen so far. */
  flush(): Promise<void>;
  /** Duration of the last sync (ms), how many Services and Service ports it changed. */
  readonly lastSync: { ms: number; services: number; ports: number; at: number };
}

export function createServiceProxy(client: RestClient, opts: ServiceProxyOptions): ServiceProxy {
  const log = opts.log ?? (() => undefined);
  const backend: ProxyBackend =
    opts.backend ?? (opts.mode === 'nftables' ? new NftablesBackend(opts.table ?? 'skiff-proxy', { clusterCIDR: opts.clusterCIDR, fullSyncMs: opts.fullSyncMs, onError: log }) : new UserspaceBackend({ nodeIP: opts.nodeIP, onError: log }));
  const services = new Informer(client, R.services);
  const slices = new Informer(client, R.endpointslices);
  const tracker = new ServiceChangeTracker();
  let dirty = false;
  let running: Promise<void> | undefined;
  let stopped = false;
  const lastSync = { ms: 0, services: 0, ports: 0, at: 0 };

  const loop = async () => {
    while (dirty && !stopped) {
      dirty = false;
      const t0 = performance.now();
      const changes = new Map<string, ServicePort[]>();
      for (const key of tracker.take()) {
        const slicesOf = tracker.slicesOf(key).map((k) => slices.get(k));
        changes.set(key, servicePortsOf(services.get(key), slicesOf));
      }
      try {
        await backend.update(changes);
      } catch (e) {
        log(`service proxy: sync failed: ${(e as Error).message}`);
        // Retry soon; the backend resyncs fully after a failure.
        setTimeout(kick, 1000).unref();
      }
      lastSync.ms = performance.now() - t0;
      lastSync.services = changes.size;
      lastSync.ports = [...changes.values()].reduce((n, p) => n + p.length, 0);
      lastSync.at = Date.now();
    }
  };
  const kick = () => {
    dirty = true;
    if (!running) running = loop().finally(() => (running = undefined));
  };
  services.addHandlers({
    add: (o) => (tracker.service(o), kick()),
    update: (_o, n) => (tracker.service(n), kick()),
    delete: (o) => (tracker.service(o), kick()),
  });
  slices.addHandlers({
    add: (o) => (tracker.slice(undefined, o), kick()),
    update: (o, n) => (tracker.slice(o, n), kick()),
    delete: (o) => (tracker.slice(o, undefined), kick()),
  });
  // Lets the backend notice that its periodic full resync is due.
  const resync = setInterval(kick, Math.min(opts.fullSyncMs ?? 3_600_000, 60_000));
  resync.unref();

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
      clearInterval(resync);
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
