import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openapiV3Document, openapiV3Hash, openapiV3Index, openapiV3Serialized, type ResourceSpec } from './v3.js';

const ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const CORE: ResourceSpec[] = [
  { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true, verbs: ALL, subresources: [{ name: 'status', kind: 'Pod' }, { name: 'binding', kind: 'Binding', group: '', version: 'v1' }] },
  { group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false, verbs: ALL, subresources: [{ name: 'status', kind: 'Node' }] },
  { group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true, verbs: ALL, subresources: [] },
];
const APPS: ResourceSpec[] = [
  {
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    namespaced: true,
    verbs: ALL,
    subresources: [{ name: 'status', kind: 'Deployment' }, { name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1' }],
  },
];

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, any> };
};

const doc = (gv: string, r: ResourceSpec[]) => openapiV3Document(gv, r) as unknown as Doc;

test('api/v1 has a pods patch operation with fieldValidation, strategic merge and GVK', () => {
  const d = doc('api/v1', CORE);
  assert.equal(d.openapi, '3.0.0');
  const patch = d.paths['/api/v1/namespaces/{namespace}/pods/{name}']!.patch;
  assert.equal(patch['x-kubernetes-action'], 'patch');
  assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: '', kind: 'Pod', version: 'v1' });
  const names = patch.parameters.map((p: any) => `${p.in}:${p.name}`);
  for (const n of ['query:fieldValidation', 'query:dryRun', 'query:fieldManager', 'query:force']) assert.ok(names.includes(n), n);
  assert.deepEqual(Object.keys(patch.requestBody.content).sort(), [
    'application/apply-patch+yaml',
    'application/json-patch+json',
    'application/merge-patch+json',
    'application/strategic-merge-patch+json',
  ]);
  assert.equal(patch.operationId, 'patchCoreV1NamespacedPod');
  for (const verb of ['post', 'put']) {
    const op = verb === 'post' ? d.paths['/api/v1/namespaces/{namespace}/pods']!.post : d.paths['/api/v1/namespaces/{namespace}/pods/{name}']!.put;
    assert.ok(op.parameters.some((p: any) => p.name === 'fieldValidation' && p.in === 'query'), verb);
  }
});

test('api/v1 paths cover every verb, scope and subresource', () => {
  const d = doc('api/v1', CORE);
  const action = (path: string, method: string) => d.paths[path]?.[method]?.['x-kubernetes-action'];
  assert.equal(action('/api/v1/namespaces/{namespace}/pods', 'get'), 'list');
  assert.equal(action('/api/v1/namespaces/{namespace}/pods', 'post'), 'post');
  assert.equal(action('/api/v1/namespaces/{namespace}/pods', 'delete'), 'deletecollection');
  assert.equal(action('/api/v1/namespaces/{namespace}/pods/{name}', 'get'), 'get');
  assert.equal(action('/api/v1/namespaces/{namespace}/pods/{name}', 'put'), 'put');
  assert.equal(action('/api/v1/namespaces/{namespace}/pods/{name}', 'delete'), 'delete');
  assert.equal(action('/api/v1/pods', 'get'), 'list');
  assert.equal(action('/api/v1/watch/namespaces/{namespace}/pods', 'get'), 'watchlist');
  assert.equal(action('/api/v1/watch/namespaces/{namespace}/pods/{name}', 'get'), 'watch');
  assert.equal(action('/api/v1/watch/pods', 'get'), 'watchlist');
  assert.equal(action('/api/v1/nodes', 'get'), 'list');
  assert.equal(action('/api/v1/nodes/{name}', 'patch'), 'patch');
  assert.equal(action('/api/v1/watch/nodes/{name}', 'get'), 'watch');
  assert.equal(action('/api/v1/namespaces/{namespace}/pods/{name}/status', 'patch'), 'patch');
  assert.equal(action('/api/v1/namespaces/{namespace}/pods/{name}/binding', 'post'), 'post');
  assert.deepEqual(d.paths['/api/v1/namespaces/{namespace}/pods/{name}/binding']!.post['x-kubernetes-group-version-kind'], { group: '', kind: 'Binding', version: 'v1' });
  assert.equal(action('/api/v1/nodes/{name}/status', 'get'), 'get');
  assert.ok(d.paths['/api/v1/']!.get);
  // list responses can stream
  assert.ok(d.paths['/api/v1/namespaces/{namespace}/pods']!.get.responses['200'].content['application/json;stream=watch']);
  // path-level parameters: namespace and name
  const params = d.paths['/api/v1/namespaces/{namespace}/pods/{name}']!.parameters.map((p: any) => p.name);
  assert.deepEqual(params.sort(), ['name', 'namespace', 'pretty']);
});

