import { findResource } from '../resources.js';
import { REGISTRY_PREFIX } from '../watchcache.js';
import { StatusError } from '../status.js';
import { parseQuantityExact, milliValue, formatQuantity, type QuantityFormat } from '../validation/quantity.js';
import type { Registry } from '../registry.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';
import { forbidden } from './util.js';

/**
 * An amount in milli-units with the format it prints in: a sum keeps the format of its first non-zero
 * term, as resource.Quantity.Add, so usage reads "256Mi" or "500m" as upstream's quota does.
 */
interface Amount {
  milli: bigint;
  format: QuantityFormat;
}
type Usage = Map<string, Amount>; // resource name → amount

const ZERO: Amount = { milli: 0n, format: 'DecimalSI' };
const COUNT = (n: number): Amount => ({ milli: BigInt(n) * 1000n, format: 'DecimalSI' });

const amount = (s: unknown): Amount => {
  const q = parseQuantityExact(s);
  return typeof q === 'string' ? ZERO : { milli: milliValue(q), format: q.format };
};
const milli = (s: unknown): bigint => amount(s).milli;
const plus = (a: Amount | undefined, b: Amount): Amount => ({ milli: (a?.milli ?? 0n) + b.milli, format: a && a.milli !== 0n ? a.format : b.format });
const minus = (a: Amount, b: Amount | undefined): Amount => ({ milli: a.milli - (b?.milli ?? 0n), format: a.format });
const text = (a: Amount): string => formatQuantity({ value: a.milli, scale: -3, format: a.format });

/** Object-count resources quota knows by their short names, as upstream. */
const COUNT_NAMES: Record<string, string> = {
  pods: 'pods',
  services: 'services',
  configmaps: 'configmaps',
  secrets: 'secrets',
  persistentvolumeclaims: 'persistentvolumeclaims',
  replicationcontrollers: 'replicationcontrollers',
  resourcequotas: 'resourcequotas',
};

function countName(key: string): string {
  // count/<resource>.<group> for every resource; "count/pods" for the core group.
  const i = key.indexOf('/');
  return i < 0 ? `count/${key}` : `count/${key.slice(i + 1)}.${key.slice(0, i)}`;
}

function podTerminal(p: any): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

/** Compute resources of a pod: sum of containers, at least the largest init container, plus overhead. */
function podResources(p: any, which: 'requests' | 'limits'): Map<string, Amount> {
  const out = new Map<string, Amount>();
  for (const c of p.spec?.containers ?? []) for (const [k, v] of Object.entries(c.resources?.[which] ?? {})) out.set(k, plus(out.get(k), amount(v)));
  for (const c of p.spec?.initContainers ?? []) for (const [k, v] of Object.entries(c.resources?.[which] ?? {})) if (milli(v) > (out.get(k)?.milli ?? 0n)) out.set(k, amount(v));
  for (const [k, v] of Object.entries(p.spec?.overhead ?? {})) out.set(k, plus(out.get(k), amount(v)));
  return out;
}

/** What one object adds to usage (upstream's evaluators, for the resources Skiff serves). */
export function usageOf(key: string, obj: any): Usage {
  const u: Usage = new Map();
  u.set(countName(key), COUNT(1));
  if (COUNT_NAMES[key]) u.set(COUNT_NAMES[key], COUNT(1));
  if (key === 'pods') {
    if (podTerminal(obj)) return new Map();
    for (const [k, v] of podResources(obj, 'requests')) {
      u.set(`requests.${k}`, v);
      if (k === 'cpu' || k === 'memory' || k === 'ephemeral-storage') u.set(k, v);
    }
    for (const [k, v] of podResources(obj, 'limits')) u.set(`limits.${k}`, v);
  }
  if (key === 'services') {
    if (obj.spec?.type === 'NodePort' || obj.spec?.type === 'LoadBalancer') u.set('services.nodeports', COUNT((obj.spec.ports ?? []).length));
    if (obj.spec?.type === 'LoadBalancer') u.set('services.loadbalancers', COUNT(1));
  }
  return u;
}

/** Quota scopes Skiff evaluates (others never match, so such quotas do not constrain). */
function matchesScopes(quota: any, key: string, obj: any): boolean {
  for (const scope of quota.spec?.scopes ?? []) {
    if (key !== 'pods') return false;
    const bestEffort = (obj.spec?.containers ?? []).every((c: any) => !Object.keys(c.resources?.requests ?? {}).length && !Object.keys(c.resources?.limits ?? {}).length);
    const terminating = obj.spec?.activeDeadlineSeconds !== undefined && obj.spec?.activeDeadlineSeconds !== null;
    if (scope === 'BestEffort' && !bestEffort) return false;
    if (scope === 'NotBestEffort' && bestEffort) return false;
    if (scope === 'Terminating' && !terminating) return false;
    if (scope === 'NotTerminating' && terminating) return false;
    if (!['BestEffort', 'NotBestEffort', 'Terminating', 'NotTerminating'].includes(scope)) return false;
  }
  return true;
}

