/**
 * The ingress controller: informers on IngressClass, Ingress, Service, EndpointSlice and Secret;
 * every change recomputes the data plane configuration (one work-queue key, so bursts coalesce),
 * swaps it in without a reload, writes status.loadBalancer and reports invalid Ingresses as
 * Events while their last good version keeps serving.
 */
import { hostname } from 'node:os';
import type { Ingress, IngressClass } from 'kubernetes-types/networking/v1.js';
import type { Secret, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { RestClient } from '../client/rest.js';
import { SharedInformerFactory, R } from '../client/factory.js';
import { WorkQueue, runWorkers } from '../client/workqueue.js';
import { EventRecorder, refOf } from '../client/events.js';
import type { Informer } from '../client/informer.js';
import type { Component } from '../cluster/component.js';
import { buildTable, backendName, ingressKey, DEFAULT_ANNOTATION_PREFIX, type BackendRef } from './table.js';
import { ownsIngress, DEFAULT_CONTROLLER } from './classes.js';
import { DataPlane, type DataPlaneConfig, type DataPlaneOptions, type Endpoint } from './dataplane.js';

export interface IngressControllerOptions extends Partial<DataPlaneOptions> {
  httpPort: number;
  httpsPort?: number;
  /** spec.controller of the IngressClasses served (default k8s.io/ingress-nginx). */
  controllerClass?: string;
  annotationPrefix?: string;
  /** Address written to status.loadBalancer.ingress (default 127.0.0.1). */
  statusAddress?: string;
  /** Where the configuration goes; default an in-process DataPlane. */
  sink?: { apply(cfg: DataPlaneConfig): unknown; start(): Promise<void>; stop(): Promise<void> };
  log?: (msg: string) => void;
}

export interface IngressController extends Component {
  readonly dataPlane?: DataPlane;
  /** Resolves after the next configuration has been applied (for tests and benchmarks). */
  synced(): Promise<void>;
  /** Count of configurations applied. */
  readonly generation: number;
}

const SYNC = '__sync__';
const ING = { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses' } as const;
const CLASSES = { group: 'networking.k8s.io', version: 'v1', resource: 'ingressclasses' } as const;

export function createIngressController(client: RestClient, opts: IngressControllerOptions): IngressController {
  const controllerClass = opts.controllerClass ?? DEFAULT_CONTROLLER;
  const prefix = opts.annotationPrefix ?? DEFAULT_ANNOTATION_PREFIX;
  const factory = new SharedInformerFactory(client);
  const ingresses = factory.for<Ingress>(ING);
  const classes = factory.for<IngressClass>(CLASSES);
  const services = factory.for<Service>(R.services);
  const slices = factory.for<EndpointSlice>(R.endpointslices);
  const secrets = factory.for<Secret>(R.secrets);
  const queue = new WorkQueue<string>({ baseMs: 5, maxMs: 5000 });
  const recorder = new EventRecorder(client, { component: 'skiff-ingress-controller', host: hostname() });
  const dataPlane = opts.sink ? undefined : new DataPlane({ ...opts, host: opts.host ?? '0.0.0.0' });
  const sink = opts.sink ?? dataPlane!;
  const lastGood = new Map<string, Ingress>();
  const reported = new Map<string, string>();
  const statusWritten = new Map<string, string>();
  let generation = 0;
  let waiters: (() => void)[] = [];
  let workers: Promise<void> | undefined;

  const enqueue = () => queue.add(SYNC);
  for (const inf of [ingresses, classes, services, slices, secrets] as Informer[]) inf.addHandlers({ add: enqueue, update: enqueue, delete: enqueue });
  ingresses.addHandlers({ add: (o) => queue.add('status:' + keyOf(o)), update: (_o, n) => queue.add('status:' + keyOf(n)) });
  // As ingress-nginx's store: every add or change of an Ingress of this class is announced as a
  // Normal "Sync" Event, which is what `kubectl describe ingress` shows (x2 after the status write).
  // Queued, so the class is judged once the IngressClass informer has synced (controller start).
  ingresses.addHandlers({ add: (o) => queue.add('event:' + keyOf(o)), update: (o, n) => void (o.metadata?.resourceVersion !== n.metadata?.resourceVersion && queue.add('event:' + keyOf(n))) });
  function scheduled(key: string): void {
    const ing = ingresses.get(key);
    if (!ing || !ownsIngress(ing, classes.list(), controllerClass)) return;
    recorder.record(refOf(ing, 'Ingress', 'networking.k8s.io/v1'), 'Normal', 'Sync', 'Scheduled for sync').catch(() => undefined);
  }

  function warn(ing: Ingress, reason: string, message: string) {
    // Once per distinct message (an Ingress may have several invalid annotations), again if the Ingress changes.
    const k = `${ingressKey(ing)}|${reason}|${message}`;
    const rv = ing.metadata?.resourceVersion ?? '';
    if (reported.get(k) === rv) return;
    reported.set(k, rv);
    recorder.record(refOf(ing, 'Ingress', 'networking.k8s.io/v1'), 'Warning', reason, message).catch((e) => opts.log?.(`event for ${ingressKey(ing)}: ${(e as Error).message}`));
    opts.log?.(`ingress ${ingressKey(ing)}: ${reason}: ${message}`);
  }

  /** Service port (number or name) → endpoints of the matching EndpointSlice port. */
  function endpointsFor(b: BackendRef, ing: Ingress): Endpoint[] | undefined {
    const svc = services.get(`${b.namespace}/${b.service}`);
    if (!svc) {
      warn(ing, 'ServiceNotFound', `Service ${b.namespace}/${b.service} not found`);
      return undefined;
    }
    const sp = (svc.spec?.ports ?? []).find((p) => (typeof b.port === 'number' ? p.port === b.port : p.name === b.port));
    if (svc.spec?.type === 'ExternalName') return externalNameEndpoint(svc, sp, b, ing);
    if (!sp) {
      warn(ing, 'ServicePortNotFound', `Service ${b.namespace}/${b.service} has no port ${b.port}`);
      return [];
    }
    const out: Endpoint[] = [];
    for (const s of slices.list()) {
      if (s.metadata?.namespace !== b.namespace || s.metadata?.labels?.['kubernetes.io/service-name'] !== b.service) continue;
      const port = (s.ports ?? []).find((p) => (p.name ?? '') === (sp.name ?? ''));
      const num = port?.port ?? (typeof sp.targetPort === 'number' ? sp.targetPort : undefined);
      if (!num) continue;
      for (const e of s.endpoints ?? []) {
        if (e.conditions?.ready === false) continue;
        for (const a of e.addresses ?? []) out.push({ address: a, port: num });
      }
    }
    return out;
  }

  /**
   * An ExternalName Service's one endpoint is its externalName on the Service port's targetPort (a
   * port-less Service: the Ingress's port number), as ingress-nginx's getEndpointsFromSlices; the
   * name is resolved when connecting, with the node's resolver. Loopback names are refused, as there.
   */
  function externalNameEndpoint(svc: Service, sp: ServicePort | undefined, b: BackendRef, ing: Ingress): Endpoint[] {
    const name = (svc.spec?.externalName ?? '').replace(/\.$/, '');
    const target = sp ? (typeof sp.targetPort === 'number' ? sp.targetPort : /^\d+$/.test(String(sp.targetPort ?? '')) ? Number(sp.targetPort) : sp.port) : typeof b.port === 'number' && !(svc.spec?.ports ?? []).length ? b.port : undefined;
    if (!target) {
      warn(ing, 'ServicePortNotFound', `Service ${b.namespace}/${b.service} has no port ${b.port}`);
      return [];
    }
    if (!name || name === 'localhost' || /^127\./.test(name) || name === '::1') {
      warn(ing, 'InvalidExternalName', `Service ${b.namespace}/${b.service}: externalName ${name || '""'} cannot be proxied to`);
      return [];
    }
    return [{ address: name, port: target }];
  }

  function sync(): void {
    const classList = classes.list();
    const owned = ingresses.list().filter((i) => ownsIngress(i, classList, controllerClass));
    // Fall back to the last good version of an Ingress that fails; annotation problems (snippets refused, invalid values) are only reported.
    let candidates = owned;
    let table = buildTable(candidates, { annotationPrefix: prefix });
    for (const p of table.problems) {
      if (p.reason === 'InvalidRegex') continue;
      const i = owned.find((x) => ingressKey(x) === p.ingress);
      if (i) warn(i, p.reason, p.message);
    }
    const bad = new Set(table.problems.filter((p) => p.reason === 'InvalidRegex').map((p) => p.ingress));
    if (bad.size) {
      for (const p of table.problems) {
        const i = owned.find((x) => ingressKey(x) === p.ingress);
        if (i) warn(i, p.reason, `${p.message}; keeping the last valid configuration`);
      }
      candidates = candidates.flatMap((i) => (bad.has(ingressKey(i)) ? (lastGood.has(ingressKey(i)) ? [lastGood.get(ingressKey(i))!] : []) : [i]));
      table = buildTable(candidates, { annotationPrefix: prefix });
    }
    for (const i of candidates) lastGood.set(ingressKey(i), i);
    for (const k of [...lastGood.keys()]) if (!owned.some((i) => ingressKey(i) === k)) lastGood.delete(k);
    const endpoints: Record<string, Endpoint[]> = {};
    const byKey = new Map(candidates.map((i) => [ingressKey(i), i]));
    for (const s of table.servers.values()) {
      for (const l of s.locations) {
        if (!l.backend || endpoints[backendName(l.backend)]) continue;
        const eps = endpointsFor(l.backend, byKey.get(l.ingress ?? '') ?? candidates[0]);
        if (eps) endpoints[backendName(l.backend)] = eps;
      }
    }
    for (const alt of table.alternatives.values()) {
      if (endpoints[backendName(alt.backend)]) continue;
      const eps = endpointsFor(alt.backend, byKey.get(alt.ingress) ?? candidates[0]);
      if (eps) endpoints[backendName(alt.backend)] = eps;
    }
    const certs: DataPlaneConfig['certs'] = {};
    for (const s of table.servers.values()) {
      if (!s.tlsSecret || certs[s.tlsSecret]) continue;
      const sec = secrets.get(s.tlsSecret);
      const crt = sec?.data?.['tls.crt'];
      const key = sec?.data?.['tls.key'];
      if (!crt || !key) {
        const owner = candidates.find((i) => (i.spec?.tls ?? []).some((t) => `${i.metadata?.namespace}/${t.secretName}` === s.tlsSecret));
        if (owner) warn(owner, 'SecretNotFound', `TLS Secret ${s.tlsSecret} not found or without tls.crt/tls.key; serving the default certificate`);
        continue;
      }
      certs[s.tlsSecret] = { cert: Buffer.from(crt, 'base64').toString(), key: Buffer.from(key, 'base64').toString() };
    }
    sink.apply({ ingresses: candidates, endpoints, certs, annotationPrefix: prefix });
    generation++;
    const w = waiters;
    waiters = [];
    for (const f of w) f();
    for (const i of owned) queue.add('status:' + ingressKey(i));
  }

  async function writeStatus(key: string): Promise<void> {
    const ing = ingresses.get(key);
    if (!ing || !ownsIngress(ing, classes.list(), controllerClass)) return;
    const want = [{ ip: opts.statusAddress ?? '127.0.0.1' }];
    const have = ing.status?.loadBalancer?.ingress ?? [];
    if (JSON.stringify(have) === JSON.stringify(want) || statusWritten.get(key) === ing.metadata?.resourceVersion) return;
    const [ns, name] = key.split('/');
    await client.patch(`/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/${name}/status`, { status: { loadBalancer: { ingress: want } } }, 'merge');
    statusWritten.set(key, ing.metadata?.resourceVersion ?? '');
  }

  return {
    name: 'ingress-controller',
    get dataPlane() {
      return dataPlane;
    },
    get generation() {
      return generation;
    },
    synced: () => new Promise<void>((r) => waiters.push(r)),
    async start() {
      await sink.start();
      await factory.start();
      sync();
      workers = runWorkers(queue, 2, async (key) => {
        if (key === SYNC) sync();
        else if (key.startsWith('status:')) await writeStatus(key.slice(7));
        else if (key.startsWith('event:')) scheduled(key.slice(6));
      }, (key, err) => opts.log?.(`ingress controller: ${key}: ${(err as Error).message}`));
    },
    async stop() {
      queue.shutDown();
      factory.stop();
      await workers;
      await sink.stop();
    },
  };
}

function keyOf(o: { metadata?: { namespace?: string; name?: string } }): string {
  return `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name}`;
}
