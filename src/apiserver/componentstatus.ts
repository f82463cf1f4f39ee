/**
 * v1 ComponentStatus (`kubectl get componentstatuses`, `kubectl get cs`): deprecated upstream since
 * 1.19 but still served, and still in many tutorials. Upstream probes each component's health port
 * from the API server; Skiff's components may run in other processes or on other machines, so the
 * scheduler and the controller manager count as healthy while their leader Lease is renewed, and
 * etcd-0 is the datastore answering a read.
 */
import type { Registry } from './registry.js';
import { findResource } from './resources.js';
import { StatusError } from './status.js';

export const COMPONENT_STATUS_WARNING = 'v1 ComponentStatus is deprecated in v1.19+';

/** Component → its leader-election Lease in kube-system. */
const LEADERS: [string, string][] = [
  ['scheduler', 'kube-scheduler'],
  ['controller-manager', 'kube-controller-manager'],
];

function componentStatus(name: string, healthy: boolean, message: string, error?: string): any {
  const condition: Record<string, string> = { type: 'Healthy', status: healthy ? 'True' : 'False', message };
  if (error) condition.error = error;
  return { kind: 'ComponentStatus', apiVersion: 'v1', metadata: { name }, conditions: [condition] };
}

/** A component's status from its leader Lease (undefined: no Lease). */
export function leaderStatus(component: string, leaseName: string, lease: any, nowMs: number): any {
  const spec = lease?.spec;
  if (!spec) return componentStatus(component, false, '', `no leader: Lease kube-system/${leaseName} not found`);
  const renewed = Date.parse(spec.renewTime ?? spec.acquireTime ?? '');
  const ttlMs = (spec.leaseDurationSeconds ?? 15) * 1000;
  if (!spec.holderIdentity || !Number.isFinite(renewed) || nowMs - renewed > ttlMs) {
    const ago = Number.isFinite(renewed) ? `${Math.round((nowMs - renewed) / 1000)}s ago` : 'never';
    return componentStatus(component, false, '', `no leader: Lease kube-system/${leaseName} last renewed ${ago} (lease duration ${ttlMs / 1000}s)`);
  }
  return componentStatus(component, true, 'ok');
}

/** Every ComponentStatus, in upstream's order (scheduler, controller-manager, etcd-0). */
export async function componentStatuses(reg: Registry, nowMs = Date.now()): Promise<any[]> {
  const leases = findResource('coordination.k8s.io', 'v1', 'leases')!;
  const out: any[] = [];
  for (const [component, leaseName] of LEADERS) {
    const lease = await reg.get(leases, 'kube-system', leaseName).then(
      (x) => reg.output(leases, x),
      () => undefined,
    );
    out.push(leaderStatus(component, leaseName, lease, nowMs));
  }
  try {
    await reg.backend.currentRevision();
    out.push(componentStatus('etcd-0', true, '{"health":"true"}'));
  } catch (e) {
    out.push(componentStatus('etcd-0', false, '', (e as Error).message));
  }
  return out;
}

/** GET componentstatuses or componentstatuses/NAME. */
export async function getComponentStatuses(reg: Registry, name: string | undefined): Promise<any> {
  const items = await componentStatuses(reg);
  if (name === undefined) return { kind: 'ComponentStatusList', apiVersion: 'v1', metadata: {}, items };
  const one = items.find((x) => x.metadata.name === name);
  if (!one) throw new StatusError(404, 'NotFound', `componentstatuses "${name}" not found`, { name, kind: 'componentstatuses' });
  return one;
}
