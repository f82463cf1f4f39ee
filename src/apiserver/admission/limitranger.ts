import { REGISTRY_PREFIX } from '../watchcache.js';
import { parseQuantityExact, milliValue, canonicalQuantity, type Quantity } from '../validation/quantity.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';
import { aggregate, forbidden } from './util.js';

const q = (s: unknown): Quantity | undefined => {
  const r = parseQuantityExact(s);
  return typeof r === 'string' ? undefined : r;
};
const milli = (s: unknown): bigint | undefined => {
  const r = q(s);
  return r ? milliValue(r) : undefined;
};
const str = (v: unknown) => String(v);

function limitRanges(req: AdmissionRequest): any[] {
  return req.registry.cache.list('limitranges', `${REGISTRY_PREFIX}limitranges/${req.namespace}/`).map((c) => c.obj);
}

/**
 * LimitRanger: Container defaults (default → limits, defaultRequest → requests) are filled in on
 * create, with upstream's kubernetes.io/limit-ranger annotation; min, max and maxLimitRequestRatio of
 * Container and Pod limits are enforced with upstream's messages, and the min and max storage
 * request of a PersistentVolumeClaim. As upstream, pods are judged when created only (their
 * containers cannot change), so a LimitRange made later does not refuse, say, a label on them.
 */
export const limitRangerPlugin: AdmissionPlugin = {
  name: 'LimitRanger',
  handles: (req) =>
    !req.subresource &&
    ((req.info.key === 'pods' && req.operation === 'CREATE') || (req.info.key === 'persistentvolumeclaims' && (req.operation === 'CREATE' || req.operation === 'UPDATE'))),
  admit(req) {
    if (req.operation !== 'CREATE' || req.info.key !== 'pods') return;
    const ranges = limitRanges(req);
    if (!ranges.length) return;
    const pod = req.object;
    const notes: string[] = [];
    for (const lr of ranges) {
      for (const item of lr.spec?.limits ?? []) {
        if (item.type !== 'Container') continue;
        for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
          const res = (c.resources ??= {});
          const setReq: string[] = [];
          const setLim: string[] = [];
          for (const [k, v] of Object.entries(item.default ?? {})) {
            if (res.limits?.[k] === undefined) {
              (res.limits ??= {})[k] = v;
              setLim.push(k);
            }
          }
          for (const [k, v] of Object.entries(item.defaultRequest ?? {})) {
            if (res.requests?.[k] === undefined) {
              (res.requests ??= {})[k] = v;
              setReq.push(k);
            }
          }
          // A limit without a request: the request defaults to the limit, as pod defaulting does.
          for (const [k, v] of Object.entries(res.limits ?? {})) if (res.requests?.[k] === undefined) (res.requests ??= {})[k] = v;
          if (setReq.length) notes.push(`${setReq.join(', ')} request for container ${c.name}`);
          if (setLim.length) notes.push(`${setLim.join(', ')} limit for container ${c.name}`);
        }
      }
    }
    if (notes.length) {
      pod.metadata.annotations = { ...pod.metadata.annotations, 'kubernetes.io/limit-ranger': `LimitRanger plugin set: ${notes.join('; ')}` };
    }
  },
  validate(req) {
    const ranges = limitRanges(req);
    if (!ranges.length) return;
    const errs: string[] = [];
    if (req.info.key === 'persistentvolumeclaims') {
      for (const lr of ranges) for (const item of lr.spec?.limits ?? []) if (item.type === 'PersistentVolumeClaim') checkClaim(errs, item, req.object?.spec?.resources?.requests ?? {});
      if (errs.length) throw forbidden(req, aggregate(errs));
      return;
    }
    const pod = req.object;
    const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    for (const lr of ranges) {
      for (const item of lr.spec?.limits ?? []) {
        if (item.type === 'Container') {
          for (const c of containers) check(errs, 'Container', item, c.resources?.requests ?? {}, c.resources?.limits ?? {});
        } else if (item.type === 'Pod') {
          const sum = (which: 'requests' | 'limits') => {
            const out: Record<string, string> = {};
            const keys = new Set(containers.flatMap((c) => Object.keys(c.resources?.[which] ?? {})));
            for (const k of keys) {
              // A resource some container leaves unset has no pod total (upstream leaves it out).
              if (containers.some((c) => c.resources?.[which]?.[k] === undefined)) continue;
              let total = 0n;
              for (const c of containers) total += milli(c.resources[which][k]) ?? 0n;
              out[k] = `${total}m`;
            }
            return out;
          };
          check(errs, 'Pod', item, sum('requests'), sum('limits'));
        }
      }
    }
    if (errs.length) throw forbidden(req, aggregate(errs));
  },
};

