/** Service discovery: core/v1 Services and Endpoints, discovery.k8s.io/v1 EndpointSlices. */
import type { Printer } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, col, int, listWithMore, sortedUnique, str, wide } from './common.js';
import { ENDPOINTS_SUBSETS, ENDPOINT_SLICE, SERVICE } from './descriptions.js';
import { formatAge } from './duration.js';
import { formatLabels } from './labels.js';

/**
 * loadBalancerStatusStringer with wide=true (server-side printing is always wide, so the
 * 16-character clipping kubectl once did never applies): unique IPs or hostnames, sorted.
 */
export function loadBalancerIngress(status: any): string {
  const ingress: any[] = Array.isArray(status?.ingress) ? status.ingress : [];
  const out: string[] = [];
  for (const i of ingress) {
    if (str(i?.ip) !== '') out.push(i.ip);
    else if (str(i?.hostname) !== '') out.push(i.hostname);
  }
  return sortedUnique(out).join(',');
}

/** The External-IP cell by service type. */
function externalIP(svc: any, type: string): string {
  const externalIPs: string[] = Array.isArray(svc?.spec?.externalIPs) ? svc.spec.externalIPs.map(str) : [];
  switch (type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerIngress(svc?.status?.loadBalancer);
      if (externalIPs.length > 0) {
        const results = lb.length > 0 ? lb.split(',') : [];
        return [...results, ...externalIPs].join(',');
      }
      // The cloud provider has not assigned an address yet.
      return lb.length > 0 ? lb : '<pending>';
    }
    case 'ExternalName':
      return str(svc?.spec?.externalName);
  }
  return '<unknown>';
}

/** "80/TCP,443:30443/TCP". */
function portString(ports: any[] | undefined): string {
  if (!Array.isArray(ports)) return '';
  return ports
    .map((p) => {
      // The API server defaults the protocol to TCP.
      const protocol = str(p?.protocol) === '' ? 'TCP' : str(p.protocol);
      const nodePort = int(p?.nodePort);
      return nodePort > 0 ? `${int(p?.port)}:${nodePort}/${protocol}` : `${int(p?.port)}/${protocol}`;
    })
    .join(',');
}

/**
 * The Cluster-IP cell: the internal type's clusterIPs[0], which converting from v1 takes
 * from clusterIP when that is set ("None" for headless services).
 */
function clusterIP(spec: any): string {
  const ip = str(spec?.clusterIP);
  if (ip !== '') return ip;
  const first = str(spec?.clusterIPs?.[0]);
  return first !== '' ? first : '<none>';
}

export const servicePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Type', 'string', SERVICE.type),
    col('Cluster-IP', 'string', SERVICE.clusterIP),
    col('External-IP', 'string', SERVICE.externalIPs),
    col('Port(s)', 'string', SERVICE.ports),
    AGE_COLUMN,
    wide('Selector', 'string', SERVICE.selector),
  ],
  cells(svc: any, now: Date): unknown[] {
    const spec = svc?.spec ?? {};
    // The API server defaults the type to ClusterIP.
    const type = str(spec.type) === '' ? 'ClusterIP' : str(spec.type);
    const ports = portString(spec.ports);
    return [
      str(svc?.metadata?.name),
      type,
      clusterIP(spec),
      externalIP(svc, type),
      ports === '' ? '<none>' : ports,
      formatAge(svc?.metadata?.creationTimestamp, now),
      formatLabels(spec.selector),
    ];
  },
};

/** net.JoinHostPort: IPv6 addresses are bracketed. */
function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** formatEndpoints with all ports: the first three ready "ip:port" pairs, then "+ N more...". */
export function formatEndpoints(ep: any): string {
  const subsets: any[] = Array.isArray(ep?.subsets) ? ep.subsets : [];
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addresses: any[] = Array.isArray(ss?.addresses) ? ss.addresses : [];
    const ports: any[] = Array.isArray(ss?.ports) ? ss.ports : [];
    if (ports.length === 0) {
      // Headless services may have no ports: list bare IPs.
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(str(a?.ip));
      }
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(joinHostPort(str(a?.ip), int(port?.port)));
      }
    }
  }
  const ret = list.join(',');
  return more ? `${ret} + ${count - max} more...` : ret;
}

export const endpointsPrinter: Printer = {
  columns: [NAME_COLUMN, col('Endpoints', 'string', ENDPOINTS_SUBSETS), AGE_COLUMN],
  cells(ep: any, now: Date): unknown[] {
    return [str(ep?.metadata?.name), formatEndpoints(ep), formatAge(ep?.metadata?.creationTimestamp, now)];
  },
};

/** formatDiscoveryPorts: port numbers (or names, or "*" for all ports), at most three. */
function discoveryPorts(ports: any[] | undefined): string {
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const p of Array.isArray(ports) ? ports : []) {
    if (list.length < max) {
      let portNum = '*';
      if (typeof p?.port === 'number') portNum = String(Math.trunc(p.port));
      else if (typeof p?.name === 'string') portNum = p.name;
      list.push(portNum);
    } else if (list.length === max) {
      more = true;
    }
    count++;
  }
  return listWithMore(list, more, count, max);
}

/** formatDiscoveryEndpoints: the first three addresses across all endpoints. */
function discoveryEndpoints(endpoints: any[] | undefined): string {
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const e of Array.isArray(endpoints) ? endpoints : []) {
    for (const address of Array.isArray(e?.addresses) ? e.addresses : []) {
      if (list.length < max) list.push(str(address));
      else if (list.length === max) more = true;
      count++;
    }
  }
  return listWithMore(list, more, count, max);
}

export const endpointSlicePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('AddressType', 'string', ENDPOINT_SLICE.addressType),
    col('Ports', 'string', ENDPOINT_SLICE.ports),
    col('Endpoints', 'string', ENDPOINT_SLICE.endpoints),
    AGE_COLUMN,
  ],
  cells(es: any, now: Date): unknown[] {
    return [
      str(es?.metadata?.name),
      str(es?.addressType),
      discoveryPorts(es?.ports),
      discoveryEndpoints(es?.endpoints),
      formatAge(es?.metadata?.creationTimestamp, now),
    ];
  },
};
