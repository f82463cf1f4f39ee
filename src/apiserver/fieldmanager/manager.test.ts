import { test } from 'node:test';
import assert from 'node:assert/strict';
import { patchMetaFor } from '../openapi/schemas.js';
import { StatusError } from '../status.js';
import { FieldSet, formatPath } from './fieldset.js';
import { applyConfiguration, internals, managedFieldsAfterUpdate, type WriteContext } from './manager.js';

const deployMeta = patchMetaFor('apps', 'v1', 'Deployment');
const cmMeta = patchMetaFor('', 'v1', 'ConfigMap');
const ctx = (manager: string, over: Partial<WriteContext> = {}): WriteContext => ({ manager, apiVersion: 'v1', subresource: '', hasStatus: false, meta: cmMeta, now: '2026-01-01T00:00:00Z', ...over });
const cm = (data: Record<string, string>, extra: any = {}) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', ...extra }, data });

test('FieldsV1 round trip keeps leaves, containers owned themselves and keyed items', () => {
  const v1 = { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"a"}': { '.': {}, 'f:image': {} } } } };
  const s = FieldSet.fromFieldsV1(v1);
  assert.deepEqual(s.toFieldsV1(), v1);
  assert.ok(s.has(['f:metadata', 'f:labels']));
  assert.ok(!s.has(['f:metadata']));
  assert.equal(formatPath(['f:spec', 'f:containers', 'k:{"name":"a"}', 'f:image']), '.spec.containers[name="a"].image');
});

test('apply creates ownership for exactly the applied fields', () => {
  const r = applyConfiguration(undefined, cm({ a: '1' }, { labels: { x: 'y' } }), ctx('kubectl'), false);
  assert.equal(r.managedFields.length, 1);
  assert.deepEqual(r.managedFields[0].fieldsV1, { 'f:data': { 'f:a': {} }, 'f:metadata': { 'f:labels': { 'f:x': {} } } });
  assert.equal(r.managedFields[0].operation, 'Apply');
});

test('changing a field another manager owns conflicts, with upstream message; force takes it over', () => {
  const created = applyConfiguration(undefined, cm({ a: '1', b: '2' }), ctx('kubectl'), false);
  const live = { ...created.object, metadata: { ...created.object.metadata, managedFields: created.managedFields } };
  const patched = structuredClone(live);
  patched.data.a = '9';
  patched.metadata.managedFields = managedFieldsAfterUpdate(live, patched, ctx('kubectl-edit'));
  assert.deepEqual(
    patched.metadata.managedFields.map((m: any) => [m.manager, m.operation]),
    [
      ['kubectl', 'Apply'],
      ['kubectl-edit', 'Update'],
    ],
  );
  // The updater took `a` from the applier.
  assert.deepEqual(patched.metadata.managedFields[0].fieldsV1, { 'f:data': { 'f:b': {} } });
  assert.throws(
    () => applyConfiguration(patched, cm({ a: '3' }), ctx('other'), false),
    (e: unknown) => e instanceof StatusError && e.code === 409 && e.message === 'Apply failed with 1 conflict: conflict with "kubectl-edit" using v1: .data.a',
  );
  // Same value: shared ownership, no conflict.
  const same = applyConfiguration(patched, cm({ a: '9' }), ctx('other'), false);
  assert.equal(same.object.data.a, '9');
  const forced = applyConfiguration(patched, cm({ a: '3' }), ctx('other'), true);
  assert.equal(forced.object.data.a, '3');
  assert.ok(!forced.managedFields.some((m) => m.manager === 'kubectl-edit'), 'the updater lost its only field');
});

test('fields a manager stops applying are removed unless someone else owns them', () => {
  const a = applyConfiguration(undefined, cm({ a: '1', b: '2', c: '3' }), ctx('one'), false);
  let live: any = { ...a.object, metadata: { ...a.object.metadata, managedFields: a.managedFields } };
  const b = applyConfiguration(live, cm({ c: '3' }), ctx('two'), false);
  live = { ...b.object, metadata: { ...b.object.metadata, managedFields: b.managedFields } };
  const r = applyConfiguration(live, cm({ a: '1' }), ctx('one'), false);
  assert.deepEqual(r.object.data, { a: '1', c: '3' });
});

