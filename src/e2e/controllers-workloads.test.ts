/**
 * Workload controllers end to end with the real kubectl: Deployments and ReplicaSets (rollout,
 * undo, scale), garbage collection (background, orphan, foreground), namespace deletion, default
 * ServiceAccounts and kube-root-ca.crt. A fake kubelet binds pods and reports them Running.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { needs, which } from '../testing/real.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { Informer } from '../client/informer.js';
import { createControllerManager, type ControllerManager } from '../controllers/manager.js';
import { startFakeKubelet, type FakeKubelet } from './fakekubelet.js';
import { until } from '../testing/wait.js';


const kubectlMissing = which('kubectl') ? undefined : 'kubectl is not on PATH';
/** The controllers under test, so other controllers' state cannot slow or break these tests. */
const CONTROLLERS = ['deployment', 'replicaset', 'garbage-collector', 'namespace', 'serviceaccount', 'root-ca-cert-publisher'];

describe('workload controllers (kubectl)', { skip: false }, () => {
  let c: TestCluster;
  let client: RestClient;
  let mgr: ControllerManager;
  let kubelet: FakeKubelet;
  let caPem: string;
  before(async () => {
    c = await startTestCluster();
    client = new RestClient(configFromKubeconfig(c.kubeconfig, 'e2e'));
    caPem = readFileSync(path.join(c.dataDir, 'pki', 'ca.crt'), 'utf8');
    kubelet = await startFakeKubelet(client, { nodes: ['node-a', 'node-b', 'node-c'], holdRunning: (p) => p.metadata.labels?.hold === 'true' });
    mgr = createControllerManager(client, { caPem, identity: 'e2e', controllers: CONTROLLERS });
    await mgr.start();
    await mgr.whenRunning();
  });
  after(async () => {
    await mgr?.stop();
    await kubelet?.stop();
    client?.close();
    await c?.stop();
  });

  const k = (args: string[], input?: string) => c.run(args, input);
  const podsOf = async (ns: string, selector: string) => (await client.get(`/api/v1/namespaces/${ns}/pods`, { labelSelector: selector })).items as any[];

  it('create, roll out, set image with maxUnavailable kept, undo, scale, history', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    let r = await c.kubectl(['create', 'deployment', 'web', '--image=nginx:1.26', '--replicas=3']);
    if (r.code !== 0) {
      // kubectl create sends protobuf; fall back to apply (JSON) where the API server lacks it.
      t.diagnostic(`kubectl create deployment failed (${r.stderr.trim()}); using kubectl apply`);
      await k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { app: 'web' } }, spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.26' }] } } } }));
    }
    const out = await k(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    assert.match(out, /successfully rolled out/);
    const rs1 = (await client.get('/apis/apps/v1/namespaces/default/replicasets')).items.filter((x: any) => x.metadata.name.startsWith('web-'));
    assert.equal(rs1.length, 1);
    assert.ok(rs1[0].metadata.labels['pod-template-hash']);
    assert.equal(rs1[0].metadata.annotations['deployment.kubernetes.io/revision'], '1');
    const pods = await podsOf('default', 'app=web');
    assert.equal(pods.length, 3);
    for (const p of pods) assert.equal(p.metadata.ownerReferences[0].name, rs1[0].metadata.name);
    const d1 = await client.get('/apis/apps/v1/namespaces/default/deployments/web');
    assert.equal(d1.status.availableReplicas, 3);
    assert.deepEqual(d1.status.conditions.map((x: any) => `${x.type}=${x.status}/${x.reason}`).sort(), ['Available=True/MinimumReplicasAvailable', 'Progressing=True/NewReplicaSetAvailable']);

    // Watch every pod change during the rollout: available (ready, not terminating) pods never drop below replicas - maxUnavailable.
    const [, maxUnavailable] = [1, 0]; // kubectl create deployment: 25% of 3 → surge 1, unavailable 0
    const watcher = new Informer(client, { group: '', version: 'v1', resource: 'pods', namespace: 'default', labelSelector: 'app=web' });
    let minAvailable = Infinity;
    let synced = false;
    const check = () => {
      if (!synced) return; // the initial list arrives one pod at a time
      const n = watcher.list().filter((p) => !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((x: any) => x.type === 'Ready' && x.status === 'True')).length;
      minAvailable = Math.min(minAvailable, n);
    };
    watcher.addHandlers({ add: check, update: check, delete: check });
    await watcher.start();
    synced = true;
    check();
    await k(['set', 'image', 'deployment/web', 'nginx=nginx:1.27']);
    assert.match(await k(['rollout', 'status', 'deployment/web', '--timeout=60s']), /successfully rolled out/);
    watcher.stop();
    assert.ok(minAvailable >= 3 - maxUnavailable, `available pods dropped to ${minAvailable}`);
    const after2 = await podsOf('default', 'app=web');
    assert.equal(after2.filter((p) => !p.metadata.deletionTimestamp).length, 3);
    assert.ok(after2.every((p) => p.spec.containers[0].image === 'nginx:1.27'));
    const events = (await client.get('/api/v1/namespaces/default/events')).items as any[];
    assert.ok(events.some((e) => e.reason === 'ScalingReplicaSet' && /^Scaled up replica set web-\w+ to 3$/.test(e.message)), 'ScalingReplicaSet event');
    assert.ok(events.some((e) => e.reason === 'SuccessfulCreate' && /^Created pod: web-/.test(e.message)), 'SuccessfulCreate event');
    assert.ok(events.some((e) => e.reason === 'SuccessfulDelete' && /^Deleted pod: web-/.test(e.message)), 'SuccessfulDelete event');

    const hist = await k(['rollout', 'history', 'deployment/web']);
    assert.match(hist, /^1\s/m);
    assert.match(hist, /^2\s/m);

    await k(['rollout', 'undo', 'deployment/web']);
    assert.match(await k(['rollout', 'status', 'deployment/web', '--timeout=60s']), /successfully rolled out/);
    await until('pods back on nginx:1.26', async () => {
      const ps = (await podsOf('default', 'app=web')).filter((p) => !p.metadata.deletionTimestamp);
      return ps.length === 3 && ps.every((p) => p.spec.containers[0].image === 'nginx:1.26');
    });
    const d3 = await client.get('/apis/apps/v1/namespaces/default/deployments/web');
    assert.equal(d3.metadata.annotations['deployment.kubernetes.io/revision'], '3');

    await k(['scale', 'deployment/web', '--replicas=5']);
    await until('5 available', async () => (await client.get('/apis/apps/v1/namespaces/default/deployments/web')).status.availableReplicas === 5);
    await k(['scale', 'deployment/web', '--replicas=2']);
    assert.match(await k(['rollout', 'status', 'deployment/web', '--timeout=60s']), /successfully rolled out/);
    await until('2 pods', async () => (await podsOf('default', 'app=web')).filter((p) => !p.metadata.deletionTimestamp).length === 2);
    const d4 = await client.get('/apis/apps/v1/namespaces/default/deployments/web');
    assert.equal(d4.status.replicas, 2);

    // pause/resume/restart
    await k(['rollout', 'pause', 'deployment/web']);
    await until('paused condition', async () => (await client.get('/apis/apps/v1/namespaces/default/deployments/web')).status.conditions.some((x: any) => x.reason === 'DeploymentPaused'));
    await k(['rollout', 'resume', 'deployment/web']);
    await k(['rollout', 'restart', 'deployment/web']);
    assert.match(await k(['rollout', 'status', 'deployment/web', '--timeout=60s']), /successfully rolled out/);
    const rsAll = (await client.get('/apis/apps/v1/namespaces/default/replicasets')).items.filter((x: any) => x.metadata.name.startsWith('web-'));
    assert.equal(rsAll.length, 3, `revisions 1(+3), 2 and the restart: ${JSON.stringify(rsAll.map((x: any) => [x.metadata.name, x.metadata.annotations, x.spec.template]))}`);
  });
  it('a rollout that makes no progress reports ProgressDeadlineExceeded', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'stuck' }, spec: { replicas: 2, progressDeadlineSeconds: 2, selector: { matchLabels: { app: 'stuck' } }, template: { metadata: { labels: { app: 'stuck', hold: 'true' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } } };
    await k(['apply', '-f', '-'], JSON.stringify(d));
    const r = await c.kubectl(['rollout', 'status', 'deployment/stuck', '--timeout=60s']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /exceeded its progress deadline/);
    const got = await client.get('/apis/apps/v1/namespaces/default/deployments/stuck');
    const cond = got.status.conditions.find((x: any) => x.type === 'Progressing');
    assert.equal(cond.status, 'False');
    assert.equal(cond.reason, 'ProgressDeadlineExceeded');
    assert.match(cond.message, /^ReplicaSet "stuck-\w+" has timed out progressing\.$/);
  });
});

