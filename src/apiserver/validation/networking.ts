/** networking.k8s.io/v1: Ingress, IngressClass and NetworkPolicy (pkg/apis/networking/validation). */
import type { FieldError } from './types.js';
import { child, forbidden, GoLiteral, index, invalid, notSupported, required, tooLong } from './errors.js';
import {
  byteLength, isDNS1123Label, isDNS1123Subdomain, isDomainPrefixedPath, isValidPathSegmentName, isValidPortName, isValidPortNum,
  isWildcardDNS1123Subdomain, nameIsDNS1035Label, nameIsDNSSubdomain,
} from './names.js';
import { validateImmutableField, validateLabelSelector, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { cidrContains, parseCIDR, parseIP } from './ip.js';

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const has = (o: any, k: string): boolean => isObj(o) && o[k] !== undefined && o[k] !== null;

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];
const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

function validateTypedLocalObjectReference(ref: any, field: string): FieldError[] {
  if (!isObj(ref)) return [];
  const errs: FieldError[] = [];
  if (has(ref, 'apiGroup')) errs.push(...isDNS1123Subdomain(str(ref.apiGroup)).map((m) => invalid(child(field, 'apiGroup'), str(ref.apiGroup), m)));
  if (!str(ref.kind)) errs.push(required(child(field, 'kind'), 'kind is required'));
  else errs.push(...isValidPathSegmentName(str(ref.kind)).map((m) => invalid(child(field, 'kind'), str(ref.kind), m)));
  if (!str(ref.name)) errs.push(required(child(field, 'name'), 'name is required'));
  else errs.push(...isValidPathSegmentName(str(ref.name)).map((m) => invalid(child(field, 'name'), str(ref.name), m)));
  return errs;
}

function validateIngressBackend(backend: any, field: string): FieldError[] {
  const hasResource = has(backend, 'resource');
  const hasService = has(backend, 'service');
  if (hasResource && hasService) return [invalid(field, '', 'cannot set both resource and service backends')];
  if (hasResource) return validateTypedLocalObjectReference(backend.resource, child(field, 'resource'));
  if (!hasService) return [invalid(field, '', 'resource or service backend is required')];
  const errs: FieldError[] = [];
  const svc = backend.service;
  const name = str(svc.name);
  if (!name) errs.push(required(child(field, 'service', 'name')));
  else errs.push(...nameIsDNS1035Label(name, false).map((m) => invalid(child(field, 'service', 'name'), name, m)));
  const portName = str(svc.port?.name);
  const portNumber = num(svc.port?.number);
  if (portName && portNumber) errs.push(invalid(field, '', 'cannot set both port name & port number'));
  else if (portName) errs.push(...isValidPortName(portName).map((m) => invalid(child(field, 'service', 'port', 'name'), portName, m)));
  else if (portNumber) errs.push(...isValidPortNum(portNumber).map((m) => invalid(child(field, 'service', 'port', 'number'), portNumber, m)));
  else errs.push(required(field, 'port name or number is required'));
  return errs;
}

function validateHTTPIngressPath(path: any, field: string): FieldError[] {
  if (!has(path, 'pathType')) return [required(child(field, 'pathType'), 'pathType must be specified')];
  const errs: FieldError[] = [];
  const p = str(path.path);
  switch (path.pathType) {
    case 'Exact':
    case 'Prefix':
      if (!p.startsWith('/')) errs.push(invalid(child(field, 'path'), p, 'must be an absolute path'));
      if (p) {
        for (const seq of INVALID_PATH_SEQUENCES) if (p.includes(seq)) errs.push(invalid(child(field, 'path'), p, `must not contain '${seq}'`));
        for (const suf of INVALID_PATH_SUFFIXES) if (p.endsWith(suf)) errs.push(invalid(child(field, 'path'), p, `cannot end with '${suf}'`));
      }
      break;
    case 'ImplementationSpecific':
      if (p && !p.startsWith('/')) errs.push(invalid(child(field, 'path'), p, 'must be an absolute path'));
      break;
    default:
      errs.push(notSupported(child(field, 'pathType'), str(path.pathType), PATH_TYPES));
  }
  return errs.concat(validateIngressBackend(path.backend, child(field, 'backend')));
}

function validateIngressRules(rules: any[], field: string): FieldError[] {
  const errs: FieldError[] = [];
  rules.forEach((rule, i) => {
    const p = index(field, i);
    const host = str(rule?.host);
    if (host) {
      if (parseIP(host)) errs.push(invalid(child(p, 'host'), host, 'must be a DNS name, not an IP address'));
      if (host.includes('*')) errs.push(...isWildcardDNS1123Subdomain(host).map((m) => invalid(child(p, 'host'), host, m)));
      else errs.push(...isDNS1123Subdomain(host).map((m) => invalid(child(p, 'host'), host, m)));
    }
    if (has(rule, 'http')) {
      const paths = arr(rule.http.paths);
      if (paths.length === 0) errs.push(required(child(p, 'http', 'paths')));
      paths.forEach((hp, j) => errs.push(...validateHTTPIngressPath(hp, index(child(p, 'http', 'paths'), j))));
    }
  });
  return errs;
}

