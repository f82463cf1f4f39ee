import { randomInt } from 'node:crypto';
import type { Registry } from './registry.js';
import { REGISTRY_PREFIX } from './watchcache.js';
import { invalid } from './status.js';
import type { FieldError } from './validation/types.js';

/**
 * ClusterIP and NodePort allocation for Services, with upstream rules: a requested address is
 * honoured if free and in range, conflicts are refused, and addresses are free again once the
 * Service is gone (in-use addresses are derived from the stored Services, so nothing leaks).
 */
export interface ServiceNetwork {
  cidr: string;
  nodePortMin: number;
  nodePortMax: number;
}

let network: ServiceNetwork = { cidr: '10.96.0.0/12', nodePortMin: 30000, nodePortMax: 32767 };

export function configureServiceNetwork(n: Partial<ServiceNetwork>): void {
  network = { ...network, ...n };
}

export function ipToInt(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function range(): { base: number; size: number } {
  const [ip, bits] = network.cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return { base: ipToInt(ip)!, size };
}

/** The n-th address of the service range (1 is the `kubernetes` Service, 10 is cluster DNS). */
export function serviceIP(n: number): string {
  return intToIp(range().base + n);
}

const needsHealthCheck = (spec: any): boolean => spec?.type === 'LoadBalancer' && spec?.externalTrafficPolicy === 'Local';

/**
 * spec.healthCheckNodePort, as upstream's service REST storage: a LoadBalancer Service with
 * externalTrafficPolicy Local gets one (kept across updates, or the one asked for if free and in
 * range); one that stops needing it has the old value dropped (dropTypeDependentFields).
 */
function allocateHealthCheckNodePort(spec: any, oldSpec: any, used: Set<number>, mine: Set<number>, errs: FieldError[]): void {
  const oldPort = needsHealthCheck(oldSpec) ? oldSpec.healthCheckNodePort : undefined;
  if (!needsHealthCheck(spec)) {
    if (oldPort && spec.healthCheckNodePort === oldPort) delete spec.healthCheckNodePort;
    return;
  }
  if (!spec.healthCheckNodePort && oldPort) spec.healthCheckNodePort = oldPort;
  // A Service stored by an older Skiff needed one and has none: giving it one now would trip the
  // field's immutability on every update, so it stays without.
  if (!spec.healthCheckNodePort && needsHealthCheck(oldSpec)) return;
  const want = spec.healthCheckNodePort;
  if (want) {
    if (want === oldPort) return;
    if (want < network.nodePortMin || want > network.nodePortMax) {
      errs.push({ type: 'FieldValueInvalid', field: 'spec.healthCheckNodePort', message: `Invalid value: ${want}: provided port is not in the valid range. The range of valid ports is ${network.nodePortMin}-${network.nodePortMax}` });
    } else if (used.has(want) || mine.has(want)) {
      errs.push({ type: 'FieldValueInvalid', field: 'spec.healthCheckNodePort', message: `Invalid value: ${want}: provided port is already allocated` });
    }
    mine.add(want);
    return;
  }
  const span = network.nodePortMax - network.nodePortMin + 1;
  for (let i = 0; i < span; i++) {
    const port = network.nodePortMin + ((randomInt(span) + i) % span);
    if (!used.has(port) && !mine.has(port)) {
      spec.healthCheckNodePort = port;
      mine.add(port);
      return;
    }
  }
  errs.push({ type: 'FieldValueInvalid', field: 'spec.healthCheckNodePort', message: 'Internal error: range is full' });
}

/**
 * Addresses handed out whose Service the watch cache may not hold yet: the write follows allocation
 * and the store commits writes in groups, so a concurrent request must still see them as taken.
 * Kept until a Service with that uid is in the cache, or for RESERVATION_MS (its write failed).
 */
const reservations = new WeakMap<Registry, Map<string, { spec: any; until: number }>>();
const RESERVATION_MS = 10_000;

function reservedSpecs(reg: Registry, uid: string | undefined): any[] {
  const m = reservations.get(reg);
  if (!m?.size) return [];
  const now = Date.now();
  const cached = new Set(reg.cache.list('services', `${REGISTRY_PREFIX}services/`).map((c) => c.obj.metadata?.uid));
  const out: any[] = [];
  for (const [u, r] of m) {
    if (cached.has(u) || r.until < now) m.delete(u);
    else if (u !== uid) out.push(r.spec);
  }
  return out;
}

export async function allocateServiceAddresses(reg: Registry, svc: any, old: any | undefined): Promise<void> {
  await allocate(reg, svc, old);
  const uid = svc.metadata?.uid;
  if (uid) {
    let m = reservations.get(reg);
    if (!m) reservations.set(reg, (m = new Map()));
    m.set(uid, { spec: { clusterIP: svc.spec?.clusterIP, healthCheckNodePort: svc.spec?.healthCheckNodePort, ports: (svc.spec?.ports ?? []).map((p: any) => ({ nodePort: p?.nodePort })) }, until: Date.now() + RESERVATION_MS });
  }
}

async function allocate(reg: Registry, svc: any, old: any | undefined): Promise<void> {
  const spec = (svc.spec ??= {});
  const name = svc.metadata?.name ?? '';
  const errs: FieldError[] = [];
  const others = reg.cache.list('services', `${REGISTRY_PREFIX}services/`).filter((c) => c.obj.metadata.uid !== svc.metadata.uid);
  for (const r of reservedSpecs(reg, svc.metadata?.uid)) others.push({ key: '', obj: { metadata: {}, spec: r }, raw: '', rv: 0 });
  if (spec.type === 'ExternalName') {
    delete spec.clusterIP;
    delete spec.clusterIPs;
  } else if (spec.clusterIP !== 'None') {
    if (!spec.clusterIP && old?.spec?.clusterIP) spec.clusterIP = old.spec.clusterIP;
    if (!spec.clusterIP && spec.clusterIPs?.[0]) spec.clusterIP = spec.clusterIPs[0];
    const used = new Set(others.map((c) => c.obj.spec?.clusterIP).filter(Boolean));
    const { base, size } = range();
    if (spec.clusterIP && spec.clusterIP !== old?.spec?.clusterIP) {
      const n = ipToInt(spec.clusterIP);
      if (n === undefined || n <= base || n >= base + size - 1) {
        errs.push({ type: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: ["${spec.clusterIP}"]: failed to allocate IP ${spec.clusterIP}: provided IP is not in the valid range. The range of valid IPs is ${network.cidr}` });
      } else if (used.has(spec.clusterIP)) {
        errs.push({ type: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: ["${spec.clusterIP}"]: failed to allocate IP ${spec.clusterIP}: provided IP is already allocated` });
      }
    } else if (!spec.clusterIP) {
      // Random probing as upstream; the low 1/16 of the range is kept for static (requested) addresses.
      const lowEnd = Math.min(Math.max(16, Math.floor(size / 16)), 256);
      for (let i = 0; i < 1000 && !spec.clusterIP; i++) {
        const n = base + lowEnd + randomInt(size - lowEnd - 1);
        const ip = intToIp(n);
        if (!used.has(ip)) spec.clusterIP = ip;
      }
      if (!spec.clusterIP) {
        for (let n = base + 1; n < base + size - 1; n++) {
          if (!used.has(intToIp(n))) {
            spec.clusterIP = intToIp(n);
            break;
          }
        }
      }
      if (!spec.clusterIP) errs.push({ type: 'FieldValueInvalid', field: 'spec.clusterIPs', message: 'Internal error: range is full' });
    }
    if (spec.clusterIP) spec.clusterIPs = [spec.clusterIP];
  } else {
    spec.clusterIPs = ['None'];
  }
  // healthCheckNodePort comes from the NodePort range too (LoadBalancer with externalTrafficPolicy Local).
  const usedPorts = new Set<number>();
  for (const c of others) {
    for (const p of c.obj.spec?.ports ?? []) if (p.nodePort) usedPorts.add(p.nodePort);
    if (c.obj.spec?.healthCheckNodePort) usedPorts.add(c.obj.spec.healthCheckNodePort);
  }
  const mine = new Set<number>();
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    const oldPorts = new Set<number>((old?.spec?.ports ?? []).map((p: any) => p.nodePort).filter(Boolean));
    (spec.ports ?? []).forEach((p: any, i: number) => {
      if (p.nodePort) {
        if (p.nodePort < network.nodePortMin || p.nodePort > network.nodePortMax) {
          errs.push({ type: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, message: `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is ${network.nodePortMin}-${network.nodePortMax}` });
        } else if ((usedPorts.has(p.nodePort) || mine.has(p.nodePort)) && !oldPorts.has(p.nodePort)) {
          errs.push({ type: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, message: `Invalid value: ${p.nodePort}: provided port is already allocated` });
        }
        mine.add(p.nodePort);
      }
    });
    for (const p of spec.ports ?? []) {
      if (p.nodePort) continue;
      const span = network.nodePortMax - network.nodePortMin + 1;
      for (let i = 0; i < span; i++) {
        const port = network.nodePortMin + ((randomInt(span) + i) % span);
        if (!usedPorts.has(port) && !mine.has(port)) {
          p.nodePort = port;
          mine.add(port);
          break;
        }
      }
    }
  } else {
    for (const p of spec.ports ?? []) delete p.nodePort;
  }
  allocateHealthCheckNodePort(spec, old?.spec, usedPorts, mine, errs);
  if (errs.length) {
    const msg = errs.length === 1 ? `Service "${name}" is invalid: ${errs[0].field}: ${errs[0].message}` : `Service "${name}" is invalid: [${errs.map((e) => `${e.field}: ${e.message}`).join(', ')}]`;
    throw invalid('', 'Service', name, errs, msg);
  }
}
