import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { allocateServiceAddresses } from './serviceips.js';
import { validateServiceUpdate } from './validation/service.js';

/** Just what allocation reads of the registry: the stored Services. */
const fakeRegistry = (stored: any[]) => ({ cache: { list: () => stored.map((obj) => ({ key: '', obj, raw: '', rv: 0 })) } }) as any;
const lb = (name: string, spec: any = {}) => ({
  metadata: { name, namespace: 'default', uid: `uid-${name}` },
  spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', allocateLoadBalancerNodePorts: true, ports: [{ port: 80, protocol: 'TCP' }], ...spec },
});

describe('Service healthCheckNodePort', () => {
  it('is allocated for LoadBalancer + externalTrafficPolicy Local, apart from every node port in use', async () => {
    const other = lb('other', { clusterIP: '10.96.0.50', healthCheckNodePort: 30001, ports: [{ port: 80, nodePort: 30002 }] });
    const svc = lb('web');
    await allocateServiceAddresses(fakeRegistry([other]), svc, undefined);
    const hc = svc.spec.healthCheckNodePort;
    assert.ok(hc >= 30000 && hc <= 32767, String(hc));
    assert.ok(![30001, 30002, (svc.spec.ports[0] as any).nodePort].includes(hc));
    // Cluster policy, or not a LoadBalancer: none.
    const cluster = lb('c', { externalTrafficPolicy: 'Cluster' });
    await allocateServiceAddresses(fakeRegistry([]), cluster, undefined);
    assert.equal((cluster.spec as any).healthCheckNodePort, undefined);
  });

  it('keeps its port across updates, refuses one in use, and drops it when the policy becomes Cluster', async () => {
    const old = lb('web', { clusterIP: '10.96.0.60', healthCheckNodePort: 31000, ports: [{ port: 80, nodePort: 31001 }] });
    const kept = lb('web', { clusterIP: '10.96.0.60', ports: [{ port: 80, nodePort: 31001 }] });
    await allocateServiceAddresses(fakeRegistry([old]), kept, old);
    assert.equal(kept.spec.healthCheckNodePort, 31000);
    // One stored without (by an older Skiff) stays without: the field is immutable.
    const legacy = lb('web', { clusterIP: '10.96.0.60', ports: [{ port: 80, nodePort: 31001 }] });
    const touched = lb('web', { clusterIP: '10.96.0.60', ports: [{ port: 80, nodePort: 31001 }] });
    await allocateServiceAddresses(fakeRegistry([legacy]), touched, legacy);
    assert.equal((touched.spec as any).healthCheckNodePort, undefined);
    const other = lb('other', { clusterIP: '10.96.0.61', healthCheckNodePort: 31005 });
    await assert.rejects(allocateServiceAddresses(fakeRegistry([other]), lb('x', { healthCheckNodePort: 31005 }), undefined), /spec.healthCheckNodePort: Invalid value: 31005: provided port is already allocated/);
    // kubectl patch -p '{"spec":{"externalTrafficPolicy":"Cluster"}}' keeps the old value in the object.
    const toCluster = lb('web', { clusterIP: '10.96.0.60', externalTrafficPolicy: 'Cluster', healthCheckNodePort: 31000, ports: [{ port: 80, nodePort: 31001 }] });
    assert.deepEqual(validateServiceUpdate(toCluster, old).filter((e) => e.field === 'spec.healthCheckNodePort'), []);
    await allocateServiceAddresses(fakeRegistry([old]), toCluster, old);
    assert.equal((toCluster.spec as any).healthCheckNodePort, undefined);
  });
});