test('components hold every reachable schema and the explain-critical bits', () => {
  const d = doc('api/v1', CORE);
  const s = d.components.schemas;
  for (const n of [
    'io.k8s.api.core.v1.Pod',
    'io.k8s.api.core.v1.PodList',
    'io.k8s.api.core.v1.PodSpec',
    'io.k8s.api.core.v1.Container',
    'io.k8s.api.core.v1.Binding',
    'io.k8s.api.core.v1.ConfigMapList',
    'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
    'io.k8s.apimachinery.pkg.apis.meta.v1.Patch',
    'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions',
    'io.k8s.apimachinery.pkg.apis.meta.v1.Status',
    'io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent',
    'io.k8s.apimachinery.pkg.api.resource.Quantity',
    'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
  ]) {
    assert.ok(s[n], n);
  }
  assert.equal(s['io.k8s.api.apps.v1.Deployment'], undefined, 'other groups are not included');
  // every $ref resolves inside the document
  const refs = new Set<string>();
  JSON.stringify(d, (k, v) => {
    if (k === '$ref') refs.add(v);
    return v;
  });
  for (const r of refs) assert.ok(s[r.replace('#/components/schemas/', '')], r);
  // explain finds the kind by GVK and walks spec.containers
  const pods = Object.values(s).filter((x: any) => x['x-kubernetes-group-version-kind']?.some((g: any) => g.kind === 'Pod' && g.group === '' && g.version === 'v1'));
  assert.equal(pods.length, 1);
  const specRef = (pods[0] as any).properties.spec.allOf[0].$ref.replace('#/components/schemas/', '');
  const containers = s[specRef].properties.containers;
  assert.equal(containers.items.$ref, '#/components/schemas/io.k8s.api.core.v1.Container');
  assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
  assert.ok(containers.description);
  assert.ok(s['io.k8s.api.core.v1.Container'].properties.image.description);
});

test('apps/v1: scale subresource uses autoscaling/v1 Scale', () => {
  const d = doc('apis/apps/v1', APPS);
  const scale = d.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale']!;
  assert.deepEqual(scale.patch['x-kubernetes-group-version-kind'], { group: 'autoscaling', kind: 'Scale', version: 'v1' });
  assert.equal(scale.patch.requestBody.content['application/strategic-merge-patch+json'] !== undefined, true);
  assert.ok(d.components.schemas['io.k8s.api.autoscaling.v1.Scale']);
  assert.equal(d.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']!.patch.operationId, 'patchAppsV1NamespacedDeployment');
  assert.equal(d.components.schemas['io.k8s.api.apps.v1.DeploymentSpec'].properties.strategy['x-kubernetes-patch-strategy'], 'retainKeys');
});

test('custom resources: no strategic merge patch, schema with GVK', () => {
  const crd: ResourceSpec = {
    group: 'example.com',
    version: 'v1',
    resource: 'widgets',
    kind: 'Widget',
    namespaced: true,
    verbs: ALL,
    subresources: [{ name: 'status', kind: 'Widget' }],
    schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } },
  };
  const d = doc('apis/example.com/v1', [crd]);
  const patch = d.paths['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}']!.patch;
  assert.equal(patch.requestBody.content['application/strategic-merge-patch+json'], undefined);
  assert.ok(patch.requestBody.content['application/merge-patch+json']);
  assert.ok(patch.parameters.some((p: any) => p.name === 'fieldValidation'));
  const w = d.components.schemas['com.example.v1.Widget'];
  assert.deepEqual(w['x-kubernetes-group-version-kind'], [{ group: 'example.com', kind: 'Widget', version: 'v1' }]);
  assert.equal(w.properties.spec.properties.size.type, 'integer');
  assert.ok(w.properties.metadata);
  assert.ok(d.components.schemas['com.example.v1.WidgetList']);
  assert.ok(d.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
});

test('index lists each GV with the document hash; documents are cached', () => {
  const a = openapiV3Serialized('api/v1', CORE);
  assert.match(a.hash, /^[0-9A-F]{128}$/);
  assert.equal(openapiV3Document('api/v1', CORE), openapiV3Document('api/v1', structuredClone(CORE)), 'same resources → cached document');
  assert.equal(openapiV3Hash('v1'), a.hash);
  const idx = openapiV3Index(['api/v1', 'apis/apps/v1'], (gv) => (gv === 'api/v1' ? CORE : APPS));
  assert.deepEqual(Object.keys(idx.paths), ['api/v1', 'apis/apps/v1']);
  assert.equal(idx.paths['api/v1']!.serverRelativeURL, `/openapi/v3/api/v1?hash=${a.hash}`);
  assert.equal(idx.paths['apis/apps/v1']!.serverRelativeURL, `/openapi/v3/apis/apps/v1?hash=${openapiV3Hash('apps/v1')}`);
  // without a resolver: cached hash, or a provisional one
  const idx2 = openapiV3Index(['api/v1', 'apis/batch/v1']);
  assert.equal(idx2.paths['api/v1']!.serverRelativeURL, `/openapi/v3/api/v1?hash=${a.hash}`);
  assert.match(idx2.paths['apis/batch/v1']!.serverRelativeURL, /^\/openapi\/v3\/apis\/batch\/v1\?hash=[0-9A-F]{128}$/);
  // resources change (a CRD version added) → new document and hash
  const b = openapiV3Serialized('api/v1', CORE.slice(0, 2));
  assert.notEqual(b.hash, a.hash);
  assert.equal(JSON.parse(b.json).paths['/api/v1/namespaces/{namespace}/configmaps'], undefined);
});
