/**
 * EndpointSlices and Endpoints end to end with the real kubectl: a Service with a named
 * targetPort over three pods, readiness changes, publishNotReadyAddresses, and deletion through
 * the garbage collector. A fake kubelet binds pods and reports them Running with an IP.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { needs, which } from '../testing/real.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { createControllerManager, type ControllerManager } from '../controllers/manager.js';
import { startFakeKubelet, type FakeKubelet } from './fakekubelet.js';
import { until } from '../testing/wait.js';


const kubectlMissing = which('kubectl') ? undefined : 'kubectl is not on PATH';

const manifests = `
apiVersion: v1
kind: Service
metadata: { name: web, labels: { tier: front } }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: http }]
${[1, 2, 3]
  .map(
    (i) => `---
apiVersion: v1
kind: Pod
metadata: { name: web-${i}, labels: { app: web } }
spec:
  containers: [{ name: c, image: busybox, command: [sleep, "3600"], ports: [{ name: http, containerPort: 8080 }] }]
`,
  )
  .join('')}`;

describe('endpointslices (kubectl)', () => {
  let c: TestCluster;
  let client: RestClient;
  let mgr: ControllerManager;
  let kubelet: FakeKubelet;
  before(async () => {
    c = await startTestCluster();
    client = new RestClient(configFromKubeconfig(c.kubeconfig, 'e2e'));
    kubelet = await startFakeKubelet(client, { nodes: ['node-a'] });
    mgr = createControllerManager(client, { identity: 'e2e', controllers: ['endpointslice', 'endpoint', 'garbage-collector'] });
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
  const slicesOf = async (svc: string) => JSON.parse(await k(['get', 'endpointslices', '-l', `kubernetes.io/service-name=${svc}`, '-o', 'json'])).items as any[];

  it('publishes ready pods behind a Service with a named targetPort', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    await k(['apply', '-f', '-'], manifests);
    const slices = await until('3 ready endpoints', async () => {
      const s = await slicesOf('web');
      const eps = s.flatMap((x) => x.endpoints ?? []);
      return eps.length === 3 && eps.every((e: any) => e.conditions.ready) ? s : undefined;
    });
    assert.equal(slices.length, 1);
    const s = slices[0];
    assert.equal(s.addressType, 'IPv4');
    assert.deepEqual(s.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.equal(s.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.equal(s.metadata.labels.tier, 'front');
    assert.equal(s.metadata.ownerReferences[0].name, 'web');
    assert.deepEqual(s.endpoints.map((e: any) => e.targetRef.name).sort(), ['web-1', 'web-2', 'web-3']);
    assert.equal(s.endpoints[0].nodeName, 'node-a');

    const table = await k(['get', 'endpointslices']);
    assert.match(table, /web-\w+\s+IPv4\s+8080\s+10\.244\./);
    const desc = await until('describe svc lists 3 endpoints', async () => {
      const d = await k(['describe', 'svc', 'web']);
      return (d.match(/10\.244\.\d+\.\d+:8080/g) ?? []).length === 3 ? d : undefined;
    });
    assert.match(desc, /Endpoints:\s+10\.244\./);
    const ep = JSON.parse(await k(['get', 'endpoints', 'web', '-o', 'json']));
    assert.equal(ep.subsets[0].addresses.length, 3);
    assert.equal(ep.metadata.labels['endpointslice.kubernetes.io/skip-mirror'], 'true');
  });

  it('a pod failing readiness becomes not ready, and publishNotReadyAddresses overrides it', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    const p = await client.get('/api/v1/namespaces/default/pods/web-2');
    const conditions = p.status.conditions.map((x: any) => (x.type === 'Ready' || x.type === 'ContainersReady' ? { ...x, status: 'False' } : x));
    await client.patch('/api/v1/namespaces/default/pods/web-2/status', { status: { conditions } });
    await until('web-2 not ready in the slice', async () => {
      const eps = (await slicesOf('web')).flatMap((x) => x.endpoints ?? []);
      const e = eps.find((x: any) => x.targetRef.name === 'web-2');
      return e && e.conditions.ready === false && e.conditions.serving === false && e.conditions.terminating === false;
    });
    const ep = await until('web-2 under notReadyAddresses', async () => {
      const e = JSON.parse(await k(['get', 'endpoints', 'web', '-o', 'json']));
      return e.subsets?.[0]?.notReadyAddresses?.length === 1 ? e : undefined;
    });
    assert.equal(ep.subsets[0].addresses.length, 2);
    await k(['patch', 'svc', 'web', '-p', '{"spec":{"publishNotReadyAddresses":true}}']);
    await until('every endpoint ready', async () => (await slicesOf('web')).flatMap((x) => x.endpoints ?? []).every((e: any) => e.conditions.ready));
  });

  it('a Service selecting nothing has a placeholder slice; deleting the Service removes its slices', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    await k(['create', 'service', 'clusterip', 'empty', '--tcp=80:8080']);
    const s = await until('placeholder slice', async () => {
      const l = await slicesOf('empty');
      return l.length === 1 ? l[0] : undefined;
    });
    assert.deepEqual(s.endpoints ?? [], []);
    await k(['delete', 'svc', 'web']);
    await until('slices of web collected', async () => (await slicesOf('web')).length === 0);
    await until('endpoints of web deleted', async () => (await c.kubectl(['get', 'endpoints', 'web'])).code !== 0);
  });
});
