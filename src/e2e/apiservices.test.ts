/**
 * API aggregation with the real kubectl: the local APIServices of every served group/version, a
 * service-backed APIService in front of a small HTTPS server (a Service without selector and a
 * manual Endpoints for a loopback-network pod) that requests reach through the aggregator with the caller's
 * identity in X-Remote-User, discovery of its resources, and its availability turning False and
 * requests 503 once the server stops. Also CSIDriver and FlowSchema objects, with upstream columns.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { which } from '../testing/real.js';
import { until } from '../testing/wait.js';
import { ensureClusterPKI, issueClientCert } from '../pki/ca.js';
import { configFromKubeconfig } from '../client/rest.js';
import { startAggregator } from '../apiserver/aggregator/index.js';

const GROUP = 'wardle.example.com';
const GV = `/apis/${GROUP}/v1alpha1`;

interface Seen {
  user?: string | string[];
  group?: string | string[];
  authorization?: string | string[];
}

/**
 * The aggregated server: discovery, and /whoami telling who it believes asked. As k8s.io/apiserver
 * does, it believes X-Remote-User only from a client certificate that the requestheader CA signed
 * for an allowed name (kube-system/extension-apiserver-authentication says which).
 */
function backendHandler(seen: Seen[], allowedNames: () => string[]) {
  return (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    const sock = req.socket as TLSSocket;
    const proxied = sock.authorized && allowedNames().includes(String(sock.getPeerCertificate()?.subject?.CN));
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const url = (req.url ?? '').split('?')[0];
    if (url === GV) {
      return send(200, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion: `${GROUP}/v1alpha1`,
        resources: [
          { name: 'flunders', singularName: 'flunder', namespaced: true, kind: 'Flunder', verbs: ['get', 'list'], shortNames: ['fl'] },
          { name: 'flunders/status', singularName: '', namespaced: true, kind: 'Flunder', verbs: ['get'] },
        ],
      });
    }
    if (url === `${GV}/whoami`) {
      seen.push({ user: req.headers['x-remote-user'], group: req.headers['x-remote-group'], authorization: req.headers.authorization });
      return send(200, { kind: 'WhoAmI', user: proxied ? req.headers['x-remote-user'] : 'system:anonymous', groups: proxied ? req.headers['x-remote-group'] : [] });
    }
    send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound' });
  };
}

// The endpoint is a pod IP on a node whose pods use the loopback network (as Skiff's process
// runtime without root): the server dials its 127 alias. (Endpoints may not name 127.0.0.1 itself.)
const POD_IP = '10.244.0.77';
const POD_ALIAS = '127.244.0.77';

function manifests(port: number, caBundle: string): string {
  return `apiVersion: v1
kind: Node
metadata:
  name: agg-node
status:
  conditions:
  - type: NetworkPolicyNotEnforced
    status: "True"
    reason: LoopbackPodNetwork
    message: pods listen on loopback aliases
---
apiVersion: v1
kind: Namespace
metadata:
  name: sample-ns
---
apiVersion: v1
kind: Service
metadata:
  name: sample-api
  namespace: sample-ns
spec:
  ports:
  - name: https
    port: 443
    targetPort: ${port}
---
apiVersion: v1
kind: Endpoints
metadata:
  name: sample-api
  namespace: sample-ns
subsets:
- addresses:
  - ip: ${POD_IP}
    nodeName: agg-node
  ports:
  - name: https
    port: ${port}
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  name: v1alpha1.${GROUP}
spec:
  group: ${GROUP}
  version: v1alpha1
  groupPriorityMinimum: 1000
  versionPriority: 15
  caBundle: ${caBundle}
  service:
    namespace: sample-ns
    name: sample-api
`;
}