const fmt = (name: string, a: Amount): string => `${name}=${text(a)}`;

/**
 * Creates quota admitted whose objects the watch cache may not hold yet (the write follows admission,
 * and the store commits writes in groups): a recount adds them, or it would give their room away twice.
 */
export class Reservations {
  private readonly byKey = new Map<string, { namespace: string; resource: string; obj: any; until: number }>();
  add(storageKey: string, namespace: string, resource: string, obj: any): void {
    this.byKey.set(storageKey, { namespace, resource, obj, until: Date.now() + RESERVATION_MS });
  }
  /** Admitted objects of a namespace's resource not yet in the cache (dropping those that arrived or whose write never came). */
  pending(reg: Registry, namespace: string, resource: string): any[] {
    const out: any[] = [];
    const now = Date.now();
    for (const [k, r] of this.byKey) {
      if (reg.cache.get(k) || r.until < now) this.byKey.delete(k);
      else if (r.namespace === namespace && r.resource === resource) out.push(r.obj);
    }
    return out;
  }
}
/** How long an admitted create counts before it must have reached the cache (a failed write frees its room then). */
const RESERVATION_MS = 10_000;

/** The resources (storage keys: "pods", "apps/deployments") whose objects a quota's hard resources count. */
export function quotaKeys(quota: any): Set<string> {
  const keys = new Set<string>();
  for (const h of Object.keys(quota.spec?.hard ?? {})) {
    if (h.startsWith('count/')) {
      const [res, group] = h.slice('count/'.length).split(/\.(.*)/s);
      keys.add(group ? `${group}/${res}` : res);
    } else if (COUNT_NAMES[h]) keys.add(COUNT_NAMES[h]);
    else if (h.startsWith('services.')) keys.add('services');
    else keys.add('pods');
  }
  return keys;
}

/** Usage of a quota's hard resources over the namespace's objects of each resource (`objectsOf(key)`). */
function usageOver(quota: any, objectsOf: (key: string) => any[]): Usage {
  const used: Usage = new Map(Object.keys(quota.spec?.hard ?? {}).map((h) => [h, ZERO]));
  for (const key of quotaKeys(quota)) {
    for (const obj of objectsOf(key)) {
      if (!matchesScopes(quota, key, obj)) continue;
      for (const [k, v] of usageOf(key, obj)) if (used.has(k)) used.set(k, plus(used.get(k), v));
    }
  }
  return used;
}

/** status.used of a quota over the namespace's objects (the quota controller's recount). */
export function quotaUsed(quota: any, objectsOf: (key: string) => any[]): Record<string, string> {
  return toStatus(usageOver(quota, objectsOf));
}

/** Whether two ResourceLists hold the same resources with equal amounts (quota.Equals: "256Mi" equals "268435456"). */
export function sameAmounts(a: Record<string, string> = {}, b: Record<string, string> = {}): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => k in b && milli(a[k]) === milli(b[k]));
}

/** Current usage of a namespace for the quota's hard resources, from the watch cache (and admitted creates on their way). */
export function computeUsage(reg: Registry, namespace: string, quota: any, reserved?: Reservations): Usage {
  return usageOver(quota, (key) => {
    const objs = reg.cache.list(key, `${REGISTRY_PREFIX}${key}/${namespace}/`).map((c) => c.obj);
    if (reserved) objs.push(...reserved.pending(reg, namespace, key));
    return objs;
  });
}

/** Serialises quota checks per namespace so concurrent creates cannot both take the last unit. */
class NamespaceLocks {
  private tails = new Map<string, Promise<void>>();
  async run<T>(ns: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(ns) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(ns, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(ns) === tail) this.tails.delete(ns);
    }
  }
}

function toStatus(u: Usage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of u) out[k] = fmt(k, v).slice(k.length + 1);
  return out;
}

/**
 * ResourceQuota: every quota of the namespace that constrains what the object adds must have room;
 * the new usage is written to the quota's status before the object is stored (optimistic concurrency
 * on the quota, and a per-namespace lock in this server), as upstream. A quota whose recorded usage
 * would refuse the request is recounted first, so deletions free room without a quota controller.
 */
