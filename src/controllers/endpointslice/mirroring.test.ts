import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mirroredEndpoints, mirrorMeta, shouldMirror } from './mirroring.js';
import { planSlices } from './slices.js';
import { MANAGED_BY_LABEL, MIRROR_CONTROLLER_NAME, SERVICE_NAME_LABEL, SKIP_MIRROR_LABEL } from './endpoints.js';

const svc = (spec: any = {}) => ({ metadata: { name: 'db', namespace: 'default', uid: 'svc-uid' }, spec: { ports: [{ name: 'pg', port: 5432 }], ...spec } });
const eps = (o: { labels?: Record<string, string>; subsets?: any[] } = {}) => ({
  metadata: { name: 'db', namespace: 'default', uid: 'ep-uid', labels: o.labels ?? { team: 'a' } },
  subsets: o.subsets ?? [
    { addresses: [{ ip: '192.0.2.10', hostname: 'db-0', nodeName: 'n1' }, { ip: '192.0.2.11' }], notReadyAddresses: [{ ip: '192.0.2.12' }], ports: [{ name: 'pg', port: 5432 }] },
    { addresses: [{ ip: '192.0.2.20' }, { ip: 'fd00::1' }], ports: [{ name: 'pg', port: 6432, protocol: 'TCP' }] },
  ],
});

describe('endpointslice mirroring', () => {
  it('mirrors only hand-written Endpoints of selector-less Services', () => {
    assert.equal(shouldMirror(eps(), svc()), true);
    assert.equal(shouldMirror(eps(), svc({ selector: { app: 'db' } })), false, 'the EndpointSlice controller has it');
    assert.equal(shouldMirror(eps(), undefined), false, 'no Service');
    assert.equal(shouldMirror(eps({ labels: { [SKIP_MIRROR_LABEL]: 'true' } }), svc()), false, 'skip-mirror');
    assert.equal(shouldMirror(eps(), svc({ type: 'ExternalName', externalName: 'x.example' })), false);
  });

  it('makes one slice per port set, ready from addresses, not ready from notReadyAddresses, owned by the Endpoints', () => {
    const e = eps();
    const plan = planSlices(svc(), mirroredEndpoints(e), [], undefined, { meta: mirrorMeta(e), placeholder: false });
    assert.equal(plan.create.length, 2);
    const [a, b] = plan.create.sort((x, y) => x.ports[0].port - y.ports[0].port);
    assert.deepEqual(a.ports, [{ name: 'pg', port: 5432, protocol: 'TCP' }]);
    assert.deepEqual(
      a.endpoints.map((x: any) => [x.addresses[0], x.conditions.ready, x.hostname ?? null, x.nodeName ?? null]),
      [
        ['192.0.2.10', true, 'db-0', 'n1'],
        ['192.0.2.11', true, null, null],
        ['192.0.2.12', false, null, null],
      ],
    );
    assert.deepEqual(b.endpoints.map((x: any) => x.addresses[0]), ['192.0.2.20'], 'IPv6 left out of the IPv4 slice');
    assert.deepEqual(a.metadata.labels, { team: 'a', [SERVICE_NAME_LABEL]: 'db', [MANAGED_BY_LABEL]: MIRROR_CONTROLLER_NAME });
    assert.deepEqual(a.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Endpoints', name: 'db', uid: 'ep-uid', controller: true, blockOwnerDeletion: true }]);
    assert.equal(a.metadata.generateName, 'db-');
  });

  it('empty Endpoints leave no slice (no placeholder); existing slices are deleted', () => {
    const e = eps({ subsets: [] });
    const meta = mirrorMeta(e);
    assert.deepEqual(planSlices(svc(), mirroredEndpoints(e), [], undefined, { meta, placeholder: false }), { create: [], update: [], delete: [] });
    const old = { metadata: { name: 'db-abc', labels: meta.labels, ownerReferences: meta.ownerReferences }, addressType: 'IPv4', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }], endpoints: [{ addresses: ['192.0.2.10'], conditions: { ready: true } }] };
    assert.deepEqual(planSlices(svc(), [], [old], undefined, { meta, placeholder: false }).delete, [old]);
  });
});