/** A request as the admin, with headers of the caller's choosing. */
function rawRequest(kubeconfig: string, p: string, headers: Record<string, string>): Promise<{ code: number; body: string }> {
  const cfg = configFromKubeconfig(kubeconfig);
  const u = new URL(p, cfg.server);
  return new Promise((resolve, reject) => {
    const req = https.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'GET', ca: cfg.caPem, cert: cfg.certPem, key: cfg.keyPem, headers: { accept: 'application/json', ...headers }, ...(cfg.token ? { headers: { ...headers, authorization: `Bearer ${cfg.token}` } } : {}) }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('APIServices and aggregation', () => {
  let c: TestCluster | undefined;
  let backend: https.Server | undefined;
  let pkiDir: string | undefined;
  const seen: Seen[] = [];
  const skip = !which('kubectl') ? 'kubectl is not on PATH' : undefined;
  before(async () => {
    if (skip) return;
    c = await startTestCluster();
    // skiff up wires the aggregator into the API server (a second start returns that one): this is
    // that wiring, with the proxy client certificate signed by the cluster CA.
    const pki = c.cluster.pki;
    await startAggregator(c.cluster.apiServer.registry, {
      resyncMs: 2000,
      proxyClient: await issueClientCert(pki, 'front-proxy-client', []),
      authentication: { clientCA: pki.ca.certPem, requestHeaderCA: pki.ca.certPem, requestHeaderAllowedNames: ['front-proxy-client'] },
    });
  });
  after(async () => {
    backend?.closeAllConnections();
    backend?.close();
    await c?.stop();
    if (pkiDir) await rm(pkiDir, { recursive: true, force: true });
  });

  it('lists a local APIService for every served group/version', { skip }, async () => {
    const out = await until('the local APIServices', async () => {
      const o = await c!.run(['get', 'apiservices']);
      return /^v1beta1\.metrics\.k8s\.io +Local +True +\S+$/m.test(o) ? o : undefined;
    }, 20_000, 200);
    assert.match(out, /^NAME +SERVICE +AVAILABLE +AGE\n/);
    for (const name of ['v1.', 'v1.apps', 'v1.apiregistration.k8s.io', 'v2.autoscaling', 'v1.flowcontrol.apiserver.k8s.io', 'v1.storage.k8s.io']) {
      assert.match(out, new RegExp(`^${name.replace(/\./g, '\\.')} +Local +True +\\S+$`, 'm'), name);
    }
    const apps = JSON.parse(await c!.run(['get', 'apiservice', 'v1.apps', '-o', 'json']));
    assert.equal(apps.metadata.labels['kube-aggregator.kubernetes.io/automanaged'], 'onstart');
    assert.deepEqual({ gpm: apps.spec.groupPriorityMinimum, vp: apps.spec.versionPriority }, { gpm: 17800, vp: 15 });
    assert.deepEqual(
      apps.status.conditions.map((x: any) => [x.type, x.status, x.reason, x.message]),
      [['Available', 'True', 'Local', 'Local APIServices are always available']],
    );
  });

  it('registers a local APIService for a CRD group/version and removes it with the CRD', { skip }, async () => {
    await c!.run(['apply', '-f', '-'], `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: { plural: gadgets, singular: gadget, kind: Gadget }
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: { type: object, x-kubernetes-preserve-unknown-fields: true }
`);
    const got = await until('the CRD APIService', async () => {
      const r = await c!.kubectl(['get', 'apiservice', 'v1.stable.example.com', '-o', 'json']);
      return r.code === 0 ? JSON.parse(r.stdout) : undefined;
    }, 20_000, 200);
    assert.equal(got.metadata.labels['kube-aggregator.kubernetes.io/automanaged'], 'true');
    assert.deepEqual([got.spec.groupPriorityMinimum, got.spec.versionPriority, got.status.conditions[0].reason], [1000, 100, 'Local']);
    await c!.run(['delete', 'crd', 'gadgets.stable.example.com']);
    await until('the CRD APIService to go', async () => (await c!.kubectl(['get', 'apiservice', 'v1.stable.example.com'])).code !== 0, 20_000, 200);
  });

  it('refuses an APIService whose name is not version.group, with upstream messages', { skip }, async () => {
    const r = await c!.kubectl(['apply', '-f', '-'], {
      input: `apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata:\n  name: wrong\nspec:\n  group: x.example.com\n  version: v1\n  groupPriorityMinimum: 0\n  versionPriority: 1001\n  insecureSkipTLSVerify: true\n`,
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /metadata\.name: Invalid value: "wrong": must be `spec\.version\+"\."\+spec\.group`: "v1\.x\.example\.com"/);
    assert.match(r.stderr, /spec\.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000/);
    assert.match(r.stderr, /spec\.versionPriority: Invalid value: 1001: must be positive and less than 1000/);
    assert.match(r.stderr, /spec\.insecureSkipTLSVerify: Invalid value: true: local APIServices may not have insecureSkipTLSVerify/);
  });

  it('proxies a service-backed APIService with the caller identity, serves its discovery, and tracks availability', { skip }, async () => {
    pkiDir = await mkdtemp(path.join(tmpdir(), 'skiff-agg-pki-'));
    const pki = await ensureClusterPKI(pkiDir, { serverSANs: { dns: ['sample-api.sample-ns.svc'], ips: [] } });
    // What the server learns from the API, as metrics-server does.
    const auth = JSON.parse(await c!.run(['get', 'configmap', '-n', 'kube-system', 'extension-apiserver-authentication', '-o', 'json'])).data;
    assert.deepEqual(JSON.parse(auth['requestheader-username-headers']), ['X-Remote-User']);
    const allowed: string[] = JSON.parse(auth['requestheader-allowed-names']);
    backend = https.createServer({ cert: pki.apiserver.certPem, key: pki.apiserver.keyPem, ca: auth['requestheader-client-ca-file'], requestCert: true, rejectUnauthorized: false }, backendHandler(seen, () => allowed));
    await new Promise<void>((r) => backend!.listen(0, POD_ALIAS, () => r()));
    const port = (backend.address() as AddressInfo).port;
    await c!.run(['apply', '-f', '-'], manifests(port, Buffer.from(pki.ca.certPem).toString('base64')));

    await until('the APIService to be Available', async () => /^v1alpha1\.wardle\.example\.com +sample-ns\/sample-api +True +\S+$/m.test(await c!.run(['get', 'apiservices'])), 20_000, 200);
    const got = JSON.parse(await c!.run(['get', 'apiservice', `v1alpha1.${GROUP}`, '-o', 'json']));
    assert.deepEqual([got.status.conditions[0].reason, got.status.conditions[0].message, got.spec.service.port], ['Passed', 'all checks passed', 443]);

    // Discovery document and a resource request go through the proxy.
    const doc = JSON.parse(await c!.run(['get', '--raw', GV]));
    assert.equal(doc.groupVersion, `${GROUP}/v1alpha1`);
    const who = JSON.parse(await c!.run(['get', '--raw', `${GV}/whoami`]));
    assert.equal(who.user, 'skiff-admin');
    assert.match(String(who.groups), /system:masters/);

    // A caller's own X-Remote-* headers never reach the server; its credentials neither.
    const forged = await rawRequest(c!.kubeconfig, `${GV}/whoami`, { 'X-Remote-User': 'system:admin', 'X-Remote-Group': 'evil', 'X-Remote-Extra-Scopes': 'all' });
    assert.equal(forged.code, 200, forged.body);
    const last = seen[seen.length - 1]!;
    assert.equal(last.user, 'skiff-admin');
    assert.ok(!String(last.group).includes('evil'));
    assert.equal(last.authorization, undefined);

    // A path the server behind would read differently than it was authorized is refused, not forwarded.
    const before = seen.length;
    for (const p of [`${GV}/namespaces//pods`, `${GV}/namespaces/default/pods/..%2F..%2Fkube-system%2Fpods`]) {
      const r = await rawRequest(c!.kubeconfig, p, {});
      assert.equal(r.code, 400, `${p}: ${r.body}`);
      assert.equal(JSON.parse(r.body).reason, 'BadRequest');
    }
    assert.equal(seen.length, before);

    // Discovery lists the aggregated group and its resources.
    const groups = JSON.parse(await c!.run(['get', '--raw', '/apis']));
    assert.ok(groups.groups.some((g: any) => g.name === GROUP && g.preferredVersion.version === 'v1alpha1'));
    const group = JSON.parse(await c!.run(['get', '--raw', `/apis/${GROUP}`]));
    assert.equal(group.preferredVersion.groupVersion, `${GROUP}/v1alpha1`);
    const resources = await c!.run(['api-resources', `--api-group=${GROUP}`]);
    assert.match(resources, /^flunders +fl +wardle\.example\.com\/v1alpha1 +true +Flunder$/m);

    // The server goes away: requests fail with 503 and the APIService turns unavailable.
    backend.closeAllConnections();
    await new Promise<void>((r) => backend!.close(() => r()));
    const down = await c!.kubectl(['get', '--raw', `${GV}/whoami`]);
    assert.notEqual(down.code, 0);
    assert.match(down.stderr, /ServiceUnavailable|service unavailable|503/i);
    const row = await until('the APIService to turn unavailable', async () => {
      const o = await c!.run(['get', 'apiservices', `v1alpha1.${GROUP}`]);
      return /False \(FailedDiscoveryCheck\)/.test(o) ? o : undefined;
    }, 20_000, 200);
    assert.match(row, /^v1alpha1\.wardle\.example\.com +sample-ns\/sample-api +False \(FailedDiscoveryCheck\) +\S+$/m);
    const unavailable = await c!.kubectl(['get', '--raw', `${GV}/whoami`]);
    assert.match(unavailable.stderr, /service unavailable/);
    const status = JSON.parse(await c!.run(['get', 'apiservice', `v1alpha1.${GROUP}`, '-o', 'json']));
    assert.match(status.status.conditions[0].message, /^failing or missing response from https:\/\/127\.244\.0\.77:\d+\/apis\/wardle\.example\.com\/v1alpha1: /);
    // Discovery no longer offers it.
    const after = JSON.parse(await c!.run(['get', '--raw', '/apis']));
    assert.ok(!after.groups.some((g: any) => g.name === GROUP));
  });

  it("takes metrics-server's APIService over the built-in one, serving the built-in metrics API while it is unavailable", { skip }, async () => {
    // As in metrics-server's components.yaml.
    await c!.run(['apply', '-f', '-'], `apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata:
  labels:
    k8s-app: metrics-server
  name: v1beta1.metrics.k8s.io
spec:
  group: metrics.k8s.io
  groupPriorityMinimum: 100
  insecureSkipTLSVerify: true
  service:
    name: metrics-server
    namespace: kube-system
  version: v1beta1
  versionPriority: 100
`);
    const row = await until('metrics-server to be judged', async () => {
      const o = await c!.run(['get', 'apiservice', 'v1beta1.metrics.k8s.io']);
      return /ServiceNotFound/.test(o) ? o : undefined;
    }, 20_000, 200);
    assert.match(row, /^v1beta1\.metrics\.k8s\.io +kube-system\/metrics-server +False \(ServiceNotFound\) +\S+$/m);
    const nodes = JSON.parse(await c!.run(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes']));
    assert.equal(nodes.kind, 'NodeMetricsList');
  });

  it('stores CSIDrivers and FlowSchemas and prints upstream columns', { skip }, async () => {
    // Upstream's mandatory flow-control objects exist from the start.
    assert.match(await c!.run(['get', 'flowschemas', 'exempt', 'catch-all', '--no-headers']), /^exempt\s+exempt\s+1\s+<none>[\s\S]*catch-all\s+catch-all\s+10000\s+ByUser/m);
    assert.match(await c!.run(['get', 'prioritylevelconfigurations', 'catch-all', '--no-headers']), /^catch-all\s+Limited\s+5\s/);
    await c!.run(['apply', '-f', '-'], `apiVersion: storage.k8s.io/v1
kind: CSIDriver
metadata:
  name: hostpath.csi.k8s.io
spec:
  podInfoOnMount: true
  volumeLifecycleModes: [Persistent, Ephemeral]
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata:
  name: sample-pl
spec:
  type: Limited
  limited:
    limitResponse:
      type: Queue
      queuing: {}
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata:
  name: sample-fs
spec:
  priorityLevelConfiguration:
    name: sample-pl
  distinguisherMethod:
    type: ByUser
  rules:
  - subjects:
    - kind: Group
      group:
        name: system:authenticated
    resourceRules:
    - verbs: ["*"]
      apiGroups: ["*"]
      resources: ["*"]
      clusterScope: true
      namespaces: ["*"]
`);
    assert.match(await c!.run(['get', 'csidrivers']), /^NAME +ATTACHREQUIRED +PODINFOONMOUNT +STORAGECAPACITY +TOKENREQUESTS +REQUIRESREPUBLISH +MODES +AGE\nhostpath\.csi\.k8s\.io +true +true +false +<unset> +false +Persistent,Ephemeral +\S+\n$/);
    assert.match(await c!.run(['get', 'flowschemas', 'sample-fs']), /^NAME +PRIORITYLEVEL +MATCHINGPRECEDENCE +DISTINGUISHERMETHOD +AGE +MISSINGPL\nsample-fs +sample-pl +1000 +ByUser +\S+ +(?:\?|False)\n$/);
    assert.match(await c!.run(['get', 'prioritylevelconfigurations', 'sample-pl']), /^NAME +TYPE +NOMINALCONCURRENCYSHARES +QUEUES +HANDSIZE +QUEUELENGTHLIMIT +AGE\nsample-pl +Limited +30 +64 +8 +50 +\S+\n$/);
    // Applying again is a no-op patch (the defaults do not fight the last-applied configuration).
    assert.match(await c!.run(['apply', '-f', '-'], 'apiVersion: storage.k8s.io/v1\nkind: CSIDriver\nmetadata:\n  name: hostpath.csi.k8s.io\nspec:\n  podInfoOnMount: true\n  volumeLifecycleModes: [Persistent, Ephemeral]\n'), /unchanged/);
    const bad = await c!.kubectl(['apply', '-f', '-'], { input: 'apiVersion: flowcontrol.apiserver.k8s.io/v1\nkind: FlowSchema\nmetadata:\n  name: bad\nspec:\n  matchingPrecedence: 20000\n  priorityLevelConfiguration:\n    name: ""\n' });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.matchingPrecedence: Invalid value: 20000: must not be greater than 10000/);
    assert.match(bad.stderr, /spec\.priorityLevelConfiguration\.name: Required value: must reference a priority level/);
    assert.match(await c!.run(['explain', 'apiservice.spec.service']), /port/);
  });
});
