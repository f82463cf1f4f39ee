/**
 * Runs inside the API server, on the watch cache's events, what kube-aggregator runs as three
 * controllers: autoregister (one local APIService per group/version this server serves: built-in
 * ones synced at start, labelled `onstart`; CRD ones kept in sync, labelled `true`), local
 * availability (a local APIService is Available, reason Local) and remote availability (a
 * service-backed one is checked on every change of it, its Service or Endpoints, and every
 * `resyncMs`). Its verdicts feed the aggregation table the handler routes by.
 */
import { SerialQueue } from '../serialqueue.js';
import type { Registry } from '../registry.js';
import { REGISTRY_PREFIX } from '../watchcache.js';
import { RESOURCES, allResources, findResource, resourcesGeneration } from '../resources.js';
import { StatusError } from '../status.js';
import {
  AUTOMANAGED_LABEL, availableCondition, localAPIService, localAvailableCondition, sameCondition, serviceRefOf, withCondition, type Condition,
} from './apiservice.js';
import { discoveryCheck, failedDiscovery, serviceCheck } from './availability.js';
import { resolveBackend, type ProxyClientCert } from './proxy.js';
import { AUTH_CONFIGMAP_NAME, AUTH_CONFIGMAP_NAMESPACE, extensionAuthenticationData, type ExtensionAuthentication } from './authconfig.js';
import { aggregatedAPI, removeAggregatedAPI, setAggregatedAPI } from './state.js';

const APISERVICES = 'apiregistration.k8s.io/apiservices';

export interface AggregatorOptions {
  /** How often service-backed APIServices are checked again without a change (upstream: 30 s). */
  resyncMs?: number;
  /** Timeout of the discovery check (upstream: 5 s). */
  discoveryTimeoutMs?: number;
  /** Group/versions served outside the registry (the metrics API), registered like built-ins. */
  extraLocal?: { group: string; version: string }[];
  /** The client certificate presented to aggregated servers (proxied requests and discovery checks). */
  proxyClient?: ProxyClientCert;
  /** Published as kube-system/extension-apiserver-authentication, so aggregated servers trust the proxy. */
  authentication?: ExtensionAuthentication;
}

export class AggregatorController {
  private unsubscribe: (() => void)[] = [];
  /** Each APIService name is reconciled from current state, one at a time. */
  private readonly queue = new SerialQueue(
    (name) => this.reconcile(name),
    (name, e) => this.report(name, e),
  );
  private resyncTimer?: NodeJS.Timeout;
  private generationTimer?: NodeJS.Timeout;
  private lastGeneration = -1;
  private stopped = false;
  /** APIServices this controller put in the aggregation table (taken out again on stop). */
  private routed = new Set<string>();

  constructor(
    private readonly reg: Registry,
    private readonly opts: AggregatorOptions = {},
  ) {}

  /** The certificate the proxy presents (the handler forwards with it). */
  get proxyClient(): ProxyClientCert | undefined {
    return this.opts.proxyClient;
  }

  async start(): Promise<void> {
    const cache = this.reg.cache;
    if (this.opts.authentication) await this.publishAuthentication(this.opts.authentication);
    this.unsubscribe.push(
      cache.subscribe(APISERVICES, {
        event: (ev) => this.enqueue(ev.object.obj?.metadata?.name),
        reset: () => this.enqueueAll(),
      }),
    );
    // A change of a Service or its Endpoints re-checks the APIServices pointing at it.
    for (const key of ['services', 'endpoints']) {
      this.unsubscribe.push(
        cache.subscribe(key, {
          event: (ev) => this.enqueueFor(ev.object.obj?.metadata?.namespace, ev.object.obj?.metadata?.name),
          reset: () => this.enqueueAll(),
        }),
      );
    }
    await this.syncLocal(true);
    this.lastGeneration = resourcesGeneration();
    this.enqueueAll();
    this.resyncTimer = setInterval(() => this.enqueueAll(true), this.opts.resyncMs ?? 30_000);
    this.resyncTimer.unref();
    // CRD group/versions come and go with the CRDs: follow the set of served resources.
    this.generationTimer = setInterval(() => {
      if (resourcesGeneration() === this.lastGeneration) return;
      this.lastGeneration = resourcesGeneration();
      void this.syncLocal(false).catch((e) => this.report('autoregister', e));
    }, 1000);
    this.generationTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    clearInterval(this.resyncTimer);
    clearInterval(this.generationTimer);
    this.queue.stop();
    // The table is process-wide: a stopped server's routes must not outlive it.
    for (const name of this.routed) removeAggregatedAPI(name);
    this.routed.clear();
  }