export function resourceQuotaPlugin(): AdmissionPlugin {
  const locks = new NamespaceLocks();
  const reserved = new Reservations();
  const quotaInfo = findResource('', 'v1', 'resourcequotas')!;
  return {
    name: 'ResourceQuota',
    handles: (req) => !!req.namespace && !req.subresource && (req.operation === 'CREATE' || (req.operation === 'UPDATE' && req.info.key === 'pods')),
    admit(req) {
      // A new quota starts with its usage filled in, as the quota controller would do.
      if (req.info.key === 'resourcequotas' && req.operation === 'CREATE') {
        const q = req.object;
        q.status = { hard: { ...(q.spec?.hard ?? {}) }, used: toStatus(computeUsage(req.registry, req.namespace!, q)) };
      }
    },
    async validate(req: AdmissionRequest) {
      const reg = req.registry;
      if (!reg.cache.count('resourcequotas')) return;
      const list = () => reg.cache.list('resourcequotas', `${REGISTRY_PREFIX}resourcequotas/${req.namespace}/`);
      if (!list().length) return;
      const key = req.info.key;
      const delta = usageOf(key, req.object);
      if (req.operation === 'UPDATE') {
        // Pod updates change usage only through resources (in-place resize); count the difference.
        const old = usageOf(key, req.oldObject ?? {});
        for (const [k, v] of delta) delta.set(k, minus(v, old.get(k)));
      }
      if (![...delta.values()].some((v) => v.milli > 0n)) return;
      await locks.run(req.namespace!, async () => {
        await reg.cache.sync();
        let charged = false;
        for (const c of list()) {
          const quota = c.obj;
          if (!matchesScopes(quota, key, req.object)) continue;
          const hard = quota.spec?.hard ?? {};
          const constrained = [...delta.keys()].filter((k) => hard[k] !== undefined && delta.get(k)!.milli > 0n);
          // Compute resources the quota limits must be given by every container (upstream's "must specify").
          if (key === 'pods' && req.operation === 'CREATE') {
            const missing: string[] = [];
            for (const h of Object.keys(hard).sort()) {
              const m = /^(requests|limits)\.(cpu|memory)$|^(cpu|memory)$/.exec(h);
              if (!m) continue;
              const which = m[1] ?? 'requests';
              const res = m[2] ?? m[3];
              const lacking = (req.object.spec?.containers ?? []).filter((ct: any) => ct.resources?.[which]?.[res] === undefined).map((ct: any) => ct.name);
              if (lacking.length) missing.push(`${h} for: ${lacking.join(',')}`);
            }
            if (missing.length) throw forbidden(req, `failed quota: ${quota.metadata.name}: must specify ${missing.join('; ')}`);
          }
          if (!constrained.length) continue;
          let used: Usage = new Map(Object.entries(quota.status?.used ?? {}).map(([k, v]) => [k, amount(v)]));
          const over = (u: Usage) => constrained.filter((k) => (u.get(k)?.milli ?? 0n) + delta.get(k)!.milli > milli(hard[k]));
          let exceeded = over(used);
          if (exceeded.length || constrained.some((k) => !used.has(k))) {
            used = computeUsage(reg, req.namespace!, quota, reserved);
            exceeded = over(used);
          }
          if (exceeded.length) {
            const list = (f: (k: string) => Amount) => exceeded.sort().map((k) => fmt(k, f(k))).join(',');
            throw forbidden(req, `exceeded quota: ${quota.metadata.name}, requested: ${list((k) => delta.get(k)!)}, used: ${list((k) => used.get(k) ?? ZERO)}, limited: ${list((k) => amount(hard[k]))}`);
          }
          if (req.dryRun) continue;
          const next = structuredClone(quota);
          const nu = new Map(used);
          for (const k of constrained) nu.set(k, plus(nu.get(k), delta.get(k)!));
          next.status = { hard: { ...hard }, used: { ...(quota.status?.used ?? {}), ...toStatus(nu) } };
          try {
            await reg.update(quotaInfo, req.namespace, quota.metadata.name, next, { subresource: 'status' });
            charged = true;
          } catch (e) {
            if (e instanceof StatusError && e.reason === 'Conflict') throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on resourcequotas "${quota.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`);
            throw e;
          }
        }
        const name = req.object?.metadata?.name;
        if (charged && req.operation === 'CREATE' && name) reserved.add(reg.keyFor(req.info, req.namespace, name), req.namespace!, key, req.object);
      });
    },
  };
}