describe('garbage collection and namespaces (kubectl)', () => {
  let c: TestCluster;
  let client: RestClient;
  let mgr: ControllerManager;
  let kubelet: FakeKubelet;
  before(async () => {
    c = await startTestCluster();
    client = new RestClient(configFromKubeconfig(c.kubeconfig, 'e2e'));
    const caPem = readFileSync(path.join(c.dataDir, 'pki', 'ca.crt'), 'utf8');
    kubelet = await startFakeKubelet(client, { nodes: ['node-a', 'node-b'] });
    mgr = createControllerManager(client, { caPem, identity: 'e2e', controllers: CONTROLLERS });
    await mgr.start();
    await mgr.whenRunning();
  });
  after(async () => {
    await mgr?.stop();
    await kubelet?.stop();
    client?.close();
    await c?.stop();
  });

  const k = (args: string[], input?: string) => c.run(args, input);
  const deployment = (name: string, ns: string, replicas: number) =>
    JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns }, spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } } });
  const count = async (p: string, sel: string) => ((await client.get(p, { labelSelector: sel })).items as any[]).length;

  it('every namespace gets a default ServiceAccount and kube-root-ca.crt', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    await k(['create', 'namespace', 'team-a']);
    for (const ns of ['default', 'kube-system', 'team-a']) {
      await until(`default SA in ${ns}`, () => client.get(`/api/v1/namespaces/${ns}/serviceaccounts/default`));
      const cm: any = await until(`root CA in ${ns}`, () => client.get(`/api/v1/namespaces/${ns}/configmaps/kube-root-ca.crt`));
      assert.match(cm.data['ca.crt'], /BEGIN CERTIFICATE/);
    }
    assert.match(await k(['get', 'serviceaccounts', '-n', 'team-a']), /default/);
  });

  it('deleting a Deployment removes its ReplicaSets and pods; --cascade=orphan leaves them', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    await k(['apply', '-f', '-'], deployment('gone', 'default', 3));
    await k(['rollout', 'status', 'deployment/gone', '--timeout=60s']);
    await k(['delete', 'deployment', 'gone']);
    await until('ReplicaSets and pods of gone removed', async () => (await count('/apis/apps/v1/namespaces/default/replicasets', 'app=gone')) === 0 && (await count('/api/v1/namespaces/default/pods', 'app=gone')) === 0);

    await k(['apply', '-f', '-'], deployment('kept', 'default', 2));
    await k(['rollout', 'status', 'deployment/kept', '--timeout=60s']);
    await k(['delete', 'deployment', 'kept', '--cascade=orphan']);
    const rs: any = await until('orphaned ReplicaSet', async () => {
      const items = (await client.get('/apis/apps/v1/namespaces/default/replicasets', { labelSelector: 'app=kept' })).items;
      return items.length === 1 && !items[0].metadata.ownerReferences ? items[0] : undefined;
    });
    const pods = (await client.get('/api/v1/namespaces/default/pods', { labelSelector: 'app=kept' })).items as any[];
    assert.equal(pods.length, 2);
    assert.ok(pods.every((p) => p.metadata.ownerReferences[0].uid === rs.metadata.uid));
    // Foreground: the ReplicaSet stays (with the finalizer) until its pods are gone.
    await k(['delete', 'replicaset', rs.metadata.name, '--cascade=foreground']);
    await until('foreground delete done', async () => (await count('/apis/apps/v1/namespaces/default/replicasets', 'app=kept')) === 0);
    assert.equal(await count('/api/v1/namespaces/default/pods', 'app=kept'), 0);
  });

  it('deleting a namespace empties it and removes it', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    await k(['create', 'namespace', 'doomed']);
    await k(['apply', '-f', '-'], deployment('app', 'doomed', 2));
    await k(['create', 'configmap', 'cfg', '-n', 'doomed', '--from-literal=a=b']);
    await k(['rollout', 'status', 'deployment/app', '-n', 'doomed', '--timeout=60s']);
    // A finalizer nobody removes holds the namespace in Terminating, with the upstream conditions.
    await client.create('/api/v1/namespaces/doomed/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', finalizers: ['example.com/hold'] } });
    await k(['delete', 'namespace', 'doomed', '--wait=false']);
    const ns: any = await until('finalizers-remaining condition', async () => {
      const n = await client.get('/api/v1/namespaces/doomed');
      const fr = (n.status.conditions ?? []).find((x: any) => x.type === 'NamespaceFinalizersRemaining');
      return fr?.status === 'True' ? n : undefined;
    });
    assert.equal(ns.status.phase, 'Terminating');
    const cond = (type: string) => ns.status.conditions.find((x: any) => x.type === type);
    assert.equal(cond('NamespaceFinalizersRemaining').message, 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances');
    assert.equal(cond('NamespaceContentRemaining').reason, 'SomeResourcesRemain');
    assert.equal(cond('NamespaceDeletionDiscoveryFailure').status, 'False');
    await until('pods gone', async () => (await client.get('/api/v1/pods', { fieldSelector: 'metadata.namespace=doomed' })).items.length === 0);
    await client.patch('/api/v1/namespaces/doomed/configmaps/held', { metadata: { finalizers: null } });
    await until('namespace gone', async () => {
      try {
        await client.get('/api/v1/namespaces/doomed');
        return false;
      } catch (e) {
        return (e as any).status === 404;
      }
    });
    assert.equal((await client.get('/api/v1/pods', { fieldSelector: 'metadata.namespace=doomed' })).items.length, 0);
  });
});
