/**
 * Resource names and quantities in ResourceLists (container resources, quota, limit ranges),
 * as pkg/apis/core/helper and the ResourceRequirements checks of core validation.
 */
import type { FieldError } from './types.js';
import { child, forbidden, GoLiteral, invalid, key, required } from './errors.js';
import { isQualifiedName } from './names.js';
import {
  compareQuantity,
  formatQuantity,
  goQuantityText,
  isNegativeQuantity,
  milliValue,
  parseQuantityExact,
  roundUpQuantity,
  type Quantity,
} from './quantity.js';

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);

const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);
const STANDARD_RESOURCES = new Set([
  'cpu', 'memory', 'ephemeral-storage',
  'requests.cpu', 'requests.memory', 'requests.ephemeral-storage',
  'limits.cpu', 'limits.memory', 'limits.ephemeral-storage',
  'pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'persistentvolumeclaims', 'configmaps',
  'services.nodeports', 'services.loadbalancers', 'storage', 'requests.storage',
]);
const STANDARD_QUOTA_RESOURCES = new Set([
  'pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps', 'persistentvolumeclaims',
  'services.nodeports', 'services.loadbalancers',
  'cpu', 'memory', 'ephemeral-storage',
  'requests.cpu', 'requests.memory', 'requests.storage', 'requests.ephemeral-storage',
  'limits.cpu', 'limits.memory', 'limits.ephemeral-storage',
]);
const INTEGER_RESOURCES = new Set([
  'pods', 'services', 'replicationcontrollers', 'resourcequotas', 'secrets', 'configmaps', 'persistentvolumeclaims',
  'services.nodeports', 'services.loadbalancers',
]);

export const isHugePageResourceName = (n: string): boolean => n.startsWith('hugepages-');
const isQuotaHugePageResourceName = (n: string): boolean => n.startsWith('hugepages-') || n.startsWith('requests.hugepages-');
/** Native resources live in the default namespace or under kubernetes.io/. */
export const isNativeResource = (n: string): boolean => !n.includes('/') || n.includes('kubernetes.io/');

export function isExtendedResourceName(n: string): boolean {
  if (isNativeResource(n) || n.startsWith('requests.')) return false;
  return isQualifiedName('requests.' + n).length === 0;
}

export const isOvercommitAllowed = (n: string): boolean => isNativeResource(n) && !isHugePageResourceName(n);
export const isIntegerResourceName = (n: string): boolean => INTEGER_RESOURCES.has(n) || isExtendedResourceName(n);
export const isStandardResourceName = (n: string): boolean => STANDARD_RESOURCES.has(n) || isQuotaHugePageResourceName(n);
export const isStandardQuotaResourceName = (n: string): boolean => STANDARD_QUOTA_RESOURCES.has(n) || isQuotaHugePageResourceName(n);
const isStandardContainerResourceName = (n: string): boolean => STANDARD_CONTAINER_RESOURCES.has(n) || isHugePageResourceName(n);

export function validateResourceName(name: string, field: string): FieldError[] {
  const errs = isQualifiedName(name).map((m) => invalid(field, name, m));
  if (errs.length) return errs;
  if (!name.includes('/') && !isStandardResourceName(name)) return [invalid(field, name, 'must be a standard resource type or fully qualified')];
  return [];
}

