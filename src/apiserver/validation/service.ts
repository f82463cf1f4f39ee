/**
 * Service validation (ValidateService / ValidateServiceUpdate), plus the clusterIP/nodePort
 * bookkeeping the service registry does before validating (NormalizeClusterIPs, patchAllocatedValues).
 * Address allocation (ranges, conflicts) happens after validation, in serviceips.ts.
 */
import type { FieldError } from './types.js';
import { child, duplicate, forbidden, GoLiteral, index, invalid, key, notSupported, required } from './errors.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidPortName, isValidPortNum, nameIsDNS1035Label } from './names.js';
import { validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isIPv6String, isValidCIDR, isValidIP, parseIP, validateNonSpecialIP } from './ip.js';
import { goIntOrStringText, goStringSlice } from './gosyntax.js';

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;
const TOPOLOGY_HINTS = 'service.kubernetes.io/topology-aware-hints';
const TOPOLOGY_MODE = 'service.kubernetes.io/topology-mode';
const LB_SOURCE_RANGES = 'service.beta.kubernetes.io/load-balancer-source-ranges';

const isHeadless = (spec: any): boolean => arr(spec?.clusterIPs).length === 1 && spec.clusterIPs[0] === 'None';
const externallyAccessible = (spec: any): boolean =>
  spec?.type === 'LoadBalancer' || spec?.type === 'NodePort' || (spec?.type === 'ClusterIP' && arr(spec?.externalIPs).length > 0);
const needsHealthCheck = (spec: any): boolean => spec?.type === 'LoadBalancer' && spec?.externalTrafficPolicy === 'Local';
const needsNodePort = (spec: any): boolean => spec?.type === 'NodePort' || (spec?.type === 'LoadBalancer' && spec?.allocateLoadBalancerNodePorts !== false);

const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

/** NormalizeClusterIPs: keep clusterIP and clusterIPs in step for clients that set only one. */
export function normalizeServiceClusterIPs(svc: any, old?: any): void {
  const spec = svc?.spec;
  if (!isObj(spec)) return;
  if (!old) {
    if (str(spec.clusterIP) && arr(spec.clusterIPs).length === 0) spec.clusterIPs = [spec.clusterIP];
    return;
  }
  const os = old.spec ?? {};
  if (arr(os.clusterIPs).length > 0 && arr(spec.clusterIPs).length === 0 && str(os.clusterIP) === str(spec.clusterIP)) {
    spec.clusterIPs = os.clusterIPs;
  }
  if (str(os.clusterIP) !== str(spec.clusterIP)) {
    const same = JSON.stringify(arr(os.clusterIPs)) === JSON.stringify(arr(spec.clusterIPs));
    if (str(os.clusterIP) && !str(spec.clusterIP)) {
      if (same) delete spec.clusterIPs;
    } else if (same) spec.clusterIPs = [spec.clusterIP];
  }
}

/** patchAllocatedValues: an update that omits allocated clusterIPs/nodePorts keeps the old ones. */
export function patchAllocatedServiceValues(svc: any, old: any): void {
  const spec = svc?.spec;
  const os = old?.spec;
  if (!isObj(spec) || !isObj(os)) return;
  if (os.type !== 'ExternalName' && spec.type !== 'ExternalName') {
    if (!str(spec.clusterIP) && str(os.clusterIP)) spec.clusterIP = os.clusterIP;
    if (arr(spec.clusterIPs).length === 0 && arr(os.clusterIPs).length > 0) spec.clusterIPs = clone(os.clusterIPs);
    // Families are allocation results too; an update that drops them keeps the old ones.
    if (arr(spec.ipFamilies).length === 0 && arr(os.ipFamilies).length > 0) spec.ipFamilies = clone(os.ipFamilies);
    if (!spec.ipFamilyPolicy && os.ipFamilyPolicy) spec.ipFamilyPolicy = os.ipFamilyPolicy;
  }
  if (needsNodePort(os) && needsNodePort(spec)) {
    const used = (s: any) => new Set(arr(s.ports).map((p: any) => num(p?.nodePort)).filter((n) => n !== 0));
    const oldUsed = used(os);
    const both = new Set([...used(spec)].filter((n) => oldUsed.has(n)));
    const byName = new Map<string, number>(arr(os.ports).map((p: any) => [str(p?.name), num(p?.nodePort)]));
    for (const p of arr(spec.ports)) {
      if (num(p?.nodePort) === 0) {
        const v = byName.get(str(p?.name)) ?? 0;
        if (v && !both.has(v)) p.nodePort = v;
      }
    }
  }
  if (needsHealthCheck(os) && needsHealthCheck(spec) && !num(spec.healthCheckNodePort) && num(os.healthCheckNodePort)) {
    spec.healthCheckNodePort = os.healthCheckNodePort;
  }
  // dropTypeDependentFields: the allocated port goes when the Service stops needing it.
  if (needsHealthCheck(os) && !needsHealthCheck(spec) && num(spec.healthCheckNodePort) !== 0 && num(spec.healthCheckNodePort) === num(os.healthCheckNodePort)) {
    delete spec.healthCheckNodePort;
  }
}