function fmt(v: unknown): string {
  return str(v);
}

/** Upstream's minConstraint / maxConstraint / limitRequestRatioConstraint. */
function check(errs: string[], type: string, item: any, requests: Record<string, unknown>, limits: Record<string, unknown>): void {
  // One error per resource and constraint, the first that applies (upstream's min/maxConstraint).
  for (const [k, min] of Object.entries(item.min ?? {})) {
    const r = milli(requests[k]);
    const l = milli(limits[k]);
    const m = milli(min)!;
    if (r === undefined) errs.push(`minimum ${k} usage per ${type} is ${fmt(min)}.  No request is specified`);
    else if (r < m) errs.push(`minimum ${k} usage per ${type} is ${fmt(min)}, but request is ${fmtMilli(requests[k])}`);
    else if (l !== undefined && l < m) errs.push(`minimum ${k} usage per ${type} is ${fmt(min)}, but limit is ${fmtMilli(limits[k])}`);
  }
  for (const [k, max] of Object.entries(item.max ?? {})) {
    const r = milli(requests[k]);
    const l = milli(limits[k]);
    const m = milli(max)!;
    if (l === undefined) errs.push(`maximum ${k} usage per ${type} is ${fmt(max)}.  No limit is specified`);
    else if (l > m) errs.push(`maximum ${k} usage per ${type} is ${fmt(max)}, but limit is ${fmtMilli(limits[k])}`);
    else if (r !== undefined && r > m) errs.push(`maximum ${k} usage per ${type} is ${fmt(max)}, but request is ${fmtMilli(requests[k])}`);
  }
  for (const [k, ratio] of Object.entries(item.maxLimitRequestRatio ?? {})) {
    const l = milli(limits[k]);
    const r = milli(requests[k]);
    if (l === undefined || r === undefined || r === 0n) {
      errs.push(`${k} max limit to request ratio per ${type} is ${fmt(ratio)}, but no request is specified or request is 0`);
      continue;
    }
    const actual = Number(l) / Number(r);
    if (actual > Number(milli(ratio)!) / 1000) errs.push(`${k} max limit to request ratio per ${type} is ${fmt(ratio)}, but provided ratio is ${actual.toFixed(6)}`);
  }
}

/**
 * Upstream's PersistentVolumeClaimValidateLimitFunc: min against the request (a claim's limits are
 * not user input), max against the request too (maxRequestConstraint); quantities printed canonical.
 */
function checkClaim(errs: string[], item: any, requests: Record<string, unknown>): void {
  const t = 'PersistentVolumeClaim';
  const text = (v: unknown) => canonicalQuantity(v) ?? str(v);
  for (const [k, min] of Object.entries(item.min ?? {})) {
    const r = milli(requests[k]);
    if (r === undefined) errs.push(`minimum ${k} usage per ${t} is ${text(min)}.  No request is specified`);
    else if (r < milli(min)!) errs.push(`minimum ${k} usage per ${t} is ${text(min)}, but request is ${text(requests[k])}`);
  }
  for (const [k, max] of Object.entries(item.max ?? {})) {
    const r = milli(requests[k]);
    if (r === undefined) errs.push(`maximum ${k} usage per ${t} is ${text(max)}.  No request is specified`);
    else if (r > milli(max)!) errs.push(`maximum ${k} usage per ${t} is ${text(max)}, but request is ${text(requests[k])}`);
  }
}

/** Sums are kept in milli-units; print them back the way a user would write them. */
function fmtMilli(v: unknown): string {
  const s = str(v);
  const m = /^(\d+)m$/.exec(s);
  if (!m) return s;
  const n = BigInt(m[1]);
  return n % 1000n === 0n ? String(n / 1000n) : s;
}