export function validateContainerResourceName(name: string, field: string): FieldError[] {
  const errs = validateResourceName(name, field);
  if (!name.includes('/')) {
    if (!isStandardContainerResourceName(name)) return errs.concat(invalid(field, name, 'must be a standard resource for containers'));
  } else if (!isNativeResource(name) && !isExtendedResourceName(name)) {
    return errs.concat(invalid(field, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

/**
 * Parses one quantity of a ResourceList. A malformed quantity is a decode error upstream
 * (400 BadRequest); we report it as an Invalid field with the decoder's text.
 */
export function quantityAt(raw: unknown, field: string, errs: FieldError[]): Quantity | undefined {
  const q = parseQuantityExact(raw);
  if (typeof q === 'string') {
    errs.push(invalid(field, typeof raw === 'string' ? raw : String(raw), q));
    return undefined;
  }
  // SetDefaults_ResourceList rounds every resource value up to milli precision.
  return roundUpQuantity(q, -3);
}

/** ValidateResourceQuantityValue: non-negative, and whole for integer resources. */
export function validateResourceQuantityValue(name: string, q: Quantity, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (isNegativeQuantity(q)) errs.push(invalid(field, formatQuantity(q), 'must be greater than or equal to 0'));
  if (isIntegerResourceName(name) && milliValue(q) % 1000n !== 0n) errs.push(invalid(field, new GoLiteral(goQuantityText(q)), 'must be an integer'));
  return errs;
}

const HUGEPAGE_SIZE = /^hugepages-(.+)$/;

function hugePageError(name: string, q: Quantity): string | undefined {
  const m = HUGEPAGE_SIZE.exec(name);
  const size = m ? parseQuantityExact(m[1]) : undefined;
  if (!size || typeof size === 'string' || size.value <= 0n) return undefined;
  const s = Math.min(q.scale, size.scale, 0);
  const qv = q.value * 10n ** BigInt(q.scale - s);
  const sv = size.value * 10n ** BigInt(size.scale - s);
  if (qv % sv !== 0n) return `${formatQuantity(q)} is not positive integer multiple of ${name}`;
  return undefined;
}

/** validateResourceRequirements for containers (limits, requests, request ≤ limit). */
export function validateContainerResources(res: unknown, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const r = isObj(res) ? res : {};
  const limPath = child(field, 'limits');
  const reqPath = child(field, 'requests');
  const limits = new Map<string, Quantity>();
  let limCPUorMem = false;
  let reqCPUorMem = false;
  let limHuge = false;
  let reqHuge = false;
  for (const [name, raw] of Object.entries(isObj(r.limits) ? r.limits : {})) {
    const p = key(limPath, name);
    errs.push(...validateContainerResourceName(name, p));
    const q = quantityAt(raw, p, errs);
    if (!q) continue;
    limits.set(name, q);
    errs.push(...validateResourceQuantityValue(name, q, p));
    if (isHugePageResourceName(name)) {
      limHuge = true;
      const e = hugePageError(name, q);
      if (e) errs.push(invalid(p, formatQuantity(q), e));
    }
    if (name === 'cpu' || name === 'memory') limCPUorMem = true;
  }
  for (const [name, raw] of Object.entries(isObj(r.requests) ? r.requests : {})) {
    const p = key(reqPath, name);
    errs.push(...validateContainerResourceName(name, p));
    const q = quantityAt(raw, p, errs);
    if (!q) continue;
    errs.push(...validateResourceQuantityValue(name, q, p));
    const lim = limits.get(name);
    if (lim) {
      const c = compareQuantity(q, lim);
      // Resources that cannot be overcommitted need requests equal to limits.
      if (c !== 0 && !isOvercommitAllowed(name)) errs.push(invalid(reqPath, formatQuantity(q), `must be equal to ${name} limit of ${formatQuantity(lim)}`));
      else if (c > 0) errs.push(invalid(reqPath, formatQuantity(q), `must be less than or equal to ${name} limit of ${formatQuantity(lim)}`));
    } else if (!isOvercommitAllowed(name)) {
      errs.push(required(limPath, 'Limit must be set for non overcommitable resources'));
    }
    if (isHugePageResourceName(name)) {
      reqHuge = true;
      const e = hugePageError(name, q);
      if (e) errs.push(invalid(p, formatQuantity(q), e));
    }
    if (name === 'cpu' || name === 'memory') reqCPUorMem = true;
  }
  if (!limCPUorMem && !reqCPUorMem && (reqHuge || limHuge)) errs.push(forbidden(field, 'HugePages require cpu or memory'));
  return errs;
}
