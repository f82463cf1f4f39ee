import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as k8s from '@kubernetes/client-node';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { until } from '../testing/wait.js';

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names:
    plural: widgets
    singular: widget
    kind: Widget
    shortNames: [wd]
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
    additionalPrinterColumns:
    - name: Size
      type: string
      jsonPath: .spec.size
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size:
                type: string
                enum: [small, large]
              replicas:
                type: integer
                minimum: 0
                default: 1
              color:
                type: string
                default: blue
          status:
            type: object
            properties:
              replicas:
                type: integer
              phase:
                type: string
`;

const widget = (name: string, spec: string) => `apiVersion: example.com/v1
kind: Widget
metadata:
  name: ${name}
  namespace: default
spec:
${spec}`;

/** CustomResourceDefinitions with the real kubectl and @kubernetes/client-node. */
describe('CustomResourceDefinitions', () => {
  let c: TestCluster;
  before(async () => {
    c = await startTestCluster();
  });
  after(async () => {
    await c?.stop();
  });

  it('rejects an invalid CRD with upstream messages', async () => {
    const bad = CRD.replace('name: widgets.example.com', 'name: gadgets.example.com').replace('group: example.com', 'group: example');
    const r = await c.kubectl(['create', '-f', '-'], { input: bad });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.group: Invalid value: "example": should be a domain with at least one dot/);
    assert.match(r.stderr, /metadata\.name: Invalid value: "gadgets\.example\.com": must be spec\.names\.plural\+"\."\+spec\.group/);
    const noType = CRD.replace('                type: string\n                enum', '                enum');
    const r2 = await c.kubectl(['create', '-f', '-'], { input: noType });
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /spec\.versions\[0\]\.schema\.openAPIV3Schema\.properties\[spec\]\.properties\[size\]\.type: Required value: must not be empty for specified object fields/);
  });

  it('creates a CRD that becomes established and discoverable', async () => {
    await c.run(['create', '-f', '-'], CRD);
    await c.run(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/widgets.example.com']);
    const crd = JSON.parse(await c.run(['get', 'crd', 'widgets.example.com', '-o', 'json']));
    assert.equal(crd.status.acceptedNames.kind, 'Widget');
    assert.ok(crd.metadata.finalizers.includes('customresourcecleanup.apiextensions.k8s.io'));
    const res = await c.run(['api-resources', '--api-group=example.com', '--no-headers']);
    assert.match(res, /widgets\s+wd\s+example\.com\/v1\s+true\s+Widget/);
    const ext = await c.run(['api-resources', '--api-group=apiextensions.k8s.io', '--no-headers']);
    assert.match(ext, /customresourcedefinitions\s+crd,crds\s+apiextensions\.k8s\.io\/v1\s+false\s+CustomResourceDefinition/);
  });

  it('creates, gets and lists custom resources with printer columns and defaults', async () => {
    await c.run(['apply', '-f', '-'], widget('w1', '  size: small\n  replicas: 3\n'));
    const w = JSON.parse(await c.run(['get', 'widget', 'w1', '-o', 'json']));
    assert.equal(w.spec.color, 'blue');
    assert.equal(w.metadata.generation, 1);
    const out = await c.run(['get', 'widgets']);
    assert.match(out.split('\n')[0]!, /^NAME\s+SIZE\s+REPLICAS\s+AGE$/);
    assert.match(out, /w1\s+small\s+3\s+\d+s/);
    await c.run(['create', '-f', '-'], widget('w2', '  size: large\n'));
    const list = JSON.parse(await c.run(['get', 'wd', '-o', 'json']));
    assert.deepEqual(list.items.map((i: any) => i.metadata.name), ['w1', 'w2']);
    assert.equal(list.items[1].spec.replicas, 1);
    const sel = await c.run(['get', 'widgets', '--field-selector', 'metadata.name=w2', '-o', 'name']);
    assert.equal(sel.trim(), 'widget.example.com/w2');
  });

  it('rejects invalid custom resources with upstream messages and prunes unknown fields', async () => {
    const r = await c.kubectl(['create', '-f', '-'], { input: widget('bad', '  size: small\n  replicas: "three"\n') });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.replicas: Invalid value: "string": spec\.replicas in body must be of type integer: "string"/);
    const r2 = await c.kubectl(['create', '-f', '-'], { input: widget('bad', '  size: medium\n') });
    assert.match(r2.stderr, /spec\.size: Unsupported value: "medium": supported values: "small", "large"/);
    const r3 = await c.kubectl(['create', '-f', '-'], { input: widget('bad', '  replicas: 1\n') });
    assert.match(r3.stderr, /spec\.size: Required value/);
    // Strict field validation (kubectl's default) refuses unknown fields; without it they are pruned.
    const r4 = await c.kubectl(['create', '-f', '-'], { input: widget('w3', '  size: small\n  bogus: 1\n') });
    assert.match(r4.stderr, /unknown field "spec\.bogus"/);
    await c.run(['create', '--validate=false', '-f', '-'], widget('w3', '  size: small\n  bogus: 1\n'));
    const w3 = JSON.parse(await c.run(['get', 'widget', 'w3', '-o', 'json']));
    assert.equal(w3.spec.bogus, undefined);
    await c.run(['delete', 'widget', 'w3']);
  });

  it('patches with merge and json patches, refuses strategic merge, bumps generation on spec changes', async () => {
    await c.run(['patch', 'widget', 'w1', '--type=merge', '-p', '{"spec":{"size":"large"}}']);
    await c.run(['patch', 'widget', 'w1', '--type=json', '-p', '[{"op":"replace","path":"/spec/color","value":"red"}]']);
    const w = JSON.parse(await c.run(['get', 'widget', 'w1', '-o', 'json']));
    assert.equal(w.spec.size, 'large');
    assert.equal(w.spec.color, 'red');
    assert.equal(w.metadata.generation, 3);
    const r = await c.kubectl(['patch', 'widget', 'w1', '--type=strategic', '-p', '{"spec":{"size":"small"}}']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /UnsupportedMediaType|unknown format|not supported/i);
    await c.run(['apply', '-f', '-'], widget('w1', '  size: small\n  replicas: 3\n'));
    assert.equal(JSON.parse(await c.run(['get', 'widget', 'w1', '-o', 'json'])).spec.size, 'small');
  });

  it('status subresource: /status changes status only; the main resource cannot change status', async () => {
    const w = JSON.parse(await c.run(['get', 'widget', 'w1', '-o', 'json']));
    const gen = w.metadata.generation;
    w.status = { replicas: 2, phase: 'Ready' };
    w.spec.size = 'large';
    const st = JSON.parse(await c.run(['replace', '--subresource=status', '-o', 'json', '-f', '-'], JSON.stringify(w)));
    assert.deepEqual(st.status, { replicas: 2, phase: 'Ready' });
    assert.equal(st.spec.size, 'small');
    assert.equal(st.metadata.generation, gen);
    st.status = { replicas: 9, phase: 'Broken' };
    const main = JSON.parse(await c.run(['replace', '-o', 'json', '-f', '-'], JSON.stringify(st)));
    assert.deepEqual(main.status, { replicas: 2, phase: 'Ready' });
  });

  it('scale subresource with kubectl scale', async () => {
    await c.run(['scale', 'widget', 'w1', '--replicas=5']);
    const w = JSON.parse(await c.run(['get', 'widget', 'w1', '-o', 'json']));
    assert.equal(w.spec.replicas, 5);
    const scale = JSON.parse(await c.run(['get', '--raw', '/apis/example.com/v1/namespaces/default/widgets/w1/scale']));
    assert.equal(scale.kind, 'Scale');
    assert.equal(scale.spec.replicas, 5);
    assert.equal(scale.status.replicas, 2);
    // No labelSelectorPath: status.selector is omitted (omitempty), not "".
    assert.deepEqual(scale.status, { replicas: 2 });
  });

  it('watches custom resources', async () => {
    const child = spawn('kubectl', ['--kubeconfig', c.kubeconfig, 'get', 'widgets', '-w', '--output-watch-events'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    try {
      await until('initial list', () => /w2\s+large/.test(out));
      await c.run(['create', '-f', '-'], widget('w4', '  size: small\n'));
      await until('watch event for w4', () => /ADDED\s+w4\s+small/.test(out));
      await c.run(['delete', 'widget', 'w4']);
      await until('delete event for w4', () => /DELETED\s+w4/.test(out));
    } finally {
      child.kill();
    }
  });

  it('explain shows the schema', async () => {
    const out = await c.run(['explain', 'widget.spec']);
    assert.match(out, /size\s+<string>/);
    assert.match(out, /replicas\s+<integer>/);
  });

  it('works from @kubernetes/client-node CustomObjectsApi', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(c.kubeconfig);
    const api = kc.makeApiClient(k8s.CustomObjectsApi);
    await api.createNamespacedCustomObject({ group: 'example.com', version: 'v1', namespace: 'default', plural: 'widgets', body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'js' }, spec: { size: 'small' } } });
    const list: any = await api.listNamespacedCustomObject({ group: 'example.com', version: 'v1', namespace: 'default', plural: 'widgets' });
    assert.ok(list.items.some((i: any) => i.metadata.name === 'js' && i.spec.replicas === 1));
  });

  it('serves cluster-scoped resources in every served version', async () => {
    const schema = '      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n';
    await c.run(['create', '-f', '-'], `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gizmos.example.com