test('keyed lists merge by key and drop items the applier removed', () => {
  const dctx = ctx('kubectl', { meta: deployMeta, apiVersion: 'apps/v1', hasStatus: true });
  const dep = (containers: any[]) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: { containers } } } });
  const first = applyConfiguration(undefined, dep([{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }]), dctx, false);
  assert.ok(FieldSet.fromFieldsV1(first.managedFields[0].fieldsV1).has(['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"b"}', 'f:image']));
  let live: any = { ...first.object, metadata: { ...first.object.metadata, managedFields: first.managedFields } };
  live.spec.template.spec.containers[0].imagePullPolicy = 'Always';
  const second = applyConfiguration(live, dep([{ name: 'a', image: 'z' }]), dctx, false);
  assert.deepEqual(second.object.spec.template.spec.containers, [{ name: 'a', image: 'z', imagePullPolicy: 'Always' }]);
});

test('status writes are owned apart from spec when the resource has a status subresource', () => {
  const sctx = (sub: string) => ctx('kubelet', { hasStatus: true, subresource: sub, meta: patchMetaFor('', 'v1', 'Pod') });
  const prev = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { nodeName: 'n' }, status: { phase: 'Pending' } };
  const next = { ...prev, status: { phase: 'Running' } };
  const mf = managedFieldsAfterUpdate(prev, next, sctx('status'));
  assert.deepEqual(mf, [{ manager: 'kubelet', operation: 'Update', apiVersion: 'v1', time: '2026-01-01T00:00:00Z', fieldsType: 'FieldsV1', subresource: 'status', fieldsV1: { 'f:status': { 'f:phase': {} } } }]);
  // A no-op write records nothing.
  assert.deepEqual(managedFieldsAfterUpdate(prev, structuredClone(prev), sctx('')), []);
});

test('managedFields: [{}] resets ownership', () => {
  const prev = { ...cm({ a: '1' }), metadata: { name: 'c', managedFields: [{ manager: 'x', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } }] } };
  const next = { ...cm({ a: '1' }), metadata: { name: 'c', managedFields: [{}] } };
  assert.deepEqual(managedFieldsAfterUpdate(prev, next, ctx('y')), []);
});

test('entries a write does not touch pass through; the writer keeps its time while its fields stay the same', () => {
  const pctx = (manager: string, sub: string, now: string) => ctx(manager, { hasStatus: true, subresource: sub, meta: patchMetaFor('', 'v1', 'Pod'), now });
  const pod = (status: any, labels?: any) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels }, spec: { containers: [{ name: 'c', image: 'i' }] }, status });
  const withMf = (o: any, mf: any) => ({ ...o, metadata: { ...o.metadata, managedFields: mf } });
  const created = withMf(pod({ phase: 'Pending' }, { a: '1' }), managedFieldsAfterUpdate(undefined, pod({ phase: 'Pending' }, { a: '1' }), pctx('creator', '', 't0')));
  const s1 = withMf(pod({ phase: 'Running' }, { a: '1' }), managedFieldsAfterUpdate(created, pod({ phase: 'Running' }, { a: '1' }), pctx('kubelet', 'status', 't1')));
  assert.deepEqual(s1.metadata.managedFields[0], created.metadata.managedFields[0]);
  assert.equal(s1.metadata.managedFields[1].time, 't1');
  // Same field changes again: the kubelet's entry is unchanged, time included.
  const s2 = managedFieldsAfterUpdate(s1, pod({ phase: 'Succeeded' }, { a: '1' }), pctx('kubelet', 'status', 't2'));
  assert.deepEqual(s2, s1.metadata.managedFields);
  // A new field: the entry grows and takes the new time.
  const s3 = managedFieldsAfterUpdate(s1, pod({ phase: 'Running', podIP: '10.0.0.1' }, { a: '1' }), pctx('kubelet', 'status', 't3'));
  assert.deepEqual(s3[1].fieldsV1, { 'f:status': { 'f:phase': {}, 'f:podIP': {} } });
  assert.equal(s3[1].time, 't3');
  // Removing a field another manager owns takes it from that manager.
  const s4 = managedFieldsAfterUpdate(s1, pod({ phase: 'Running' }), pctx('editor', '', 't4'));
  assert.deepEqual(s4[0].fieldsV1, { 'f:spec': { 'f:containers': { '.': {}, 'k:{"name":"c"}': { '.': {}, 'f:image': {}, 'f:name': {} } } } });
});