  /** Checks the APIService again soon (the proxy could not reach its server). */
  recheck(name: string): void {
    this.enqueue(name);
  }

  /** Resolves once queued work is done (tests). */
  async idle(): Promise<void> {
    await this.queue.idle();
  }

  private list(): any[] {
    return this.reg.cache.list(APISERVICES, `${REGISTRY_PREFIX}${APISERVICES}/`).map((c) => c.obj);
  }

  private enqueueAll(remoteOnly = false): void {
    for (const o of this.list()) if (!remoteOnly || serviceRefOf(o)) this.enqueue(o.metadata?.name);
  }

  private enqueueFor(namespace: string | undefined, name: string | undefined): void {
    if (!namespace || !name) return;
    for (const o of this.list()) {
      const ref = serviceRefOf(o);
      if (ref && ref.namespace === namespace && ref.name === name) this.enqueue(o.metadata.name);
    }
  }

  private enqueue(name: string | undefined): void {
    if (!this.stopped) this.queue.add(name);
  }

  private report(what: string, e: unknown): void {
    if (!this.stopped) console.error(`skiff apiserver: apiservice ${what}:`, e instanceof Error ? e.message : e);
  }

  private info() {
    return findResource('apiregistration.k8s.io', 'v1', 'apiservices')!;
  }

  private cached(resource: 'services' | 'endpoints', namespace: string, name: string): any | undefined {
    const info = findResource('', 'v1', resource)!;
    return this.reg.cache.get(this.reg.keyFor(info, namespace, name))?.obj;
  }

  async reconcile(name: string): Promise<void> {
    const info = this.info();
    const obj = this.reg.cache.get(this.reg.keyFor(info, undefined, name))?.obj;
    if (!obj) {
      removeAggregatedAPI(name);
      this.routed.delete(name);
      return;
    }
    const ref = serviceRefOf(obj);
    if (!ref) {
      removeAggregatedAPI(name);
      this.routed.delete(name);
      return this.writeCondition(name, availableCondition(obj), localAvailableCondition());
    }
    const spec = obj.spec ?? {};
    const prev = aggregatedAPI(String(spec.group ?? ''), String(spec.version ?? ''));
    let condition = serviceCheck(ref, this.cached('services', ref.namespace, ref.name), this.cached('endpoints', ref.namespace, ref.name));
    let resources: any[] | undefined = prev?.name === name ? prev.resources : undefined;
    if (!condition) {
      try {
        const backend = await resolveBackend(this.reg, ref);
        const r = await discoveryCheck(backend, String(spec.group ?? ''), String(spec.version ?? ''), this.opts.discoveryTimeoutMs, this.opts.proxyClient);
        condition = r.condition;
        if (r.resources) resources = r.resources;
      } catch (e) {
        condition = failedDiscovery(e instanceof Error ? e.message : String(e));
      }
    }
    if (this.stopped) return;
    this.routed.add(name);
    setAggregatedAPI({
      name,
      group: String(spec.group ?? ''),
      version: String(spec.version ?? ''),
      service: ref,
      caPem: typeof spec.caBundle === 'string' && spec.caBundle ? Buffer.from(spec.caBundle, 'base64').toString('utf8') : undefined,
      insecureSkipTLSVerify: spec.insecureSkipTLSVerify === true,
      groupPriorityMinimum: Number(spec.groupPriorityMinimum) || 0,
      versionPriority: Number(spec.versionPriority) || 0,
      available: condition.status === 'True',
      resources: resources ?? [],
    });
    await this.writeCondition(name, availableCondition(obj), condition);
  }