spec:
  group: example.com
  scope: Cluster
  names: {plural: gizmos, kind: Gizmo}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
${schema}  - name: v1beta1
    served: true
    storage: false
    schema:
${schema}`);
    await c.run(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/gizmos.example.com']);
    await c.run(['create', '-f', '-'], 'apiVersion: example.com/v1beta1\nkind: Gizmo\nmetadata: {name: g1}\nspec: {anything: [1, 2]}\n');
    const v1 = JSON.parse(await c.run(['get', '--raw', '/apis/example.com/v1/gizmos/g1']));
    assert.equal(v1.apiVersion, 'example.com/v1');
    assert.deepEqual(v1.spec, { anything: [1, 2] });
    const beta = JSON.parse(await c.run(['get', '--raw', '/apis/example.com/v1beta1/gizmos']));
    assert.equal(beta.items[0].apiVersion, 'example.com/v1beta1');
    // Watches of each version see their own apiVersion (events are shared per version, not per resource).
    for (const v of ['v1', 'v1beta1']) {
      const ev = await c.run(['get', '--raw', `/apis/example.com/${v}/gizmos?watch=true&timeoutSeconds=1`]);
      assert.equal(JSON.parse(ev.trim().split('\n')[0]!).object.apiVersion, `example.com/${v}`);
    }
    await c.run(['delete', 'crd', 'gizmos.example.com']);
  });

  it('deleting the CRD deletes its custom resources, then the CRD', async () => {
    // An instance with a finalizer of its own holds the CRD back until it is released.
    await c.run(['create', '-f', '-'], widget('held', '  size: small\n').replace('  namespace: default', '  namespace: default\n  finalizers: [example.com/hold]'));
    await c.run(['delete', 'crd', 'widgets.example.com', '--wait=false']);
    await until('held marked for deletion', async () => JSON.parse(await c.run(['get', 'widget', 'held', '-o', 'json'])).metadata.deletionTimestamp);
    const crd = JSON.parse(await c.run(['get', 'crd', 'widgets.example.com', '-o', 'json']));
    assert.ok(crd.metadata.deletionTimestamp);
    const refused = await c.kubectl(['create', '-f', '-'], { input: widget('late', '  size: small\n') });
    assert.match(refused.stderr, /create not allowed while custom resource definition is terminating/);
    await c.run(['patch', 'widget', 'held', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await c.run(['wait', '--for=delete', 'crd/widgets.example.com', '--timeout=60s']);
    const r = await c.kubectl(['get', 'crd', 'widgets.example.com']);
    assert.notEqual(r.code, 0);
    await until('widgets no longer served', async () => (await c.kubectl(['get', '--raw', '/apis/example.com/v1/widgets'])).code !== 0);
    // Re-created, it has no leftover objects.
    await c.run(['create', '-f', '-'], CRD);
    await c.run(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/widgets.example.com']);
    const list = JSON.parse(await c.run(['get', '--raw', '/apis/example.com/v1/widgets']));
    assert.deepEqual(list.items, []);
  });
});
