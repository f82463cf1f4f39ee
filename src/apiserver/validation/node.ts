/** Node validation (light): name, taints, podCIDRs, resource quantities, and update immutability. */
import type { FieldError } from './types.js';
import { duplicate, forbidden, GoLiteral, index, invalid } from './errors.js';
import { nameIsDNSSubdomain } from './names.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { validateTaints } from './pod.js';
import { isIPv6String, isValidCIDR } from './ip.js';
import { quantityAt, validateResourceQuantityValue } from './resources.js';
import { goStringSlice } from './gosyntax.js';

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

function validateNodeResources(node: any): FieldError[] {
  const errs: FieldError[] = [];
  for (const kind of ['capacity', 'allocatable']) {
    const list = node?.status?.[kind];
    if (!isObj(list)) continue;
    for (const [name, raw] of Object.entries(list)) {
      const p = `status.${kind}.${name}`;
      const q = quantityAt(raw, p, errs);
      if (q) errs.push(...validateResourceQuantityValue(name, q, p));
    }
  }
  return errs;
}

export function validateNode(node: any): FieldError[] {
  const errs = validateObjectMeta(node?.metadata, false, nameIsDNSSubdomain);
  // Upstream validates spec.taints under the metadata path.
  if (arr(node?.spec?.taints).length) errs.push(...validateTaints(node.spec.taints, 'metadata.taints'));
  errs.push(...validateNodeResources(node));
  const cidrs: string[] = arr(node?.spec?.podCIDRs).map(str);
  cidrs.forEach((c, i) => errs.push(...isValidCIDR(index('spec.podCIDRs', i), c)));
  if (cidrs.length > 1) {
    const fam = cidrs.map((c) => isIPv6String(c.split('/')[0]));
    if (fam[0] === fam[1] || cidrs.length > 2) errs.push(invalid('spec.podCIDRs', goStringSlice(cidrs), 'may specify no more than one CIDR for each IP family'));
    const seen = new Set<string>();
    cidrs.forEach((c, i) => {
      if (seen.has(c)) errs.push(duplicate(index('spec.podCIDRs', i), c));
      seen.add(c);
    });
  }
  return errs;
}

export function validateNodeUpdate(node: any, old: any): FieldError[] {
  const errs = validateObjectMetaUpdate(node?.metadata, old?.metadata);
  errs.push(...validateNodeResources(node));
  const seen = new Set<string>();
  arr(node?.status?.addresses).forEach((a: any, i: number) => {
    const k = `${str(a?.type)}/${str(a?.address)}`;
    if (seen.has(k)) errs.push(duplicate(index('status.addresses', i), new GoLiteral(`core.NodeAddress{Type:${JSON.stringify(str(a?.type))}, Address:${JSON.stringify(str(a?.address))}}`)));
    seen.add(k);
  });
  const oldCIDRs: string[] = arr(old?.spec?.podCIDRs).map(str);
  const newCIDRs: string[] = arr(node?.spec?.podCIDRs).map(str);
  const msg = 'node updates may not change podCIDR except from "" to valid';
  if (oldCIDRs.length > 0) {
    if (oldCIDRs.length !== newCIDRs.length) errs.push(forbidden('spec.podCIDRs', msg));
    else oldCIDRs.forEach((c, i) => { if (c !== newCIDRs[i]) errs.push(forbidden('spec.podCIDRs', msg)); });
  }
  if (str(old?.spec?.providerID) && str(old.spec.providerID) !== str(node?.spec?.providerID)) {
    errs.push(forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  }
  if (arr(node?.spec?.taints).length) errs.push(...validateTaints(node.spec.taints, 'metadata.taints'));
  if (str(node?.spec?.externalID) !== str(old?.spec?.externalID)) errs.push(forbidden('spec.externalID', 'may not be updated'));
  return errs;
}