function validatePortNumOrName(port: unknown, field: string): FieldError[] {
  if (typeof port === 'string') return isValidPortName(port).map((m) => invalid(field, port, m));
  const n = typeof port === 'number' ? port : 0;
  return isValidPortNum(n).map((m) => invalid(field, n, m));
}

function validateServicePort(sp: any, requireName: boolean, names: Set<string>, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(sp?.name);
  if (requireName && !name) errs.push(required(child(field, 'name')));
  else if (name) {
    errs.push(...isDNS1123Label(name).map((m) => invalid(child(field, 'name'), name, m)));
    if (names.has(name)) errs.push(duplicate(child(field, 'name'), name));
    else names.add(name);
  }
  for (const m of isValidPortNum(num(sp?.port))) errs.push(invalid(child(field, 'port'), num(sp?.port), m));
  const proto = str(sp?.protocol);
  if (!proto) errs.push(required(child(field, 'protocol')));
  else if (!PROTOCOLS.includes(proto)) errs.push(notSupported(child(field, 'protocol'), proto, PROTOCOLS));
  errs.push(...validatePortNumOrName(sp?.targetPort, child(field, 'targetPort')));
  if (sp?.appProtocol !== undefined && sp?.appProtocol !== null) {
    errs.push(...isQualifiedName(str(sp.appProtocol)).map((m) => invalid(child(field, 'appProtocol'), str(sp.appProtocol), m)));
  }
  return errs;
}

function goServicePortKey(protocol: string, port: number): GoLiteral {
  return new GoLiteral(
    `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol)}, AppProtocol:(*string)(nil), Port:${port}, TargetPort:${goIntOrStringText(0)}, NodePort:0}`,
  );
}

