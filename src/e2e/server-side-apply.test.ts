import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { clientFromKubeconfig } from '../testing/client.js';

const deployment = (replicas: number, image: string, extraEnv = true) => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: ${image}
        env:
        - {name: A, value: "1"}
${extraEnv ? '        - {name: B, value: "2"}\n' : ''}`;

/** Server-side apply with the real kubectl (`apply --server-side`) and the official client library. */
describe('server-side apply', () => {
  let c: TestCluster;
  before(async () => {
    c = await startTestCluster();
  });
  after(async () => {
    await c.stop();
  });

  it('creates, records the manager, and a re-apply without changes writes nothing', async () => {
    assert.match(await c.run(['apply', '--server-side', '-f', '-'], deployment(2, 'nginx:1')), /deployment.apps\/web serverside-applied/);
    const obj = JSON.parse(await c.run(['get', 'deploy', 'web', '-o', 'json', '--show-managed-fields']));
    const apply = obj.metadata.managedFields.find((m: any) => m.operation === 'Apply');
    assert.equal(apply.manager, 'kubectl');
    assert.ok(apply.fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"web"}']['f:image']);
    await c.run(['apply', '--server-side', '-f', '-'], deployment(2, 'nginx:1'));
    const again = JSON.parse(await c.run(['get', 'deploy', 'web', '-o', 'json']));
    assert.equal(again.metadata.resourceVersion, obj.metadata.resourceVersion);
    // Plain `get` hides managedFields, as upstream kubectl does.
    assert.doesNotMatch(await c.run(['get', 'deploy', 'web', '-o', 'yaml']), /managedFields/);
  });

  it('refuses to change a field another manager set, names it, and --force-conflicts takes it', async () => {
    await c.run(['scale', 'deploy/web', '--replicas=5']);
    const r = await c.kubectl(['apply', '--server-side', '-f', '-'], { input: deployment(3, 'nginx:1') });
    assert.notEqual(r.code, 0);
    // kubectl scale names no field manager: it is "kubectl" (from the user agent), writing through /scale.
    assert.match(r.stderr, /Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps\/v1: \.spec\.replicas/);
    assert.match(r.stderr, /\.spec\.replicas/);
    assert.equal(JSON.parse(await c.run(['get', 'deploy', 'web', '-o', 'json'])).spec.replicas, 5);
    await c.run(['apply', '--server-side', '--force-conflicts', '-f', '-'], deployment(3, 'nginx:1'));
    const obj = JSON.parse(await c.run(['get', 'deploy', 'web', '-o', 'json', '--show-managed-fields']));
    assert.equal(obj.spec.replicas, 3);
    assert.ok(!obj.metadata.managedFields.some((m: any) => m.subresource === 'scale' && m.fieldsV1?.['f:spec']?.['f:replicas']));
  });

  it('removes fields the manager stops applying', async () => {
    await c.run(['apply', '--server-side', '-f', '-'], deployment(3, 'nginx:2', false));
    const obj = JSON.parse(await c.run(['get', 'deploy', 'web', '-o', 'json']));
    assert.deepEqual(obj.spec.template.spec.containers[0].env, [{ name: 'A', value: '1' }]);
    assert.equal(obj.spec.template.spec.containers[0].image, 'nginx:2');
  });

  it('replaces atomic lists (command, args) whole, on create and on a later apply over a client-side apply', async () => {
    const job = (args: string[]) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker}
spec:
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers:
      - name: w
        image: busybox
        command: ["sh", "-c"]
        args: ${JSON.stringify(args)}
`;
    await c.run(['apply', '-f', '-'], job(['sleep 1', 'x']));
    assert.match(await c.run(['apply', '--server-side', '--force-conflicts', '-f', '-'], job(['sleep 2'])), /serverside-applied/);
    let w = JSON.parse(await c.run(['get', 'deploy', 'worker', '-o', 'json'])).spec.template.spec.containers[0];
    assert.deepEqual([w.command, w.args], [['sh', '-c'], ['sleep 2']]);
    await c.run(['delete', 'deploy', 'worker']);
    assert.match(await c.run(['apply', '--server-side', '-f', '-'], job(['sleep 3'])), /serverside-applied/);
    w = JSON.parse(await c.run(['get', 'deploy', 'worker', '-o', 'json'])).spec.template.spec.containers[0];
    assert.deepEqual([w.command, w.args], [['sh', '-c'], ['sleep 3']]);
  });

  it('kubectl diff --server-side shows a pending change without making it', async () => {
    const r = await c.kubectl(['diff', '--server-side', '-f', '-'], { input: deployment(4, 'nginx:2', false) });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /-\s+replicas: 3\n\+\s+replicas: 4/);
    assert.equal(JSON.parse(await c.run(['get', 'deploy', 'web', '-o', 'json'])).spec.replicas, 3);
  });

  it('works from @kubernetes/client-node (ServerSideApply patch strategy), and needs a field manager', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(c.kubeconfig);
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa', namespace: 'default' }, data: { k: 'v' } };
    const made = await objects.patch(cm, undefined, undefined, 'my-controller', undefined, k8s.PatchStrategy.ServerSideApply);
    assert.equal((made as any).data.k, 'v');
    assert.equal((made.metadata as any)?.managedFields?.[0]?.manager, 'my-controller');
    const client = await clientFromKubeconfig(c.kubeconfig);
    try {
      const path = '/api/v1/namespaces/default/configmaps/ssa';
      const noManager = await client.request('PATCH', path, cm, { 'content-type': 'application/apply-patch+yaml' });
      assert.equal(noManager.status, 400);
      assert.match(noManager.json().message, /fieldManager/);
      const forceOnMerge = await client.request('PATCH', `${path}?force=true`, { data: { k: 'x' } }, { 'content-type': 'application/merge-patch+json' });
      assert.equal(forceOnMerge.status, 400);
    } finally {
      client.close();
    }
  });
});
