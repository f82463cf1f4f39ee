/**
 * Service defaulting (SetDefaults_Service) plus the IP family fields the service registry fills
 * before validating (single-stack IPv4 cluster), and clusterIP/clusterIPs syncing.
 */
import { normalizeServiceClusterIPs } from '../validation/service.js';

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): any[] => (Array.isArray(v) ? v : []);
const unset = (v: unknown): boolean => v === undefined || v === null;

/** v1.DefaultClientIPServiceAffinitySeconds: three hours. */
const DEFAULT_CLIENT_IP_TIMEOUT = 10800;

export function defaultService(svc: any): void {
  if (!isObj(svc)) return;
  const spec = (svc.spec ??= {});
  if (!spec.sessionAffinity) spec.sessionAffinity = 'None';
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP' && unset(spec.sessionAffinityConfig?.clientIP?.timeoutSeconds)) {
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: DEFAULT_CLIENT_IP_TIMEOUT } };
  }
  if (!spec.type) spec.type = 'ClusterIP';
  for (const p of arr(spec.ports)) {
    if (!isObj(p)) continue;
    if (!p.protocol) p.protocol = 'TCP';
    if (unset(p.targetPort) || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  const externallyAccessible = spec.type === 'LoadBalancer' || spec.type === 'NodePort' || (spec.type === 'ClusterIP' && arr(spec.externalIPs).length > 0);
  if (externallyAccessible && !spec.externalTrafficPolicy) spec.externalTrafficPolicy = 'Cluster';
  if (unset(spec.internalTrafficPolicy) && ['NodePort', 'LoadBalancer', 'ClusterIP'].includes(spec.type)) spec.internalTrafficPolicy = 'Cluster';
  if (spec.type === 'LoadBalancer') {
    if (unset(spec.allocateLoadBalancerNodePorts)) spec.allocateLoadBalancerNodePorts = true;
    for (const ing of arr(svc.status?.loadBalancer?.ingress)) if (isObj(ing) && ing.ip && unset(ing.ipMode)) ing.ipMode = 'VIP';
  }
  normalizeServiceClusterIPs(svc);
  defaultIPFamilies(spec);
}

/** initIPFamilyFields for a single-stack IPv4 cluster. */
function defaultIPFamilies(spec: any): void {
  if (spec.type === 'ExternalName') return;
  if (arr(spec.ipFamilies).length > 0) {
    if (unset(spec.ipFamilyPolicy)) spec.ipFamilyPolicy = spec.ipFamilies.length > 1 ? 'RequireDualStack' : 'SingleStack';
    return;
  }
  const ips = arr(spec.clusterIPs);
  if (ips.length === 1 && ips[0] === 'None') {
    // Headless services without a selector may front endpoints of either family.
    if (!isObj(spec.selector) || Object.keys(spec.selector).length === 0) {
      if (unset(spec.ipFamilyPolicy)) spec.ipFamilyPolicy = 'PreferDualStack';
      spec.ipFamilies = ['IPv4', 'IPv6'];
    } else {
      if (unset(spec.ipFamilyPolicy)) spec.ipFamilyPolicy = 'SingleStack';
      spec.ipFamilies = ['IPv4'];
    }
    return;
  }
  spec.ipFamilies = ips.length ? ips.map((ip: string) => (String(ip).includes(':') ? 'IPv6' : 'IPv4')) : ['IPv4'];
  if (unset(spec.ipFamilyPolicy)) spec.ipFamilyPolicy = spec.ipFamilies.length > 1 ? 'RequireDualStack' : 'SingleStack';
}
