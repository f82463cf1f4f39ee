/**
 * pods/proxy and services/proxy end to end, as `kubectl proxy` users and `kubectl get --raw` reach
 * them: kubectl → API server → the pod's IP (a real process on the process runtime), or a ready
 * endpoint of the service (kept by the endpoints controller).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import https from 'node:https';
import { configFromKubeconfig } from '../client/rest.js';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { which } from '../testing/real.js';
import { until } from '../testing/wait.js';

// Answers plain requests with their method and path; an upgrade to "echo" sends back whatever arrives.
const SERVER = `require('http').createServer((q, r) => r.end(q.method + ' ' + q.url)).on('upgrade', (q, s) => { s.write('HTTP/1.1 101 Switching Protocols\\r\\nUpgrade: echo\\r\\nConnection: Upgrade\\r\\n\\r\\n' + q.url + '|'); s.pipe(s); }).listen(8080, process.env.SKIFF_LISTEN_IP || '0.0.0.0')`;

describe('pods/proxy and services/proxy', () => {
  let c: TestCluster | undefined;
  const node = `px-${randomBytes(2).toString('hex')}`;
  const skip = which('kubectl') ? undefined : 'kubectl is not on PATH';

  before(async () => {
    if (skip) return;
    c = await startTestCluster({ components: { kubelet: true, controllers: true }, up: { runtime: 'process', networkMode: 'loopback', nodeName: node, networkPrefix: `px${node.slice(3)}` } });
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: { nodeName: node, containers: [{ name: 'web', image: 'node', command: [process.execPath, '-e', SERVER], ports: [{ containerPort: 8080 }], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }] },
    };
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } };
    for (const o of [pod, svc]) await until(`${o.kind} created`, async () => (await c!.kubectl(['apply', '-f', '-'], { input: JSON.stringify(o) })).code === 0);
    await c.run(['wait', '--for=condition=Ready', 'pod/web', '--timeout=60s']);
    await until('the endpoint is ready', async () => (await c!.kubectl(['get', 'endpoints', 'web', '-o', 'jsonpath={.subsets[0].addresses[0].ip}'])).stdout.trim() !== '');
  });

  after(async () => {
    await c?.stop();
  });

  const raw = (p: string) => c!.kubectl(['get', '--raw', p]);

  it('forwards to the pod, on the port named in the request or else its first container port', { skip }, async () => {
    assert.equal((await c!.run(['get', '--raw', '/api/v1/namespaces/default/pods/web:8080/proxy/a/b?x=1'])).trim(), 'GET /a/b?x=1');
    assert.equal((await c!.run(['get', '--raw', '/api/v1/namespaces/default/pods/web/proxy/'])).trim(), 'GET /');
    assert.equal((await c!.run(['get', '--raw', '/api/v1/namespaces/default/pods/http:web:8080/proxy/z'])).trim(), 'GET /z');
  });

  it('serves client-node proxy calls: the escaped path decoded, the type of an untyped answer sniffed as Go', { skip }, async () => {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(c!.kubeconfig);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    // client-node escapes the whole path (a%2Fb): kube-apiserver forwards the decoded path, trailing slash kept.
    assert.equal(await core.connectGetNamespacedPodProxyWithPath({ name: 'web:8080', namespace: 'default', path: 'a/b' }), 'GET /a/b');
    assert.equal(await core.connectGetNamespacedPodProxyWithPath({ name: 'web:8080', namespace: 'default', path: 'ui/' }), 'GET /ui/');
    assert.equal(await core.connectGetNamespacedServiceProxyWithPath({ name: 'web:http', namespace: 'default', path: 's' }), 'GET /s');
    const node = (await core.listNode()).items[0].metadata!.name!;
    assert.equal(await core.connectGetNodeProxyWithPath({ name: node, path: 'healthz' }), 'ok');
  });

  it('forwards to a ready endpoint of the service, by port number or port name', { skip }, async () => {
    for (const id of ['web:80', 'web:http', 'http:web:http']) {
      assert.equal((await c!.run(['get', '--raw', `/api/v1/namespaces/default/services/${id}/proxy/p`])).trim(), 'GET /p', id);
    }
  });

  it('carries an upgrade (WebSocket and the like) through to the pod and back', { skip }, async () => {
    const cfg = configFromKubeconfig(c!.kubeconfig);
    for (const p of ['/api/v1/namespaces/default/pods/web:8080/proxy/ws?x=1', '/api/v1/namespaces/default/services/web:http/proxy/ws']) {
      const got = await new Promise<string>((resolve, reject) => {
        const u = new URL(cfg.server);
        const req = https.request({ host: u.hostname, port: u.port, path: p, ca: cfg.caPem, cert: cfg.certPem, key: cfg.keyPem, headers: { connection: 'Upgrade', upgrade: 'echo' } });
        req.on('upgrade', (res, sock, head: Buffer) => {
          let data = head.toString();
          sock.on('data', (d: Buffer) => {
            data += d.toString();
            if (data.endsWith('ping')) {
              sock.destroy();
              resolve(`${res.statusCode} ${data}`);
            }
          });
          sock.write('ping');
        });
        req.on('response', (res) => reject(new Error(`no upgrade: HTTP ${res.statusCode}`)));
        req.on('error', reject);
        req.end();
      });
      assert.equal(got, `101 ${p.includes('?') ? '/ws?x=1' : '/ws'}|ping`, p);
    }
  });

  it('refuses bad requests with upstream Status errors', { skip }, async () => {
    const noPort = await raw('/api/v1/namespaces/default/services/web:81/proxy/');
    assert.notEqual(noPort.code, 0);
    assert.match(noPort.stderr, /no service port 81 found for service "web"/);
    const badId = await raw('/api/v1/namespaces/default/pods/ftp:web:80/proxy/');
    assert.match(badId.stderr, /invalid pod request "ftp:web:80"/);
    // As upstream: no port means the endpoint port without a name, and this service's only port has one.
    assert.match((await raw('/api/v1/namespaces/default/services/web/proxy/')).stderr, /no endpoints available for service "web"/);
    const missing = await raw('/api/v1/namespaces/default/services/nope/proxy/');
    assert.match(missing.stderr, /services "nope" not found/);
    const refused = await raw('/api/v1/namespaces/default/pods/web:8081/proxy/');
    assert.match(refused.stderr, /error trying to reach service: dial tcp [0-9.]+:8081: connect: connection refused/);
  });
});