  /** Writes the Available condition only when it changed (the resync is frequent). */
  private async writeCondition(name: string, current: Condition | undefined, next: Condition): Promise<void> {
    if (sameCondition(current, next)) return;
    try {
      await this.reg.mutate(this.info(), undefined, name, (o) => {
        o.status = withCondition(o.status, next);
        return o;
      });
    } catch (e) {
      if (e instanceof StatusError && e.code === 404) return;
      throw e;
    }
  }

  /** Creates or corrects kube-system/extension-apiserver-authentication (kube-system exists: bootstrap made it). */
  private async publishAuthentication(a: ExtensionAuthentication): Promise<void> {
    const info = findResource('', 'v1', 'configmaps')!;
    const data = extensionAuthenticationData(a);
    const cur = this.reg.cache.get(this.reg.keyFor(info, AUTH_CONFIGMAP_NAMESPACE, AUTH_CONFIGMAP_NAME))?.obj;
    if (!cur) {
      await this.reg.create(info, AUTH_CONFIGMAP_NAMESPACE, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: AUTH_CONFIGMAP_NAME, namespace: AUTH_CONFIGMAP_NAMESPACE }, data }, {});
    } else if (JSON.stringify(cur.data ?? {}) !== JSON.stringify(data)) {
      await this.reg.mutate(info, AUTH_CONFIGMAP_NAMESPACE, AUTH_CONFIGMAP_NAME, (o) => ({ ...o, data }));
    }
  }

  /** The local APIServices this server should have: built-in group/versions, then CRD ones. */
  private desiredLocal(): Map<string, { group: string; version: string; managed: 'onstart' | 'true' }> {
    const out = new Map<string, { group: string; version: string; managed: 'onstart' | 'true' }>();
    const builtin = new Set(RESOURCES.map((r) => `${r.group}/${r.version}`));
    for (const r of RESOURCES) out.set(`${r.version}.${r.group}`, { group: r.group, version: r.version, managed: 'onstart' });
    for (const gv of this.opts.extraLocal ?? []) out.set(`${gv.version}.${gv.group}`, { ...gv, managed: 'onstart' });
    for (const r of allResources()) {
      if (!r.custom || builtin.has(`${r.group}/${r.version}`)) continue;
      out.set(`${r.version}.${r.group}`, { group: r.group, version: r.version, managed: 'true' });
    }
    return out;
  }

  /**
   * Creates or corrects the local APIServices and removes stale automanaged ones. Built-in ones are
   * handled at start only (upstream's `onstart`); CRD ones always. One that a user pointed at a
   * Service is theirs and left alone.
   */
  async syncLocal(onStart: boolean): Promise<void> {
    const info = this.info();
    const desired = this.desiredLocal();
    const existing = new Map(this.list().map((o) => [o.metadata.name as string, o]));
    for (const [name, d] of desired) {
      if (d.managed === 'onstart' && !onStart) continue;
      const want = localAPIService(d.group, d.version, d.managed);
      const cur = existing.get(name);
      try {
        if (!cur) {
          await this.reg.create(info, undefined, want, {});
        } else if (!serviceRefOf(cur) && (cur.spec?.groupPriorityMinimum !== want.spec.groupPriorityMinimum || cur.spec?.versionPriority !== want.spec.versionPriority || cur.metadata?.labels?.[AUTOMANAGED_LABEL] !== d.managed)) {
          await this.reg.mutate(info, undefined, name, (o) => ({ ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, [AUTOMANAGED_LABEL]: d.managed } }, spec: { ...o.spec, ...want.spec } }));
        }
      } catch (e) {
        if (!(e instanceof StatusError && e.code === 409)) throw e;
      }
    }
    for (const [name, o] of existing) {
      const managed = o.metadata?.labels?.[AUTOMANAGED_LABEL];
      if (desired.has(name) || serviceRefOf(o) || !(managed === 'true' || (managed === 'onstart' && onStart))) continue;
      try {
        await this.reg.delete(info, undefined, name, {});
      } catch (e) {
        if (!(e instanceof StatusError && e.code === 404)) throw e;
      }
    }
  }
}
