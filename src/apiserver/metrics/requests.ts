/**
 * The API server's request metrics, with upstream's names and labels
 * (k8s.io/apiserver/pkg/endpoints/metrics): apiserver_request_total, the
 * apiserver_request_duration_seconds histogram, in-flight and long-running gauges, registered
 * watchers, written by prom-client. Hot path: a request costs a clock read and a 'close' listener
 * when it starts, and a path parse plus a few Map/array lookups when it ends; label sets are built
 * once per series, and the plain numbers kept here are handed to prom-client's metrics on scrape
 * (collect()), since its labelled inc/observe hash the labels on every call (histogram.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { allResources, resourcesGeneration, type ResourceInfo } from '../resources.js';
import { Counter, Gauge, Registry } from 'prom-client';
import { HistogramFamily, type HistogramSeries } from './histogram.js';

/** Upstream's buckets for apiserver_request_duration_seconds. */
export const REQUEST_DURATION_BUCKETS = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

const VERBS = ['GET', 'LIST', 'WATCH', 'POST', 'PUT', 'PATCH', 'APPLY', 'DELETE', 'DELETECOLLECTION', 'CONNECT', 'HEAD', 'OPTIONS', 'other'] as const;
const SCOPES = ['', 'cluster', 'namespace', 'resource'] as const;
const V = Object.fromEntries(VERBS.map((v, i) => [v, i])) as Record<(typeof VERBS)[number], number>;
const CONNECT_SUBRESOURCES = new Set(['proxy', 'exec', 'attach', 'portforward']);

/** What a series is about, besides verb, scope, dry run and code. */
interface Target {
  group: string;
  version: string;
  resource: string;
}
const NON_RESOURCE: Target = { group: '', version: '', resource: '' };
/** Served by this server outside the resource registry (the metrics API): counted by resource too. */
const EXTRA_TARGETS = new Map<string, Target>();
export function extraTarget(group: string, version: string, resource: string): Target {
  const k = `${group}/${version}/${resource}`;
  let t = EXTRA_TARGETS.get(k);
  if (!t) EXTRA_TARGETS.set(k, (t = { group, version, resource }));
  return t;
}

class Series {
  /** Counts by HTTP status code. */
  readonly codes = new Map<number, number>();
  /** Open long-running requests (watch, proxy, exec, …). */
  longRunning = 0;
  constructor(
    /** In upstream's (alphabetical) order, without code. */
    readonly labels: Readonly<Record<string, string>>,
    readonly latency: HistogramSeries,
  ) {}
}

const REQUEST_LABELS = ['component', 'dry_run', 'group', 'resource', 'scope', 'subresource', 'verb', 'version'] as const;

export interface Classified {
  target: Target;
  verb: number;
  scope: number;
  subresource: string;
  dryRun: boolean;
}

/** The metrics' view of a request, as upstream's RequestInfo → (verb, group, version, resource, subresource, scope). */
export function classify(method: string, url: string, contentType: string | undefined): Classified {
  const q = url.indexOf('?');
  let path = q < 0 ? url : url.slice(0, q);
  if (path.length > 1 && path.charCodeAt(path.length - 1) === 47) path = path.replace(/\/+$/, '');
  const query = q < 0 ? '' : url.slice(q + 1);
  const dryRun = query.includes('dryRun=') && /(?:^|&)dryRun=All(?:&|$)/.test(query);
  const p = parsePath(path);
  let target: Target;
  let name: string | undefined;
  let namespace: string | undefined;
  let subresource = '';
  let legacyWatch = false;
  if (p) {
    const info = lookup(p.group, p.version, p.resource);
    if (info) target = info;
    else {
      const extra = EXTRA_TARGETS.get(`${p.group}/${p.version}/${p.resource}`);
      if (!extra) return { target: NON_RESOURCE, verb: V[method as keyof typeof V] ?? V.other, scope: 0, subresource: '', dryRun };
      target = extra;
    }
    name = p.name;
    namespace = !info || info.namespaced ? p.namespace : undefined;
    subresource = p.subresource ?? '';
    legacyWatch = p.legacyWatch;
  } else return { target: NON_RESOURCE, verb: V[method as keyof typeof V] ?? V.other, scope: 0, subresource: '', dryRun };
  let verb: number;
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (CONNECT_SUBRESOURCES.has(subresource)) verb = V.CONNECT;
      else if (legacyWatch || /(?:^|&)watch=(?:true|1)(?:&|$)/.test(query)) verb = V.WATCH;
      else verb = name ? V.GET : V.LIST;
      break;
    case 'POST':
      verb = CONNECT_SUBRESOURCES.has(subresource) ? V.CONNECT : V.POST;
      break;
    case 'PATCH':
      verb = contentType?.startsWith('application/apply-patch') ? V.APPLY : V.PATCH;
      break;
    case 'DELETE':
      verb = name ? V.DELETE : V.DELETECOLLECTION;
      break;
    case 'PUT':
      verb = CONNECT_SUBRESOURCES.has(subresource) ? V.CONNECT : V.PUT;
      break;
    default:
      verb = V[method as keyof typeof V] ?? V.other;
  }
  // Upstream's CleanScope: a named object or a create is "resource".
  const scope = name || verb === V.POST ? 3 : namespace ? 2 : 1;
  return { target, verb, scope, subresource, dryRun };
}

