/** Endpoints (core/v1) and EndpointSlice (discovery.k8s.io/v1) validation. */
import type { FieldError } from './types.js';
import { child, duplicate, index, invalid, notSupported, required, tooMany } from './errors.js';
import { isDNS1123Label, isFullyQualifiedDomainName, isQualifiedName, isValidPortNum, nameIsDNSSubdomain } from './names.js';
import { validateImmutableField, validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isValidIP, parseIP, validateNonSpecialIP } from './ip.js';

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const has = (o: any, k: string): boolean => isObj(o) && o[k] !== undefined && o[k] !== null;

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

function validateEndpointAddress(a: any, field: string): FieldError[] {
  const errs = isValidIP(child(field, 'ip'), str(a?.ip));
  if (str(a?.hostname)) errs.push(...isDNS1123Label(str(a.hostname)).map((m) => invalid(child(field, 'hostname'), str(a.hostname), m)));
  if (has(a, 'nodeName')) errs.push(...nameIsDNSSubdomain(str(a.nodeName), false).map((m) => invalid(child(field, 'nodeName'), str(a.nodeName), m)));
  return errs.concat(validateNonSpecialIP(str(a?.ip), child(field, 'ip')));
}

function validateEndpointPort(p: any, requireName: boolean, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(p?.name);
  if (requireName && !name) errs.push(required(child(field, 'name')));
  else if (name) errs.push(...isDNS1123Label(name).map((m) => invalid(child(field, 'name'), name, m)));
  errs.push(...isValidPortNum(num(p?.port)).map((m) => invalid(child(field, 'port'), num(p?.port), m)));
  const proto = str(p?.protocol);
  if (!proto) errs.push(required(child(field, 'protocol')));
  else if (!PROTOCOLS.includes(proto)) errs.push(notSupported(child(field, 'protocol'), proto, PROTOCOLS));
  if (has(p, 'appProtocol')) errs.push(...isQualifiedName(str(p.appProtocol)).map((m) => invalid(child(field, 'appProtocol'), str(p.appProtocol), m)));
  return errs;
}

export function validateEndpoints(ep: any): FieldError[] {
  const errs = validateObjectMeta(ep?.metadata, true, nameIsDNSSubdomain);
  arr(ep?.subsets).forEach((ss: any, i: number) => {
    const p = index('subsets', i);
    if (arr(ss?.addresses).length === 0 && arr(ss?.notReadyAddresses).length === 0) {
      errs.push(required(p, 'must specify `addresses` or `notReadyAddresses`'));
    }
    arr(ss?.addresses).forEach((a, j) => errs.push(...validateEndpointAddress(a, index(child(p, 'addresses'), j))));
    arr(ss?.notReadyAddresses).forEach((a, j) => errs.push(...validateEndpointAddress(a, index(child(p, 'notReadyAddresses'), j))));
    const ports = arr(ss?.ports);
    ports.forEach((port, j) => errs.push(...validateEndpointPort(port, ports.length > 1, index(child(p, 'ports'), j))));
  });
  return errs;
}

export function validateEndpointsUpdate(ep: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(ep?.metadata, old?.metadata).concat(validateEndpoints(ep));
}

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];

export function validateEndpointSlice(es: any): FieldError[] {
  const errs = validateObjectMeta(es?.metadata, true, nameIsDNSSubdomain);
  const addrType = str(es?.addressType);
  if (!addrType) errs.push(required('addressType'));
  else if (!ADDRESS_TYPES.includes(addrType)) errs.push(notSupported('addressType', addrType, ADDRESS_TYPES));
  const endpoints = arr(es?.endpoints);
  if (endpoints.length > 1000) errs.push(tooMany('endpoints', endpoints.length, 1000));
  else endpoints.forEach((ep: any, i: number) => {
    const p = index('endpoints', i);
    const ap = child(p, 'addresses');
    const addrs = arr(ep?.addresses);
    if (addrs.length === 0) errs.push(required(ap, 'must contain at least 1 address'));
    else if (addrs.length > 100) errs.push(tooMany(ap, addrs.length, 100));
    addrs.forEach((a, j) => {
      const v = str(a);
      const f = index(ap, j);
      if (addrType === 'IPv4' || addrType === 'IPv6') {
        const ip = parseIP(v);
        const ok = ip && (addrType === 'IPv4' ? ip.v4 : !ip.v4);
        if (!ok) errs.push(invalid(f, v, `must be a valid ${addrType} address`));
        else errs.push(...validateNonSpecialIP(v, f));
      } else if (addrType === 'FQDN') errs.push(...isFullyQualifiedDomainName(f, v));
    });
    if (has(ep, 'nodeName')) errs.push(...nameIsDNSSubdomain(str(ep.nodeName), false).map((m) => invalid(child(p, 'nodeName'), str(ep.nodeName), m)));
    const topo = ep?.deprecatedTopology;
    if (isObj(topo) && Object.keys(topo).length > 16) errs.push(tooMany(child(p, 'deprecatedTopology'), Object.keys(topo).length, 16));
    errs.push(...validateLabels(topo, child(p, 'deprecatedTopology')));
    if (has(ep, 'hostname')) errs.push(...isDNS1123Label(str(ep.hostname)).map((m) => invalid(child(p, 'hostname'), str(ep.hostname), m)));
  });
  const ports = arr(es?.ports);
  if (ports.length > 20000) errs.push(tooMany('ports', ports.length, 20000));
  else {
    const names = new Set<string>();
    ports.forEach((port: any, i: number) => {
      const p = index('ports', i);
      const name = str(port?.name);
      if (name) errs.push(...isDNS1123Label(name).map((m) => invalid(child(p, 'name'), name, m)));
      if (names.has(name)) errs.push(duplicate(child(p, 'name'), name));
      else names.add(name);
      if (!has(port, 'protocol')) errs.push(required(child(p, 'protocol')));
      else if (!PROTOCOLS.includes(str(port.protocol))) errs.push(notSupported(child(p, 'protocol'), str(port.protocol), PROTOCOLS));
      if (has(port, 'appProtocol')) errs.push(...isQualifiedName(str(port.appProtocol)).map((m) => invalid(child(p, 'appProtocol'), str(port.appProtocol), m)));
    });
  }
  return errs;
}

export function validateEndpointSliceUpdate(es: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(es?.metadata, old?.metadata).concat(
    validateEndpointSlice(es),
    validateImmutableField(str(es?.addressType), str(old?.addressType), 'addressType'),
  );
}
