/** networking.k8s.io/v1: Ingresses, IngressClasses and NetworkPolicies. */
import type { Printer } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, col, len, str } from './common.js';
import { EXTENSIONS } from './descriptions.js';
import { formatAge } from './duration.js';
import { formatLabelSelector } from './labels.js';
import { loadBalancerIngress } from './services.js';

/** formatHosts: up to three rule hosts, "*" when no rule names a host. */
function formatHosts(rules: any[] | undefined): string {
  const rs = Array.isArray(rules) ? rules : [];
  const max = 3;
  const list: string[] = [];
  let more = false;
  for (const rule of rs) {
    if (list.length === max) more = true;
    if (!more && str(rule?.host) !== '') list.push(rule.host);
  }
  if (list.length === 0) return '*';
  const ret = list.join(',');
  // Upstream counts every rule here, hostless ones included.
  return more ? `${ret} + ${rs.length - max} more...` : ret;
}

export const ingressPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Class', 'string', 'The name of the IngressClass resource that should be used for additional configuration'),
    col('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule'),
    col('Address', 'string', 'Address is a list containing ingress points for the load-balancer'),
    col('Ports', 'string', 'Ports of TLS configurations that open'),
    AGE_COLUMN,
  ],
  cells(ing: any, now: Date): unknown[] {
    const spec = ing?.spec ?? {};
    return [
      str(ing?.metadata?.name),
      typeof spec.ingressClassName === 'string' ? spec.ingressClassName : '<none>',
      formatHosts(spec.rules),
      loadBalancerIngress(ing?.status?.loadBalancer),
      // Upstream reports the fixed HTTP/HTTPS ports, not anything from the controller.
      len(spec.tls) !== 0 ? '80, 443' : '80',
      formatAge(ing?.metadata?.creationTimestamp, now),
    ];
  },
};

export const ingressClassPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Controller', 'string', 'Controller that is responsible for handling this class'),
    col('Parameters', 'string', 'A reference to a resource with additional parameters'),
    AGE_COLUMN,
  ],
  cells(ic: any, now: Date): unknown[] {
    const p = ic?.spec?.parameters;
    let parameters = '<none>';
    if (p && typeof p === 'object') {
      parameters = str(p.kind);
      if (typeof p.apiGroup === 'string') parameters += '.' + p.apiGroup;
      parameters += '/' + str(p.name);
    }
    return [
      str(ic?.metadata?.name),
      str(ic?.spec?.controller),
      parameters,
      formatAge(ic?.metadata?.creationTimestamp, now),
    ];
  },
};

export const networkPolicyPrinter: Printer = {
  columns: [NAME_COLUMN, col('Pod-Selector', 'string', EXTENSIONS.networkPolicyPodSelector), AGE_COLUMN],
  cells(np: any, now: Date): unknown[] {
    // podSelector is a struct, never nil upstream: absent means "select all", shown as "<none>".
    const selector = np?.spec?.podSelector ?? {};
    return [str(np?.metadata?.name), formatLabelSelector(selector), formatAge(np?.metadata?.creationTimestamp, now)];
  },
};
