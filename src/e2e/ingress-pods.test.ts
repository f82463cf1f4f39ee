/**
 * The seed's two rewrite-target examples with real pods, as `skiff up` composes them: busybox
 * httpd pods under the kubelet (process runtime, each pod in its own network namespace), a
 * Service and the two Ingresses applied with kubectl, and the ingress component (the default
 * IngressClass, the controller, data plane workers on host ports) proxying to the pod IPs.
 * `/app` reaches the pods as `/`, `/app/v1/foo` as `/v1/foo`: each pod serves a file at both paths.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { needs, which } from '../testing/real.js';
import { detectNetworkMode } from '../network/pod/select.js';
import { BUSYBOX, holdHostPodRange } from '../testing/podrange.js';
import { freePort } from '../ingress/peers.js';
import { requestHost, seedIngressesYaml } from '../ingress/fixtures.js';
import { until } from '../testing/wait.js';

const root = process.getuid?.() === 0;
const skip = !which('kubectl')
  ? 'kubectl is not on PATH'
  : !BUSYBOX
    ? 'busybox is not installed (busybox-static)'
    : !root
      ? 'needs root (pods in network namespaces, reachable from the host)'
      : !which('ip') || !which('nft')
        ? 'needs iproute2 and nftables'
        : undefined;

const manifests = (www: string) => `apiVersion: v1
kind: Service
metadata: { name: app }
spec: { selector: { app: app }, ports: [{ name: http, port: 80, targetPort: http }] }
---
${['app-0', 'app-1']
  .map(
    (name) => `apiVersion: v1
kind: Pod
metadata: { name: ${name}, labels: { app: app } }
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: web
    image: busybox
    command: ["${BUSYBOX}", "sh", "-c", 'd=$WWW/$HOSTNAME; mkdir -p $d/v1 && echo "root $HOSTNAME" > $d/index.html && echo "v1-foo $HOSTNAME" > $d/v1/foo && exec ${BUSYBOX} httpd -f -p $SKIFF_LISTEN_IP:8080 -h $d']
    env: [{ name: WWW, value: "${www}" }]
    ports: [{ name: http, containerPort: 8080 }]
    readinessProbe: { httpGet: { path: /, port: 8080 }, periodSeconds: 1 }
---
`,
  )
  .join('')}${seedIngressesYaml()}`;

describe('ingress with real pods (skiff up composition)', () => {
  let c: TestCluster | undefined;
  let releaseRange: (() => void) | undefined;
  let www = '';
  let httpPort = 0;
  const id = randomBytes(2).toString('hex');

  before(async () => {
    if (skip) return;
    releaseRange = await holdHostPodRange();
    www = mkdtempSync(path.join(tmpdir(), 'skiff-ingress-www-'));
    httpPort = await freePort();
    c = await startTestCluster({
      components: { controllers: true, scheduler: true, kubelet: true, ingress: true },
      up: {
        networkMode: detectNetworkMode() === 'cni' ? 'cni' : 'netns',
        networkPrefix: `ski${id}`,
        nodeName: `ingnode-${id}`,
        runtime: 'process',
        ingressPorts: [{ http: httpPort, https: await freePort() }],
      },
    });
  });
  after(async () => {
    await c?.stop();
    releaseRange?.();
    if (www) rmSync(www, { recursive: true, force: true });
  });

  it('/app → / and /app/v1/foo → /v1/foo at the pods, over both pods', async (t) => {
    if (!needs(t, skip)) return;
    const k = (args: string[], input?: string) => c!.run(args, input);
    // The default ServiceAccount appears shortly after the namespace does (admission needs it).
    await until('objects created', async () => !!(await k(['apply', '-f', '-'], manifests(www))));
    await until('pods ready', async () => {
      const pods = JSON.parse(await k(['get', 'pods', '-o', 'json'])).items;
      return pods.length === 2 && pods.every((p: any) => p.status?.conditions?.some((x: any) => x.type === 'Ready' && x.status === 'True'));
    }, 120_000);
    const get = (host: string, target: string) => requestHost(httpPort, host, target);
    const simple = await until('simple.test/app served by a pod', async () => {
      const r = await get('simple.test', '/app');
      return r.status === 200 ? r : undefined;
    }, 60_000);
    assert.match(simple.body, /^root app-[01]\n$/);
    assert.match((await get('simple.test', '/app/anything/below')).body, /^root app-[01]\n$/);
    const seen = new Set<string>();
    await until('captures.test/app/v1/foo from both pods', async () => {
      const r = await get('captures.test', '/app/v1/foo');
      assert.ok(r.status === 200 || r.status === 503, `status ${r.status}`);
      if (r.status === 200) {
        assert.match(r.body, /^v1-foo app-[01]\n$/);
        seen.add(r.body.trim());
      }
      return seen.size === 2;
    }, 60_000);
    assert.match((await get('captures.test', '/app/')).body, /^root app-[01]\n$/);
    assert.equal((await get('captures.test', '/other')).status, 404);
    // status.loadBalancer is written by the controller of `skiff up`.
    await until('status', async () => !!(await k(['get', 'ingress', 'simple', '-o', 'jsonpath={.status.loadBalancer.ingress[0]}'])));
  });
});