/** ValidateServiceClusterIPsRelatedFields. */
function validateClusterIPs(spec: any): FieldError[] {
  if (spec?.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ips: string[] = arr(spec?.clusterIPs).map(str);
  const cipsPath = 'spec.clusterIPs';
  if (str(spec?.clusterIP)) {
    if (ips.length === 0) errs.push(required(cipsPath));
    else if (ips[0] !== spec.clusterIP) errs.push(invalid(cipsPath, goStringSlice(ips), 'first value must match `clusterIP`'));
  } else if (ips.length !== 0) {
    errs.push(invalid(cipsPath, goStringSlice(ips), 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  arr(spec?.ipFamilies).forEach((f, i) => {
    const fam = str(f);
    if (fam !== 'IPv4' && fam !== 'IPv6') errs.push(notSupported(index('spec.ipFamilies', i), fam, ['IPv4', 'IPv6']));
    if (seen.has(fam)) errs.push(duplicate(index('spec.ipFamilies', i), fam));
    seen.add(fam);
  });
  if (spec?.ipFamilyPolicy !== undefined && spec?.ipFamilyPolicy !== null) {
    const pol = str(spec.ipFamilyPolicy);
    const valid = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
    if (!valid.includes(pol)) errs.push(notSupported('spec.ipFamilyPolicy', pol, valid));
  }
  let bad = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) {
        bad = true;
        errs.push(invalid(cipsPath, goStringSlice(ips), "'None' must be the first and only value"));
      }
      return;
    }
    const e = isValidIP(index(cipsPath, i), ip);
    if (e.length) bad = true;
    errs.push(...e);
  });
  if (ips.length > 2) errs.push(invalid(cipsPath, goStringSlice(ips), 'may only hold up to 2 values'));
  if (bad) return errs;
  if (ips.length > 1) {
    const v6 = ips.map(isIPv6String);
    if (v6[0] === v6[1] || ips.length > 2) errs.push(invalid(cipsPath, goStringSlice(ips), 'may specify no more than one IP for each IP family'));
  }
  const fams: string[] = arr(spec?.ipFamilies).map(str);
  if (!isHeadless(spec) && ips.length > 0 && fams.length > 0) {
    ips.forEach((ip, i) => {
      if (i > fams.length - 1) return;
      if (fams[i] === 'IPv4' && isIPv6String(ip)) errs.push(invalid(index(cipsPath, i), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (fams[i] === 'IPv6' && !isIPv6String(ip)) errs.push(invalid(index(cipsPath, i), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return errs;
}

function validateLoadBalancerClass(spec: any, oldSpec: any | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const cls = spec?.loadBalancerClass;
  if (oldSpec && oldSpec.type === 'LoadBalancer' && spec?.type === 'LoadBalancer' && (oldSpec.loadBalancerClass ?? null) !== (cls ?? null)) {
    errs.push(invalid('spec.loadBalancerClass', cls ?? null, 'may not change once set'));
  }
  if (spec?.type === 'LoadBalancer') {
    if (cls !== undefined && cls !== null) errs.push(...isQualifiedName(str(cls)).map((m) => invalid('spec.loadBalancerClass', str(cls), m)));
  } else if (cls !== undefined && cls !== null) {
    errs.push(forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
  }
  return errs;
}

/** ValidateService on an object already normalized like the registry does. */
export function validateServiceSpecAndMeta(svc: any): FieldError[] {
  const spec = isObj(svc?.spec) ? svc.spec : {};
  const errs = validateObjectMeta(svc?.metadata, true, nameIsDNS1035Label);
  const ann = isObj(svc?.metadata?.annotations) ? svc.metadata.annotations : {};
  if (TOPOLOGY_MODE in ann && TOPOLOGY_HINTS in ann && ann[TOPOLOGY_MODE] !== ann[TOPOLOGY_HINTS]) {
    errs.push(invalid(key('metadata.annotations', TOPOLOGY_MODE), str(ann[TOPOLOGY_MODE]), `must match annotations[${TOPOLOGY_HINTS}] when both are specified`));
  }
  const ports = arr(spec.ports);
  const headless = isHeadless(spec);
  if (ports.length === 0 && !headless && spec.type !== 'ExternalName') errs.push(required('spec.ports'));
  switch (spec.type) {
    case 'LoadBalancer':
      if (headless) errs.push(invalid('spec.clusterIPs[0]', str(spec.clusterIPs[0]), "may not be set to 'None' for LoadBalancer services"));
      break;
    case 'NodePort':
      if (headless) errs.push(invalid('spec.clusterIPs[0]', str(spec.clusterIPs[0]), "may not be set to 'None' for NodePort services"));
      break;
    case 'ExternalName': {
      if (arr(spec.clusterIPs).length > 0) errs.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
      if (arr(spec.ipFamilies).length > 0) errs.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
      if (spec.ipFamilyPolicy !== undefined && spec.ipFamilyPolicy !== null) errs.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
      // The CNAME may end with a dot to mark it fully qualified.
      const cname = str(spec.externalName).replace(/\.$/, '');
      if (cname) errs.push(...isDNS1123Subdomain(cname).map((m) => invalid('spec.externalName', cname, m)));
      else errs.push(required('spec.externalName'));
      break;
    }
  }
  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, ports.length > 1, names, index('spec.ports', i))));
  if (isObj(spec.selector)) errs.push(...validateLabels(spec.selector, 'spec.selector'));
  const aff = str(spec.sessionAffinity);
  if (!aff) errs.push(required('spec.sessionAffinity'));
  else if (aff !== 'ClientIP' && aff !== 'None') errs.push(notSupported('spec.sessionAffinity', aff, ['ClientIP', 'None']));
  if (aff === 'ClientIP') {
    const cfg = spec.sessionAffinityConfig;
    const when = 'when session affinity type is ClientIP';
    if (!isObj(cfg)) errs.push(required('spec.sessionAffinityConfig', when));
    else if (!isObj(cfg.clientIP)) errs.push(required('spec.sessionAffinityConfig.clientIP', when));
    else if (typeof cfg.clientIP.timeoutSeconds !== 'number') errs.push(required('spec.sessionAffinityConfig.clientIP.timeoutSeconds', when));
    else if (cfg.clientIP.timeoutSeconds <= 0 || cfg.clientIP.timeoutSeconds > MAX_CLIENT_IP_AFFINITY_SECONDS) {
      errs.push(invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', cfg.clientIP.timeoutSeconds, `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`));
    }
  } else if (aff === 'None' && spec.sessionAffinityConfig !== undefined && spec.sessionAffinityConfig !== null) {
    errs.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }
  errs.push(...validateClusterIPs(spec));
  arr(spec.externalIPs).forEach((ip, i) => {
    const e = isValidIP(index('spec.externalIPs', i), str(ip));
    errs.push(...(e.length ? e : validateNonSpecialIP(str(ip), index('spec.externalIPs', i))));
  });
  const type = str(spec.type);
  const types = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
  if (!type) errs.push(required('spec.type'));
  else if (!types.includes(type)) errs.push(notSupported('spec.type', type, types));
  if (type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if (num(p?.nodePort) !== 0) errs.push(forbidden(child(index('spec.ports', i), 'nodePort'), "may not be used when `type` is 'ClusterIP'"));
    });
  }
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if (num(p?.nodePort) === 0) return;
    const k = `${str(p.protocol)}/${num(p.nodePort)}`;
    if (nodePorts.has(k)) errs.push(duplicate(child(index('spec.ports', i), 'nodePort'), num(p.nodePort)));
    nodePorts.add(k);
  });
  const portKeys = new Set<string>();
  ports.forEach((p, i) => {
    const k = `${str(p?.protocol)}/${num(p?.port)}`;
    if (portKeys.has(k)) errs.push(duplicate(index('spec.ports', i), goServicePortKey(str(p?.protocol), num(p?.port))));
    portKeys.add(k);
  });
  if (arr(spec.loadBalancerSourceRanges).length > 0) {
    const p = 'spec.LoadBalancerSourceRanges';
    if (type !== 'LoadBalancer') errs.push(forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    arr(spec.loadBalancerSourceRanges).forEach((v, i) => errs.push(...isValidCIDR(index(p, i), str(v).trim())));
  } else if (LB_SOURCE_RANGES in ann) {
    const p = key('metadata.annotations', LB_SOURCE_RANGES);
    if (type !== 'LoadBalancer') errs.push(forbidden(p, "may only be used when `type` is 'LoadBalancer'"));
    const val = str(ann[LB_SOURCE_RANGES]).trim();
    if (val) for (const c of val.split(',')) errs.push(...isValidCIDR(p, c.trim()));
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.allocateLoadBalancerNodePorts !== null && type !== 'LoadBalancer') {
    errs.push(forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  }
  if (type === 'LoadBalancer' && (spec.allocateLoadBalancerNodePorts === undefined || spec.allocateLoadBalancerNodePorts === null)) {
    errs.push(required('allocateLoadBalancerNodePorts'));
  }
  errs.push(...validateLoadBalancerClass(spec, undefined));
  if (!externallyAccessible(spec)) {
    if (str(spec.externalTrafficPolicy)) errs.push(invalid('spec.externalTrafficPolicy', str(spec.externalTrafficPolicy), 'may only be set for externally-accessible services'));
  } else if (!str(spec.externalTrafficPolicy)) errs.push(required('spec.externalTrafficPolicy'));
  else if (!['Cluster', 'Local'].includes(str(spec.externalTrafficPolicy))) errs.push(notSupported('spec.externalTrafficPolicy', str(spec.externalTrafficPolicy), ['Cluster', 'Local']));
  if (!needsHealthCheck(spec)) {
    if (num(spec.healthCheckNodePort) !== 0) {
      errs.push(invalid('spec.healthCheckNodePort', num(spec.healthCheckNodePort), "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
    }
  } else if (num(spec.healthCheckNodePort) !== 0) {
    for (const m of isValidPortNum(num(spec.healthCheckNodePort))) errs.push(invalid('spec.healthCheckNodePort', num(spec.healthCheckNodePort), m));
  }
  if (spec.internalTrafficPolicy === undefined || spec.internalTrafficPolicy === null) {
    if (type === 'NodePort' || type === 'LoadBalancer' || type === 'ClusterIP') errs.push(required('spec.internalTrafficPolicy'));
  } else if (!['Cluster', 'Local'].includes(str(spec.internalTrafficPolicy))) {
    errs.push(notSupported('spec.internalTrafficPolicy', str(spec.internalTrafficPolicy), ['Cluster', 'Local']));
  }
  if (spec.trafficDistribution !== undefined && spec.trafficDistribution !== null && spec.trafficDistribution !== 'PreferClose') {
    errs.push(notSupported('spec.trafficDistribution', str(spec.trafficDistribution), ['PreferClose']));
  }
  return errs;
}

export function validateService(svc: any): FieldError[] {
  const s = clone(svc);
  normalizeServiceClusterIPs(s);
  return validateServiceSpecAndMeta(s);
}

function upgradeDowngradeClusterIPs(oldSpec: any, spec: any): FieldError[] {
  const errs: FieldError[] = [];
  if (spec?.type === 'ExternalName' || oldSpec?.type === 'ExternalName') return errs;
  if (isHeadless(oldSpec) && isHeadless(spec)) return errs;
  const o: string[] = arr(oldSpec?.clusterIPs).map(str);
  const n: string[] = arr(spec?.clusterIPs).map(str);
  const val = goStringSlice(n);
  if (o.length === n.length) {
    o.forEach((ip, i) => {
      if (ip !== n[i]) errs.push(invalid(index('spec.clusterIPs', i), val, 'may not change once set'));
    });
  } else if (o.length > n.length) {
    if (n.length === 0) errs.push(invalid('spec.clusterIPs[0]', val, 'primary clusterIP can not be unset'));
    if (o.length > 0 && n.length > 0 && n[0] !== o[0]) errs.push(invalid('spec.clusterIPs[0]', val, 'may not change once set'));
    if (n.length === 1 && spec?.ipFamilyPolicy !== 'SingleStack') {
      errs.push(invalid('spec.ipFamilyPolicy', spec?.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
    }
  } else if (o.length > 0 && n[0] !== o[0]) {
    errs.push(invalid('spec.clusterIPs[0]', val, 'may not change once set'));
  }
  return errs;
}

function upgradeDowngradeIPFamilies(oldSpec: any, spec: any): FieldError[] {
  const errs: FieldError[] = [];
  if (spec?.type === 'ExternalName' || oldSpec?.type === 'ExternalName') return errs;
  if (isHeadless(oldSpec) !== isHeadless(spec) || isHeadless(spec)) return errs;
  const o: string[] = arr(oldSpec?.ipFamilies).map(str);
  const n: string[] = arr(spec?.ipFamilies).map(str);
  const famVal = goStringSlice(n, '[]core.IPFamily');
  const ipVal = goStringSlice(arr(spec?.clusterIPs).map(str));
  if (o.length === n.length) {
    o.forEach((f, i) => {
      if (f !== n[i]) errs.push(invalid('spec.ipFamilies[0]', famVal, 'may not change once set'));
    });
  } else if (o.length > n.length) {
    if (arr(spec?.clusterIPs).length === 0) errs.push(invalid('spec.ipFamilies[0]', famVal, 'primary ipFamily can not be unset'));
    if (n.length > 0 && n[0] !== o[0]) errs.push(invalid('spec.ipFamilies[0]', ipVal, 'may not change once set'));
    if (n.length === 1 && spec?.ipFamilyPolicy !== 'SingleStack') {
      errs.push(invalid('spec.ipFamilyPolicy', spec?.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary ipFamily"));
    }
  } else if (o.length > 0 && n.length > 0 && n[0] !== o[0]) {
    errs.push(invalid('spec.ipFamilies[0]', ipVal, 'may not change once set'));
  }
  return errs;
}

/** ValidateServiceUpdate, after the registry's normalization of the new object. */
export function validateServiceUpdate(svc: any, old: any): FieldError[] {
  const s = clone(svc);
  normalizeServiceClusterIPs(s, old);
  patchAllocatedServiceValues(s, old);
  const spec = s?.spec ?? {};
  const oldSpec = old?.spec ?? {};
  const errs = validateObjectMetaUpdate(s?.metadata, old?.metadata);
  errs.push(...upgradeDowngradeClusterIPs(oldSpec, spec));
  errs.push(...upgradeDowngradeIPFamilies(oldSpec, spec));
  errs.push(...validateLoadBalancerClass(spec, oldSpec));
  if (needsHealthCheck(oldSpec) && needsHealthCheck(spec) && num(spec.healthCheckNodePort) !== num(oldSpec.healthCheckNodePort)) {
    errs.push(forbidden('spec.healthCheckNodePort', 'field is immutable'));
  }
  return errs.concat(validateServiceSpecAndMeta(s));
}

export { parseIP };
