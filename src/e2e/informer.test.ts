import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';

/** The official client library's informer (list + watch) sees every change, in order. */
describe('@kubernetes/client-node informer', () => {
  let c: TestCluster;
  before(async () => {
    c = await startTestCluster();
  });
  after(async () => {
    await c.stop();
  });

  it('sees every change in order', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(c.kubeconfig);
    const api = kc.makeApiClient(k8s.CoreV1Api);
    await api.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'pre' }, data: { n: '0' } } });
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => api.listNamespacedConfigMap({ namespace: 'default' }));
    const seen: string[] = [];
    informer.on('add', (o: k8s.V1ConfigMap) => seen.push(`add ${o.metadata!.name} ${o.data?.n ?? ''}`));
    informer.on('update', (o: k8s.V1ConfigMap) => seen.push(`update ${o.metadata!.name} ${o.data?.n ?? ''}`));
    informer.on('delete', (o: k8s.V1ConfigMap) => seen.push(`delete ${o.metadata!.name}`));
    await informer.start();
    const expected = ['add pre 0'];
    for (let i = 1; i <= 20; i++) {
      await api.replaceNamespacedConfigMap({ name: 'pre', namespace: 'default', body: { metadata: { name: 'pre' }, data: { n: String(i) } } });
      expected.push(`update pre ${i}`);
    }
    await api.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'later' }, data: { n: 'x' } } });
    expected.push('add later x');
    await api.deleteNamespacedConfigMap({ name: 'pre', namespace: 'default' });
    expected.push('delete pre');
    const deadline = Date.now() + 10_000;
    while (seen.length < expected.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await informer.stop();
    // The kube-root-ca configmap does not exist yet in this issue; only our objects are expected.
    assert.deepEqual(seen, expected);
  });
});