/**
 * The resource a path addresses, as upstream's RequestInfoFactory splits it (request.ts does the
 * same for the handler): one split, no decoding of names, which only count by their presence.
 */
const dec = (x: string | undefined) => (x !== undefined && x.includes('%') ? decodeURIComponent(x) : x);

function parsePath(path: string): { group: string; version: string; resource: string; namespace?: string; name?: string; subresource?: string; legacyWatch: boolean } | undefined {
  const parts = path.split('/');
  // parts[0] is '' (the leading slash).
  let i: number;
  let group: string;
  if (parts[1] === 'api' && parts.length >= 4) {
    group = '';
    i = 2;
  } else if (parts[1] === 'apis' && parts.length >= 5) {
    group = parts[2];
    i = 3;
  } else return undefined;
  const version = parts[i++];
  let legacyWatch = false;
  if (parts[i] === 'watch') {
    legacyWatch = true;
    i++;
  }
  const n = parts.length - i;
  if (n <= 0) return undefined;
  if (parts[i] === 'namespaces' && n >= 3 && !(n === 3 && (parts[i + 2] === 'status' || parts[i + 2] === 'finalize'))) {
    const subresource = dec(parts[i + 4]);
    if (n > 5 && subresource !== 'proxy') return undefined;
    return { group, version, resource: dec(parts[i + 2])!, namespace: parts[i + 1], name: parts[i + 3] || undefined, subresource, legacyWatch };
  }
  const subresource = dec(parts[i + 2]);
  if (n > 3 && subresource !== 'proxy') return undefined;
  return { group, version, resource: dec(parts[i])!, name: parts[i + 1] || undefined, subresource, legacyWatch };
}

/** group → version → resource → info, rebuilt when the custom resources change. */
let index = new Map<string, Map<string, Map<string, ResourceInfo>>>();
let indexGeneration = -1;
function lookup(group: string, version: string, resource: string): ResourceInfo | undefined {
  if (indexGeneration !== resourcesGeneration()) {
    index = new Map();
    for (const r of allResources()) {
      let g = index.get(r.group);
      if (!g) index.set(r.group, (g = new Map()));
      let v = g.get(r.version);
      if (!v) g.set(r.version, (v = new Map()));
      v.set(r.resource, r);
    }
    indexGeneration = resourcesGeneration();
  }
  return index.get(group)?.get(version)?.get(resource);
}

/** Whether a request is long-running (upstream: watches, proxy, exec, attach, port-forward, followed logs), from its URL alone. */
export function isLongRunning(url: string): boolean {
  return LONG_RUNNING.test(url);
}
const LONG_RUNNING = /watch|\/(?:proxy|exec|attach|portforward)(?:[/?]|$)|\/log\?(?:.*&)?follow=(?:true|1)/;

/**
 * In-flight requests of one kind and their high-water mark per one-second window, as upstream's
 * max-in-flight filter reports them (apiserver_current_inflight_requests is the highest count seen in
 * the last completed second, not the count at scrape time). Clock injected; no timer needed.
 */
export class InflightWatermark {
  private current = 0;
  private windowMax = 0;
  private reported = 0;
  private windowStart: number;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.windowStart = now();
  }

  inc(): void {
    this.roll();
    if (++this.current > this.windowMax) this.windowMax = this.current;
  }

  dec(): void {
    this.current--;
  }

  /** The highest count of the last completed second. */
  get lastSecondMax(): number {
    this.roll();
    return this.reported;
  }

  private roll(): void {
    const t = this.now();
    const elapsed = t - this.windowStart;
    if (elapsed < 1000) return;
    // With no request started since, a later window's highest count is what was in flight when it began.
    this.reported = elapsed < 2000 ? this.windowMax : this.current;
    this.windowStart = t - (elapsed % 1000);
    this.windowMax = this.current;
  }
}

