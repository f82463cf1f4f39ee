import { networkInterfaces } from 'node:os';
import type { Registry } from './registry.js';
import { findResource } from './resources.js';
import { StatusError } from './status.js';
import { serviceIP } from './serviceips.js';
import { SYSTEM_PRIORITY_CLASSES } from './admission/priority.js';

/** What every cluster has from its first start, as upstream's bootstrap controllers create. */
export async function bootstrap(reg: Registry): Promise<void> {
  const namespaces = findResource('', 'v1', 'namespaces')!;
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    await createIfMissing(() => reg.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } }, {}));
  }
  const pcs = findResource('scheduling.k8s.io', 'v1', 'priorityclasses')!;
  for (const pc of SYSTEM_PRIORITY_CLASSES) {
    await createIfMissing(() => reg.create(pcs, undefined, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: pc.name }, value: pc.value, description: pc.description, preemptionPolicy: 'PreemptLowerPriority' }, {}));
  }
  await ensureMandatoryFlowControl(reg);
  const services = findResource('', 'v1', 'services')!;
  await createIfMissing(() =>
    reg.create(
      services,
      'default',
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
        spec: { clusterIP: serviceIP(1), ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }], sessionAffinity: 'None', type: 'ClusterIP' },
      },
      {},
    ),
  );
}

const APF_AUTOUPDATE = { 'apf.kubernetes.io/autoupdate-spec': 'true' };
const ALL_REQUESTS = {
  resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], clusterScope: true, namespaces: ['*'] }],
  nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
};
const group = (name: string) => ({ kind: 'Group', group: { name } });

/**
 * Upstream's mandatory API Priority and Fairness objects (`exempt` and `catch-all`), which every
 * cluster has, so `kubectl get flowschemas,prioritylevelconfigurations` shows what a real one does.
 * Skiff stores them but does not queue requests by them.
 */
async function ensureMandatoryFlowControl(reg: Registry): Promise<void> {
  const levels = findResource('flowcontrol.apiserver.k8s.io', 'v1', 'prioritylevelconfigurations');
  const schemas = findResource('flowcontrol.apiserver.k8s.io', 'v1', 'flowschemas');
  if (!levels || !schemas) return;
  const meta = (name: string) => ({ name, annotations: { ...APF_AUTOUPDATE } });
  const pl = [
    { metadata: meta('exempt'), spec: { type: 'Exempt', exempt: { nominalConcurrencyShares: 0, lendablePercent: 0 } } },
    { metadata: meta('catch-all'), spec: { type: 'Limited', limited: { nominalConcurrencyShares: 5, lendablePercent: 0, limitResponse: { type: 'Reject' } } } },
  ];
  const fs = [
    { metadata: meta('exempt'), spec: { priorityLevelConfiguration: { name: 'exempt' }, matchingPrecedence: 1, rules: [{ subjects: [group('system:masters')], ...ALL_REQUESTS }] } },
    {
      metadata: meta('catch-all'),
      spec: { priorityLevelConfiguration: { name: 'catch-all' }, matchingPrecedence: 10000, distinguisherMethod: { type: 'ByUser' }, rules: [{ subjects: [group('system:unauthenticated'), group('system:authenticated')], ...ALL_REQUESTS }] },
    },
  ];
  for (const o of pl) if (!reg.cache.get(reg.keyFor(levels, undefined, o.metadata.name))) await createIfMissing(() => reg.create(levels, undefined, { apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'PriorityLevelConfiguration', ...o }, {}));
  for (const o of fs) if (!reg.cache.get(reg.keyFor(schemas, undefined, o.metadata.name))) await createIfMissing(() => reg.create(schemas, undefined, { apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'FlowSchema', ...o }, {}));
}

/**
 * Points the `kubernetes` Service at this API server (upstream's endpoint reconciler): an Endpoints
 * and an EndpointSlice with the address pods can reach and the port the server really listens on.
 */
export async function reconcileKubernetesEndpoints(reg: Registry, ip: string, port: number): Promise<void> {
  const endpoints = findResource('', 'v1', 'endpoints')!;
  const slices = findResource('discovery.k8s.io', 'v1', 'endpointslices')!;
  const ep = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip }], ports: [{ name: 'https', port, protocol: 'TCP' }] }],
  };
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [ip], conditions: { ready: true } }],
    ports: [{ name: 'https', port, protocol: 'TCP' }],
  };
  for (const [info, obj] of [[endpoints, ep], [slices, slice]] as const) {
    const cur = reg.cache.get(reg.keyFor(info, 'default', 'kubernetes'));
    if (!cur) await createIfMissing(() => reg.create(info, 'default', structuredClone(obj), {}));
    else await reg.mutate(info, 'default', 'kubernetes', (o) => ({ ...o, ...structuredClone(obj), metadata: { ...o.metadata, labels: obj.metadata.labels } }));
  }
}

/** The address other machines and pods reach this host at: its first non-loopback IPv4. */
export function primaryIPv4(): string | undefined {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

async function createIfMissing(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof StatusError && e.reason === 'AlreadyExists')) throw e;
  }
}
