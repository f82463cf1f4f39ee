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
    if (reg.cache.get(reg.keyFor(pcs, undefined, pc.name))) continue;
    await createIfMissing(() => reg.create(pcs, undefined, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: pc.name }, value: pc.value, description: pc.description, preemptionPolicy: 'PreemptLowerPriority' }, {}));
  }
  const services = findResource('', 'v1', 'services')!;
  if (reg.cache.get(reg.keyFor(services, 'default', 'kubernetes'))) return;
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

async function createIfMissing(fn: () => Promise<unknown>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof StatusError && e.reason === 'AlreadyExists')) throw e;
  }
}
