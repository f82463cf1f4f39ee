/**
 * nodes/NAME/proxy/<path> with the real kubectl: the API server forwards to a real kubelet's API
 * (process runtime) with its kubelet client certificate; RBAC guards `nodes/proxy`.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { createKubelet } from '../kubelet/agent.js';
import { issueClientCert } from '../pki/ca.js';
import { writeKubeconfig } from '../pki/kubeconfig.js';
import { needs, which } from '../testing/real.js';
import { until } from '../testing/wait.js';

const NODE = 'skiff-proxy-node';

describe('nodes/proxy (real kubelet, real kubectl)', () => {
  let tc: TestCluster;
  let stopKubelet: (() => Promise<void>) | undefined;

  before(async (t) => {
    if (!needs(t as any, which('kubectl') ? undefined : 'kubectl not on PATH')) return;
    tc = await startTestCluster();
    const client = new RestClient(configFromKubeconfig(tc.kubeconfig, 'node-proxy-e2e'));
    const comp = createKubelet(client, { nodeName: NODE, dataDir: path.join(tc.dataDir, 'kubelet'), runtime: 'process', podCIDR: '10.244.9.0/24', port: 0, resyncMs: 2000 });
    await comp.start();
    stopKubelet = () => comp.stop();
    await until('node registered with a kubelet endpoint', async () => {
      const r = await tc.kubectl(['get', 'node', NODE, '-o', 'json']);
      return r.code === 0 && JSON.parse(r.stdout).status?.daemonEndpoints?.kubeletEndpoint?.Port ? true : undefined;
    });
  });

  after(async () => {
    await stopKubelet?.();
    await tc?.stop();
  });

  it('get --raw …/proxy/stats/summary returns the kubelet summary', async () => {
    const summary = JSON.parse(await tc.run(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/stats/summary`]));
    assert.equal(summary.node.nodeName, NODE);
    assert.ok(Array.isArray(summary.pods));
  });

  it('get --raw …/proxy/healthz, with the port in the name too', async () => {
    assert.equal((await tc.run(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/healthz`])).trim(), 'ok');
    const node = JSON.parse(await tc.run(['get', 'node', NODE, '-o', 'json']));
    const port = node.status.daemonEndpoints.kubeletEndpoint.Port;
    assert.equal((await tc.run(['get', '--raw', `/api/v1/nodes/${NODE}:${port}/proxy/healthz`])).trim(), 'ok');
  });

  it('kubelet answers (404 for an unknown path) pass through', async () => {
    const r = await tc.kubectl(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/no-such-kubelet-path`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /NotFound|not found/i);
  });

  it('an upgrade goes through to the kubelet too: exec over a WebSocket via nodes/proxy', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'np-exec' }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '120'] }] } };
    await tc.run(['apply', '-f', '-'], JSON.stringify(pod));
    await tc.run(['wait', '--for=jsonpath={.status.phase}=Running', 'pod/np-exec', '--timeout=60s']);
    const cfg = configFromKubeconfig(tc.kubeconfig);
    const { WebSocket } = await import('ws');
    const url = `${cfg.server.replace(/^https/, 'wss')}/api/v1/nodes/${NODE}/proxy/exec/default/np-exec/c?command=echo&command=via-node-proxy&stdout=true`;
    const got = await new Promise<{ out: string; status: string }>((resolve, reject) => {
      const ws = new WebSocket(url, ['v5.channel.k8s.io'], { ca: cfg.caPem, cert: cfg.certPem, key: cfg.keyPem });
      let out = '';
      ws.on('message', (d: Buffer) => {
        if (d[0] === 1) out += d.subarray(1).toString();
        if (d[0] === 3) {
          resolve({ out, status: d.subarray(1).toString() });
          ws.close();
        }
      });
      ws.on('error', reject);
      ws.on('unexpected-response', (_q, res) => reject(new Error(`no upgrade: HTTP ${res.statusCode}`)));
    });
    assert.equal(got.out, 'via-node-proxy\n');
    assert.equal(JSON.parse(got.status).status, 'Success');
    await tc.run(['delete', 'pod', 'np-exec', '--wait=false']);
  });

  it('a missing node is 404 NotFound', async () => {
    const r = await tc.kubectl(['get', '--raw', '/api/v1/nodes/no-such-node/proxy/healthz']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /nodes "no-such-node" not found/);
  });

  it('an unreachable kubelet port is 503 "error trying to reach service"', async () => {
    // The discard port: nothing listens there (a port just freed could be bound again by another test).
    const free = 9;
    const r = await tc.kubectl(['get', '--raw', `/api/v1/nodes/${NODE}:${free}/proxy/healthz`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ServiceUnavailable|error trying to reach service/);
  });

  it('RBAC: a user without nodes/proxy gets 403; granting get on nodes/proxy lets it through', async () => {
    const pkiDir = path.join(tc.dataDir, 'pki');
    const ca = { certPem: readFileSync(path.join(pkiDir, 'ca.crt'), 'utf8'), keyPem: readFileSync(path.join(pkiDir, 'ca.key'), 'utf8') };
    const cert = await issueClientCert({ ca }, 'proxy-user', []);
    const kc = path.join(tc.dataDir, 'proxy-user.kubeconfig');
    await writeKubeconfig(kc, { server: tc.server, caPem: ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem, userName: 'proxy-user' });
    // Can read nodes, but not proxy to them.
    await tc.run(['create', 'clusterrole', 'node-reader', '--verb=get,list', '--resource=nodes']);
    await tc.run(['create', 'clusterrolebinding', 'node-reader', '--clusterrole=node-reader', '--user=proxy-user']);
    const denied = await tc.kubectl(['--kubeconfig', kc, 'get', '--raw', `/api/v1/nodes/${NODE}/proxy/healthz`]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /Forbidden|forbidden/);
    assert.match(denied.stderr, /cannot get resource "nodes\/proxy"/);
    await tc.run(['create', 'clusterrole', 'node-proxier', '--verb=get', '--resource=nodes/proxy']);
    await tc.run(['create', 'clusterrolebinding', 'node-proxier', '--clusterrole=node-proxier', '--user=proxy-user']);
    const ok = await until('nodes/proxy granted', async () => {
      const r = await tc.kubectl(['--kubeconfig', kc, 'get', '--raw', `/api/v1/nodes/${NODE}/proxy/healthz`]);
      return r.code === 0 ? r.stdout : undefined;
    });
    assert.equal(ok.trim(), 'ok');
    // POST is `create` on nodes/proxy, which this user lacks.
    const post = await tc.kubectl(['--kubeconfig', kc, 'create', '--raw', `/api/v1/nodes/${NODE}/proxy/healthz`, '-f', '-'], { input: '{}' });
    assert.match(post.stderr, /cannot create resource "nodes\/proxy"/);
  });

  it("the kubelet's own port refuses a cluster user's certificate (RBAC cannot be bypassed by going there directly)", async () => {
    const pkiDir = path.join(tc.dataDir, 'pki');
    const ca = { certPem: readFileSync(path.join(pkiDir, 'ca.crt'), 'utf8'), keyPem: readFileSync(path.join(pkiDir, 'ca.key'), 'utf8') };
    const node = JSON.parse(await tc.run(['get', 'node', NODE, '-o', 'json']));
    const port = node.status.daemonEndpoints.kubeletEndpoint.Port;
    const host = node.status.addresses.find((a: any) => a.type === 'InternalIP').address;
    const get = async (cert: { certPem: string; keyPem: string }, p: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = https.request({ host, port, path: p, cert: cert.certPem, key: cert.keyPem, rejectUnauthorized: false /* the kubelet's serving certificate is its own */ }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    const user = await issueClientCert({ ca }, 'jane', ['dev']);
    const refused = await get(user, '/pods');
    assert.equal(refused.status, 403);
    assert.equal(refused.body, 'Forbidden (user=jane, verb=get, resource=nodes, subresource(s)=[proxy])');
    assert.equal((await get(user, '/stats/summary')).body, 'Forbidden (user=jane, verb=get, resource=nodes, subresource(s)=[stats])');
    const admin = await issueClientCert({ ca }, 'root', ['system:masters']);
    assert.equal((await get(admin, '/stats/summary')).status, 200);
  });
});