function validateIngressSpec(spec: any, old: any | undefined): FieldError[] {
  const s = isObj(spec) ? spec : {};
  const errs: FieldError[] = [];
  const rules = arr(s.rules);
  if (rules.length === 0 && !has(s, 'defaultBackend')) {
    errs.push(invalid('spec', new GoLiteral(Array.isArray(s.rules) ? '[]networking.IngressRule{}' : '[]networking.IngressRule(nil)'), 'either `defaultBackend` or `rules` must be specified'));
  }
  if (has(s, 'defaultBackend')) errs.push(...validateIngressBackend(s.defaultBackend, 'spec.defaultBackend'));
  if (rules.length) errs.push(...validateIngressRules(rules, 'spec.rules'));
  // An existing object with invalid TLS secret names may keep them.
  const allowBadSecret = arr(old?.spec?.tls).some((t: any) => str(t?.secretName) && nameIsDNSSubdomain(str(t.secretName), false).length > 0);
  arr(s.tls).forEach((tls: any, i: number) => {
    const p = index('spec.tls', i);
    arr(tls?.hosts).forEach((h, j) => {
      const host = str(h);
      const fn = host.includes('*') ? isWildcardDNS1123Subdomain : isDNS1123Subdomain;
      errs.push(...fn(host).map((m) => invalid(index(child(p, 'hosts'), j), host, m)));
    });
    const secret = str(tls?.secretName);
    if (!allowBadSecret && secret) errs.push(...nameIsDNSSubdomain(secret, false).map((m) => invalid(child(p, 'secretName'), secret, m)));
  });
  if (has(s, 'ingressClassName')) {
    errs.push(...nameIsDNSSubdomain(str(s.ingressClassName), false).map((m) => invalid('spec.ingressClassName', str(s.ingressClassName), m)));
  }
  return errs;
}

export function validateIngress(ing: any): FieldError[] {
  const errs = validateObjectMeta(ing?.metadata, true, nameIsDNSSubdomain).concat(validateIngressSpec(ing?.spec, undefined));
  const ann = ing?.metadata?.annotations;
  if (isObj(ann) && INGRESS_CLASS_ANNOTATION in ann && has(ing?.spec, 'ingressClassName')) {
    errs.push(invalid(`annotations.${INGRESS_CLASS_ANNOTATION}`, str(ann[INGRESS_CLASS_ANNOTATION]), 'can not be set when the class field is also set'));
  }
  return errs;
}

export function validateIngressUpdate(ing: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(ing?.metadata, old?.metadata).concat(
    validateObjectMeta(ing?.metadata, true, nameIsDNSSubdomain),
    validateIngressSpec(ing?.spec, old),
  );
}

function validateIngressClassSpec(spec: any): FieldError[] {
  const s = isObj(spec) ? spec : {};
  const errs: FieldError[] = [];
  const controller = str(s.controller);
  if (byteLength(controller) > 250) errs.push(tooLong('spec.controller', 250));
  errs.push(...isDomainPrefixedPath('spec.controller', controller));
  const params = s.parameters;
  if (isObj(params)) {
    const p = 'spec.parameters';
    errs.push(...validateTypedLocalObjectReference(params, p));
    if (!has(params, 'scope')) errs.push(required(child(p, 'scope')));
    else {
      const scope = str(params.scope);
      if (scope !== 'Cluster' && scope !== 'Namespace') errs.push(notSupported(child(p, 'scope'), scope, ['Cluster', 'Namespace']));
      else if (scope === 'Namespace') {
        if (!has(params, 'namespace')) errs.push(required(child(p, 'namespace'), "`parameters.scope` is set to 'Namespace'"));
        else errs.push(...isDNS1123Label(str(params.namespace)).map((m) => invalid(child(p, 'namespace'), str(params.namespace), m)));
      } else if (has(params, 'namespace')) errs.push(forbidden(child(p, 'namespace'), "`parameters.scope` is set to 'Cluster'"));
    }
  }
  return errs;
}

export function validateIngressClass(ic: any): FieldError[] {
  return validateObjectMeta(ic?.metadata, false, nameIsDNSSubdomain).concat(validateIngressClassSpec(ic?.spec));
}

export function validateIngressClassUpdate(ic: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(ic?.metadata, old?.metadata).concat(
    validateImmutableField(str(ic?.spec?.controller), str(old?.spec?.controller), 'spec.controller'),
    validateIngressClass(ic),
  );
}

