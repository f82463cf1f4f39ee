/**
 * The core/v1 Endpoints object a Service's pods give (upstream's endpoints controller): ready pods
 * under `addresses`, the others under `notReadyAddresses`, addresses that share the same ports
 * packed into one subset, sorted so that equal content compares equal.
 */
import { isPodReady } from '../controller.js';
import { MAX_ENDPOINTS_ADDRESSES, OVER_CAPACITY_ANNOTATION, SKIP_MIRROR_LABEL, findPort, podHostname, serviceLabels, shouldPodBeInEndpoints } from './endpoints.js';

export function desiredSubsets(svc: any, pods: any[]): any[] {
  const tolerateUnready = !!svc.spec?.publishNotReadyAddresses;
  // address ip → { address, ready, ports }
  const byAddr = new Map<string, { addr: any; ready: boolean; ports: Map<string, any> }>();
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, tolerateUnready) || String(pod.status.podIP).startsWith('127.')) continue;
    const ip = pod.status.podIP as string;
    const addr: any = { ip, nodeName: pod.spec?.nodeName, targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid } };
    if (!addr.nodeName) delete addr.nodeName;
    const hn = podHostname(pod, svc);
    if (hn) addr.hostname = hn;
    const ready = tolerateUnready || isPodReady(pod);
    const entry = { addr, ready, ports: new Map<string, any>() };
    for (const sp of svc.spec?.ports ?? []) {
      const port = findPort(pod, sp);
      if (port === undefined) continue;
      const p: any = { name: sp.name || undefined, port, protocol: sp.protocol ?? 'TCP' };
      if (!p.name) delete p.name;
      if (sp.appProtocol) p.appProtocol = sp.appProtocol;
      entry.ports.set(`${p.name ?? ''}/${p.port}/${p.protocol}`, p);
    }
    // A Service with ports but none resolvable on this pod contributes nothing for it.
    if ((svc.spec?.ports ?? []).length && !entry.ports.size) continue;
    byAddr.set(ip, entry);
  }
  // Repack: addresses that share a port set form one subset (upstream RepackSubsets).
  const subsets = new Map<string, { ports: any[]; addresses: any[]; notReadyAddresses: any[] }>();
  for (const e of byAddr.values()) {
    const ports = [...e.ports.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, p]) => p);
    const k = JSON.stringify(ports);
    let s = subsets.get(k);
    if (!s) subsets.set(k, (s = { ports, addresses: [], notReadyAddresses: [] }));
    (e.ready ? s.addresses : s.notReadyAddresses).push(e.addr);
  }
  const byIP = (a: any, b: any) => compareIP(a.ip, b.ip);
  const out: any[] = [];
  for (const s of [...subsets.values()].sort((a, b) => (JSON.stringify(a.ports) < JSON.stringify(b.ports) ? -1 : 1))) {
    const sub: any = {};
    if (s.addresses.length) sub.addresses = s.addresses.sort(byIP);
    if (s.notReadyAddresses.length) sub.notReadyAddresses = s.notReadyAddresses.sort(byIP);
    if (s.ports.length) sub.ports = s.ports;
    out.push(sub);
  }
  return out;
}

function compareIP(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/**
 * The whole Endpoints object for `svc` (labels: the Service's, plus skip-mirror so the mirroring
 * controller leaves it alone), truncated to 1000 addresses with the over-capacity annotation.
 */
export function desiredEndpointsObject(svc: any, pods: any[], existing: any | undefined, triggerTime?: string): any {
  let subsets = desiredSubsets(svc, pods);
  const annotations: Record<string, string> = { ...(existing?.metadata?.annotations ?? {}) };
  delete annotations[OVER_CAPACITY_ANNOTATION];
  const total = subsets.reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0);
  if (total > MAX_ENDPOINTS_ADDRESSES) {
    annotations[OVER_CAPACITY_ANNOTATION] = 'truncated';
    subsets = truncate(subsets, MAX_ENDPOINTS_ADDRESSES);
  }
  if (triggerTime) annotations['endpoints.kubernetes.io/last-change-trigger-time'] = triggerTime;
  const metadata: any = { ...(existing?.metadata ?? {}), name: svc.metadata.name, namespace: svc.metadata.namespace, labels: { ...serviceLabels(svc), [SKIP_MIRROR_LABEL]: 'true' } };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  const out: any = { apiVersion: 'v1', kind: 'Endpoints', metadata };
  if (subsets.length) out.subsets = subsets;
  return out;
}

function truncate(subsets: any[], max: number): any[] {
  let left = max;
  const out: any[] = [];
  for (const s of subsets) {
    if (left <= 0) break;
    const c = { ...s };
    if (c.addresses) {
      c.addresses = c.addresses.slice(0, left);
      left -= c.addresses.length;
    }
    if (c.notReadyAddresses) {
      c.notReadyAddresses = c.notReadyAddresses.slice(0, Math.max(0, left));
      left -= c.notReadyAddresses.length;
      if (!c.notReadyAddresses.length) delete c.notReadyAddresses;
    }
    out.push(c);
  }
  return out;
}