test("a create's entry, built straight from the object, is what the general diff gives", () => {
  const podMeta = patchMetaFor('', 'v1', 'Pod');
  const svcMeta = patchMetaFor('', 'v1', 'Service');
  const container = (name: string, extra: any = {}) => ({
    name,
    image: 'nginx',
    command: ['sh', '-c', 'x'],
    ports: [{ containerPort: 80 }, { containerPort: 53, protocol: 'UDP' }],
    env: [{ name: 'A', value: '1' }, { name: 'B', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
    resources: { requests: { cpu: '100m' }, limits: {} },
    volumeMounts: [{ name: 'v', mountPath: '/v' }],
    ...extra,
  });
  const pod = (spec: any, meta: any = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u', creationTimestamp: 't', labels: { app: 'a' }, finalizers: ['x/y'], ...meta }, spec, status: { phase: 'Pending' } });
  const cases: [string, any, WriteContext][] = [
    ['configmap', cm({ a: '1', b: '' }, { annotations: { n: 'v' } }), ctx('kubectl')],
    ['empty configmap', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }, ctx('kubectl')],
    ['configmap without metadata fields anyone owns', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', uid: 'u' } }, ctx('kubectl')],
    ['pod', pod({ containers: [container('a'), container('b', { ports: [] })], initContainers: [container('i')], volumes: [{ name: 'v', emptyDir: {} }], tolerations: [{ key: 'k', operator: 'Exists' }], nodeSelector: {}, priority: 0 }), ctx('kubectl', { meta: podMeta, hasStatus: true })],
    ['pod with status owned (no status subresource in context)', pod({ containers: [container('a')] }), ctx('x', { meta: podMeta })],
    ['pod with an empty spec', pod({}), ctx('x', { meta: podMeta, hasStatus: true })],
    ['pod items without keys', pod({ containers: [{ image: 'a' }, { image: 'b' }] }), ctx('x', { meta: podMeta, hasStatus: true })],
    ['pod with repeated container names (merged by the general path)', pod({ containers: [container('a'), container('a', { image: 'b' })] }), ctx('x', { meta: podMeta, hasStatus: true })],
    ['pod with a repeated finalizer', pod({ containers: [] }, { finalizers: ['a', 'a'] }), ctx('x', { meta: podMeta, hasStatus: true })],
    ['pod with undefined and null values', pod({ containers: [container('a', { args: undefined, workingDir: null })] }, { annotations: undefined }), ctx('x', { meta: podMeta, hasStatus: true })],
    ['spec not an object', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: null }, ctx('x', { meta: podMeta, hasStatus: true })],
    ['service', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { selector: { a: 'b' }, ports: [{ port: 80, targetPort: 8080 }, { port: 53, protocol: 'UDP' }], type: 'ClusterIP' } }, ctx('kubectl', { meta: svcMeta, hasStatus: true })],
    ['deployment', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', labels: { a: 'b' } }, spec: { replicas: 2, selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [container('c')] } } } }, ctx('kubectl', { meta: deployMeta, hasStatus: true })],
    ['a field named __proto__', JSON.parse('{"apiVersion":"x/v1","kind":"Thing","metadata":{"name":"t","__proto__":{"a":1}},"spec":{"__proto__":{"a":1},"constructor":1}}'), ctx('x', { meta: undefined as any })],
    ['no schema', { apiVersion: 'x/v1', kind: 'Thing', metadata: { name: 't' }, spec: { list: [1, 2, { a: 1 }], m: { 'a.b/c': 1 } } }, ctx('x', { meta: undefined as any })],
  ];
  for (const [name, obj, c] of cases) {
    assert.deepEqual(managedFieldsAfterUpdate(undefined, obj, c), internals.generalAfterUpdate(undefined, obj, c), name);
    // Key order too: FieldsV1 is compared as text by clients and by the no-op check.
    assert.equal(JSON.stringify(managedFieldsAfterUpdate(undefined, obj, c)), JSON.stringify(internals.generalAfterUpdate(undefined, obj, c)), name);
  }
});
