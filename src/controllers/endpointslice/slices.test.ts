import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { desiredEndpoints, planSlices } from './slices.js';
import { desiredSubsets } from './subsets.js';
import { CONTROLLER_NAME, MANAGED_BY_LABEL, SERVICE_NAME_LABEL } from './endpoints.js';

const svc = (spec: any = {}) => ({ metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', labels: { app: 'web' } }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...spec } });
const pod = (name: string, ip: string, o: { ready?: boolean; deleting?: boolean; port?: number; phase?: string } = {}) => ({
  metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { app: 'web' }, ...(o.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
  spec: { nodeName: 'n1', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: o.port ?? 8080 }] }] },
  status: { phase: o.phase ?? 'Running', podIP: ip, conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
});
const noNodes = () => undefined;
let n = 0;
/** Applies a plan as the API server would (names, resourceVersions). */
function apply(existing: any[], plan: ReturnType<typeof planSlices>): any[] {
  const out = existing.filter((s) => !plan.delete.includes(s) && !plan.update.some((u) => u.metadata.name === s.metadata.name));
  for (const u of plan.update) out.push(u);
  for (const c of plan.create) out.push({ ...c, metadata: { ...c.metadata, name: `web-${++n}`, uid: `s${n}` } });
  return out;
}

describe('endpointslice planning', () => {
  it('resolves named ports and sets ready/serving/terminating conditions', () => {
    const d = desiredEndpoints(svc(), [pod('a', '10.0.0.1'), pod('b', '10.0.0.2', { ready: false }), pod('c', '10.0.0.3', { deleting: true }), pod('d', '10.0.0.4', { phase: 'Succeeded' })], noNodes);
    assert.deepEqual(
      d.map((x) => [x.key, x.endpoint.conditions]),
      [
        ['10.0.0.1', { ready: true, serving: true, terminating: false }],
        ['10.0.0.2', { ready: false, serving: false, terminating: false }],
        ['10.0.0.3', { ready: false, serving: true, terminating: true }],
      ],
    );
    assert.deepEqual(d[0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const plan = planSlices(svc(), d, []);
    assert.equal(plan.create.length, 1);
    const s = plan.create[0];
    assert.equal(s.metadata.labels[SERVICE_NAME_LABEL], 'web');
    assert.equal(s.metadata.labels[MANAGED_BY_LABEL], CONTROLLER_NAME);
    assert.equal(s.metadata.ownerReferences[0].kind, 'Service');
    assert.equal(s.endpoints.length, 3);
  });

  it('publishNotReadyAddresses makes every endpoint ready, while serving keeps the pod readiness', () => {
    const d = desiredEndpoints(svc({ publishNotReadyAddresses: true }), [pod('a', '10.0.0.1'), pod('b', '10.0.0.2', { ready: false }), pod('c', '10.0.0.3', { deleting: true })], noNodes);
    assert.deepEqual(
      d.map((x) => [x.key, x.endpoint.conditions]),
      [
        ['10.0.0.1', { ready: true, serving: true, terminating: false }],
        ['10.0.0.2', { ready: true, serving: false, terminating: false }],
        ['10.0.0.3', { ready: true, serving: true, terminating: true }],
      ],
    );
  });

  it('trafficDistribution PreferClose hints each endpoint for its own zone', () => {
    const zones: Record<string, string> = { n1: 'zone-a' };
    const node = (name: string) => (zones[name] ? { metadata: { name, labels: { 'topology.kubernetes.io/zone': zones[name] } } } : undefined);
    const close = desiredEndpoints(svc({ trafficDistribution: 'PreferClose' }), [pod('a', '10.0.0.1')], node);
    assert.equal(close[0].endpoint.zone, 'zone-a');
    assert.deepEqual(close[0].endpoint.hints, { forZones: [{ name: 'zone-a' }] });
    // No trafficDistribution, or a node without a zone: no hints.
    assert.equal(desiredEndpoints(svc(), [pod('a', '10.0.0.1')], node)[0].endpoint.hints, undefined);
    assert.equal(desiredEndpoints(svc({ trafficDistribution: 'PreferClose' }), [pod('a', '10.0.0.1')], noNodes)[0].endpoint.hints, undefined);
    // Turning it on updates the existing slice in place.
    const before = apply([], planSlices(svc(), desiredEndpoints(svc(), [pod('a', '10.0.0.1')], node), []));
    const plan = planSlices(svc({ trafficDistribution: 'PreferClose' }), close, before);
    assert.equal(plan.update.length, 1);
    assert.deepEqual(plan.update[0].endpoints[0].hints, { forZones: [{ name: 'zone-a' }] });
  });

  it('groups pods whose named port differs into different slices', () => {
    const d = desiredEndpoints(svc(), [pod('a', '10.0.0.1'), pod('b', '10.0.0.2', { port: 9090 })], noNodes);
    const plan = planSlices(svc(), d, []);
    assert.equal(plan.create.length, 2);
  });

  it('packs at most 100 endpoints per slice and edits slices in place', () => {
    const pods = Array.from({ length: 250 }, (_, i) => pod(`p${String(i).padStart(3, '0')}`, `10.1.${i >> 8}.${i & 255}`));
    let slices = apply([], planSlices(svc(), desiredEndpoints(svc(), pods, noNodes), []));
    assert.deepEqual(slices.map((s) => s.endpoints.length).sort((a, b) => a - b), [50, 100, 100]);
    // Unchanged input: nothing to do.
    const again = planSlices(svc(), desiredEndpoints(svc(), pods, noNodes), slices);
    assert.deepEqual([again.create.length, again.update.length, again.delete.length], [0, 0, 0]);
    // One pod gone: exactly one slice updated.
    const fewer = planSlices(svc(), desiredEndpoints(svc(), pods.slice(1), noNodes), slices);
    assert.deepEqual([fewer.create.length, fewer.update.length, fewer.delete.length], [0, 1, 0]);
    slices = apply(slices, fewer);
    assert.equal(slices.reduce((k, s) => k + s.endpoints.length, 0), 249);
  });

  it('keeps one placeholder slice when nothing is selected', () => {
    const plan = planSlices(svc(), [], []);
    assert.equal(plan.create.length, 1);
    assert.deepEqual(plan.create[0].endpoints, []);
    assert.equal(plan.create[0].ports, undefined);
    const slices = apply([], plan);
    const again = planSlices(svc(), [], slices);
    assert.deepEqual([again.create.length, again.update.length, again.delete.length], [0, 0, 0]);
    // Endpoints appear: the placeholder is replaced.
    const full = planSlices(svc(), desiredEndpoints(svc(), [pod('a', '10.0.0.1')], noNodes), slices);
    assert.equal(full.create.length, 1);
    assert.equal(full.delete.length, 1);
  });

  it('Endpoints subsets split ready and not-ready addresses and leave terminating pods out', () => {
    const subs = desiredSubsets(svc(), [pod('b', '10.0.0.2', { ready: false }), pod('a', '10.0.0.1'), pod('c', '10.0.0.3', { deleting: true })]);
    assert.equal(subs.length, 1);
    assert.deepEqual(subs[0].addresses.map((a: any) => a.ip), ['10.0.0.1']);
    assert.deepEqual(subs[0].notReadyAddresses.map((a: any) => a.ip), ['10.0.0.2']);
    assert.deepEqual(subs[0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  });
});