function validateNetworkPolicyPort(port: any, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (has(port, 'protocol') && !['TCP', 'UDP', 'SCTP'].includes(str(port.protocol))) {
    errs.push(notSupported(child(field, 'protocol'), str(port.protocol), ['TCP', 'UDP', 'SCTP']));
  }
  if (has(port, 'port')) {
    if (typeof port.port === 'number') {
      errs.push(...isValidPortNum(port.port).map((m) => invalid(child(field, 'port'), port.port, m)));
      if (has(port, 'endPort')) {
        if (num(port.endPort) < port.port) errs.push(invalid(child(field, 'endPort'), port.port, 'must be greater than or equal to `port`'));
        errs.push(...isValidPortNum(num(port.endPort)).map((m) => invalid(child(field, 'endPort'), num(port.endPort), m)));
      }
    } else {
      if (has(port, 'endPort')) errs.push(invalid(child(field, 'endPort'), num(port.endPort), 'may not be specified when `port` is non-numeric'));
      errs.push(...isValidPortName(str(port.port)).map((m) => invalid(child(field, 'port'), str(port.port), m)));
    }
  } else if (has(port, 'endPort')) {
    errs.push(invalid(child(field, 'endPort'), num(port.endPort), 'may not be specified when `port` is not specified'));
  }
  return errs;
}

function validateIPBlock(ipb: any, field: string): FieldError[] {
  const cidr = str(ipb?.cidr);
  if (!cidr) return [required(child(field, 'cidr'))];
  const outer = parseCIDR(cidr);
  if (!outer) return [invalid(child(field, 'cidr'), cidr, 'not a valid CIDR')];
  const errs: FieldError[] = [];
  for (const [i, e] of arr(ipb.except).entries()) {
    const p = index(child(field, 'except'), i);
    const inner = parseCIDR(str(e));
    if (!inner) return errs.concat(invalid(p, str(e), 'not a valid CIDR'));
    if (!cidrContains(outer, inner.ip) || outer.bits >= inner.bits) errs.push(invalid(p, str(e), 'must be a strict subset of `cidr`'));
  }
  return errs;
}

function validateNetworkPolicyPeer(peer: any, field: string): FieldError[] {
  const errs: FieldError[] = [];
  let n = 0;
  if (has(peer, 'podSelector')) { n++; errs.push(...validateLabelSelector(peer.podSelector, child(field, 'podSelector'))); }
  if (has(peer, 'namespaceSelector')) { n++; errs.push(...validateLabelSelector(peer.namespaceSelector, child(field, 'namespaceSelector'))); }
  if (has(peer, 'ipBlock')) { n++; errs.push(...validateIPBlock(peer.ipBlock, child(field, 'ipBlock'))); }
  if (n === 0) errs.push(required(field, 'must specify a peer'));
  else if (n > 1 && has(peer, 'ipBlock')) errs.push(forbidden(field, 'may not specify both ipBlock and another peer'));
  return errs;
}

function validateNetworkPolicySpec(spec: any): FieldError[] {
  const s = isObj(spec) ? spec : {};
  const errs = validateLabelSelector(s.podSelector, 'spec.podSelector');
  arr(s.ingress).forEach((rule: any, i: number) => {
    const p = index('spec.ingress', i);
    arr(rule?.ports).forEach((port, j) => errs.push(...validateNetworkPolicyPort(port, index(child(p, 'ports'), j))));
    arr(rule?.from).forEach((peer, j) => errs.push(...validateNetworkPolicyPeer(peer, index(child(p, 'from'), j))));
  });
  arr(s.egress).forEach((rule: any, i: number) => {
    const p = index('spec.egress', i);
    arr(rule?.ports).forEach((port, j) => errs.push(...validateNetworkPolicyPort(port, index(child(p, 'ports'), j))));
    arr(rule?.to).forEach((peer, j) => errs.push(...validateNetworkPolicyPeer(peer, index(child(p, 'to'), j))));
  });
  const types = arr(s.policyTypes);
  if (types.length > 2) {
    errs.push(invalid('spec.policyTypes', new GoLiteral('&[]networking.PolicyType{' + types.map((t) => JSON.stringify(str(t))).join(', ') + '}'), 'may not specify more than two policyTypes'));
    return errs;
  }
  types.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress') errs.push(notSupported(index('spec.policyTypes', i), str(t), ['Ingress', 'Egress']));
  });
  return errs;
}

export function validateNetworkPolicy(np: any): FieldError[] {
  return validateObjectMeta(np?.metadata, true, nameIsDNSSubdomain).concat(validateNetworkPolicySpec(np?.spec));
}

export function validateNetworkPolicyUpdate(np: any, old: any): FieldError[] {
  return validateObjectMetaUpdate(np?.metadata, old?.metadata).concat(validateNetworkPolicySpec(np?.spec));
}