export class RequestMetrics {
  private readonly byTarget = new Map<Target, Map<string, (Series | undefined)[]>>();
  private readonly all: Series[] = [];
  readonly readOnlyInflight: InflightWatermark;
  readonly mutatingInflight: InflightWatermark;
  private readonly watchers = new Map<Target, number>();
  private readonly latency: HistogramFamily;
  /** The families are registered in `registry` (the API server's own: not prom-client's global one). */
  constructor(
    readonly registry: Registry = new Registry(),
    now?: () => number,
  ) {
    this.readOnlyInflight = new InflightWatermark(now);
    this.mutatingInflight = new InflightWatermark(now);
    const self = this;
    new Counter({
      name: 'apiserver_request_total',
      help: '[STABLE] Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
      labelNames: ['code', ...REQUEST_LABELS],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of self.all) for (const [code, n] of s.codes) this.inc({ code: String(code), ...s.labels }, n);
      },
    });
    this.latency = new HistogramFamily(
      'apiserver_request_duration_seconds',
      '[STABLE] Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
      REQUEST_DURATION_BUCKETS,
      registry,
    );
    new Gauge({
      name: 'apiserver_current_inflight_requests',
      help: '[STABLE] Maximal number of currently used inflight request limit of this apiserver per request kind in last second.',
      labelNames: ['request_kind'],
      registers: [registry],
      collect() {
        this.set({ request_kind: 'mutating' }, self.mutatingInflight.lastSecondMax);
        this.set({ request_kind: 'readOnly' }, self.readOnlyInflight.lastSecondMax);
      },
    });
    new Gauge({
      name: 'apiserver_longrunning_requests',
      help: '[STABLE] Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component. Not all requests are tracked this way.',
      labelNames: REQUEST_LABELS,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of self.all) if (s.longRunning > 0) this.set(s.labels, s.longRunning);
      },
    });
    new Gauge({
      name: 'apiserver_registered_watchers',
      help: '[ALPHA] Number of currently registered watchers for a given resources',
      labelNames: ['group', 'kind', 'version'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [t, n] of self.watchers) if (n > 0) this.set({ group: t.group, kind: (t as { kind?: string }).kind ?? '', version: t.version }, n);
      },
    });
  }

  /** The series of a classified request, created on first use. */
  series(c: Classified): Series {
    let subs = this.byTarget.get(c.target);
    if (!subs) this.byTarget.set(c.target, (subs = new Map()));
    let slots = subs.get(c.subresource);
    if (!slots) subs.set(c.subresource, (slots = []));
    const i = (c.verb * SCOPES.length + c.scope) * 2 + (c.dryRun ? 1 : 0);
    let s = slots[i];
    if (!s) {
      const t = c.target;
      const labels = { component: 'apiserver', dry_run: c.dryRun ? 'All' : '', group: t.group, resource: t.resource, scope: SCOPES[c.scope], subresource: c.subresource, verb: VERBS[c.verb], version: t.version };
      s = slots[i] = new Series(labels, this.latency.child(JSON.stringify(labels), labels));
      this.all.push(s);
    }
    return s;
  }

  /** Counts a finished request. */
  observe(s: Series, code: number, seconds: number): void {
    s.codes.set(code, (s.codes.get(code) ?? 0) + 1);
    s.latency.observe(seconds);
  }

  watchStarted(c: Classified): void {
    this.watchers.set(c.target, (this.watchers.get(c.target) ?? 0) + 1);
  }

  watchEnded(c: Classified): void {
    this.watchers.set(c.target, (this.watchers.get(c.target) ?? 1) - 1);
  }

  /** Wraps the server's request listener: counts every request when its response closes. */
  instrument(listener: (req: IncomingMessage, res: ServerResponse) => unknown): (req: IncomingMessage, res: ServerResponse) => unknown {
    return (req, res) => {
      const t0 = performance.now();
      const url = req.url ?? '/';
      const method = req.method ?? 'GET';
      if (isLongRunning(url)) {
        // Long-running requests are classified up front: their gauges are per series.
        const c = classify(method, url, method === 'PATCH' ? req.headers['content-type'] : undefined);
        const s = this.series(c);
        const watch = c.verb === V.WATCH;
        s.longRunning++;
        if (watch) this.watchStarted(c);
        res.on('close', () => {
          s.longRunning--;
          if (watch) this.watchEnded(c);
          this.observe(s, res.statusCode, (performance.now() - t0) / 1000);
        });
      } else {
        const mutating = method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
        if (mutating) this.mutatingInflight.inc();
        else this.readOnlyInflight.inc();
        // 'on', not 'once': the response emits 'close' once, and once() costs a wrapper per request.
        res.on('close', () => {
          if (mutating) this.mutatingInflight.dec();
          else this.readOnlyInflight.dec();
          this.observe(this.series(classify(method, url, method === 'PATCH' ? req.headers['content-type'] : undefined)), res.statusCode, (performance.now() - t0) / 1000);
        });
      }
      return listener(req, res);
    };
  }

  /**
   * Wraps the server's 'upgrade' listener (exec, attach, port-forward over WebSocket/SPDY):
   * CONNECT requests, long-running until their socket closes, counted with code 101 (what the
   * upgrade handler writes on the raw socket is not seen here, refusals included).
   */
  instrumentUpgrade<S extends { once(event: 'close', fn: () => void): unknown }, H>(listener: (req: IncomingMessage, socket: S, head: H) => unknown): (req: IncomingMessage, socket: S, head: H) => unknown {
    return (req, socket, head) => {
      const t0 = performance.now();
      const s = this.series(classify(req.method ?? 'GET', req.url ?? '/', undefined));
      s.longRunning++;
      socket.once('close', () => {
        s.longRunning--;
        this.observe(s, 101, (performance.now() - t0) / 1000);
      });
      return listener(req, socket, head);
    };
  }
}
