/**
 * Cluster DNS against a real API server, queried with the real `dig` over UDP and TCP: Service A
 * records, headless Services, SRV for named ports, pod records, PTR, ExternalName, NXDOMAIN vs
 * NODATA, and forwarding to an upstream resolver (a stub on loopback that this test runs).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { execFile } from 'node:child_process';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { needs, which } from '../testing/real.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { createClusterDNS, type ClusterDNS } from '../network/dns/server.js';
import { encodeResponse, parseQuery, RCODE, TYPE } from '../network/dns/wire.js';
import { until } from '../testing/wait.js';

const missing = !which('kubectl') ? 'kubectl is not on PATH' : !which('dig') ? 'dig is not installed (dnsutils)' : undefined;

function dig(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('dig', ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=1', ...args], (err, stdout) => (err && !stdout ? reject(err) : resolve(stdout))),
  );
}
const short = async (port: number, args: string[]) => (await dig(port, ['+short', ...args])).trim().split('\n').filter(Boolean).sort();
const status = async (port: number, args: string[]) => /status: (\w+)/.exec(await dig(port, args))?.[1];


const objects = `
apiVersion: v1
kind: Service
metadata: { name: my-svc }
spec: { ports: [{ name: http, port: 80, targetPort: 8080 }, { name: dns, port: 53, protocol: UDP }] }
---
apiVersion: v1
kind: Service
metadata: { name: db }
spec: { clusterIP: None, ports: [{ name: pg, port: 5432 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: db-1, labels: { kubernetes.io/service-name: db } }
addressType: IPv4
ports: [{ name: pg, port: 5432, protocol: TCP }]
endpoints:
- { addresses: ["10.244.0.11"], hostname: db-0, conditions: { ready: true } }
- { addresses: ["10.244.0.12"], conditions: { ready: true } }
- { addresses: ["10.244.0.13"], conditions: { ready: false } }
---
apiVersion: v1
kind: Service
metadata: { name: ext }
spec: { type: ExternalName, externalName: db.example.test }
`;

const ipv6Objects = `
apiVersion: v1
kind: Service
metadata: { name: db6 }
spec: { clusterIP: None, ports: [{ name: pg, port: 5432 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: db6-v6, labels: { kubernetes.io/service-name: db6 } }
addressType: IPv6
ports: [{ name: pg, port: 5432, protocol: TCP }]
endpoints:
- { addresses: ["fd00:244::11"], hostname: db-0, conditions: { ready: true } }
- { addresses: ["fd00:244::12"], conditions: { ready: true } }
- { addresses: ["fd00:244::13"], conditions: { ready: false } }
`;

describe('cluster dns (dig)', () => {
  let c: TestCluster;
  let client: RestClient;
  let dns: ClusterDNS;
  let upstream: dgram.Socket;
  let clusterIP = '';
  before(async () => {
    c = await startTestCluster();
    client = new RestClient(configFromKubeconfig(c.kubeconfig, 'e2e'));
    // A stub upstream: answers every name with 192.0.2.99.
    upstream = dgram.createSocket('udp4');
    upstream.on('message', (m, r) => {
      const q = parseQuery(m);
      const name = q.questions[0].name;
      upstream.send(encodeResponse({ id: q.id, rd: q.rd, aa: false, ra: true, rcode: RCODE.NOERROR, questions: q.questions, answers: [{ name, type: TYPE.A, ttl: 60, class: 'IN', data: '192.0.2.99' }], authority: [], additional: [] }), r.port, r.address);
    });
    await new Promise<void>((r) => upstream.bind(0, '127.0.0.1', () => r()));
    dns = createClusterDNS(client, { host: '127.0.0.1', port: 0, upstreams: [`127.0.0.1:${upstream.address().port}`] });
    await dns.start();
  });
  after(async () => {
    await dns?.stop();
    upstream?.close();
    client?.close();
    await c?.stop();
  });

  it('answers Services, headless endpoints, SRV, pods, PTR and ExternalName', async (t) => {
    if (!needs(t, missing)) return;
    const r = await c.kubectl(['apply', '-f', '-'], { input: objects });
    assert.equal(r.code, 0, r.stderr);
    clusterIP = JSON.parse((await c.kubectl(['get', 'svc', 'my-svc', '-o', 'json'])).stdout).spec.clusterIP;
    const p = dns.port;
    await until('my-svc resolves', async () => (await short(p, ['my-svc.default.svc.cluster.local'])).join() === clusterIP);
    assert.deepEqual(await short(p, ['+tcp', 'my-svc.default.svc.cluster.local']), [clusterIP], 'over TCP too');
    await until('headless resolves to ready endpoints', async () => (await short(p, ['db.default.svc.cluster.local'])).join() === '10.244.0.11,10.244.0.12');
    assert.deepEqual(await short(p, ['db-0.db.default.svc.cluster.local']), ['10.244.0.11']);
    assert.deepEqual(await short(p, ['10-244-0-12.db.default.svc.cluster.local']), ['10.244.0.12']);
    assert.deepEqual(await short(p, ['SRV', '_http._tcp.my-svc.default.svc.cluster.local']), ['0 100 80 my-svc.default.svc.cluster.local.']);
    assert.deepEqual(await short(p, ['SRV', '_dns._udp.my-svc.default.svc.cluster.local']), ['0 100 53 my-svc.default.svc.cluster.local.']);
    assert.deepEqual(await short(p, ['SRV', '_pg._tcp.db.default.svc.cluster.local']), ['0 50 5432 10-244-0-12.db.default.svc.cluster.local.', '0 50 5432 db-0.db.default.svc.cluster.local.']);
    assert.deepEqual(await short(p, ['10-244-0-5.default.pod.cluster.local']), ['10.244.0.5']);
    assert.deepEqual(await short(p, ['-x', clusterIP]), ['my-svc.default.svc.cluster.local.']);
    assert.deepEqual(await short(p, ['-x', '10.244.0.11']), ['db-0.db.default.svc.cluster.local.']);
    assert.deepEqual(await short(p, ['CNAME', 'ext.default.svc.cluster.local']), ['db.example.test.']);
    // An A query follows the CNAME upstream (the stub answers 192.0.2.99), as CoreDNS does.
    assert.deepEqual(await short(p, ['ext.default.svc.cluster.local']), ['192.0.2.99', 'db.example.test.']);
  });

  it('answers AAAA from IPv6 EndpointSlices, IPv6 pod names and ip6.arpa PTR', async (t) => {
    if (!needs(t, missing)) return;
    const r = await c.kubectl(['apply', '-f', '-'], { input: ipv6Objects });
    assert.equal(r.code, 0, r.stderr);
    const p = dns.port;
    await until('db6 resolves to its IPv6 endpoints', async () => (await short(p, ['AAAA', 'db6.default.svc.cluster.local'])).join() === 'fd00:244::11,fd00:244::12');
    assert.equal(await status(p, ['A', 'db6.default.svc.cluster.local']), 'NOERROR');
    assert.deepEqual(await short(p, ['A', 'db6.default.svc.cluster.local']), []);
    assert.deepEqual(await short(p, ['AAAA', 'db-0.db6.default.svc.cluster.local']), ['fd00:244::11']);
    assert.deepEqual(await short(p, ['AAAA', 'fd00-244--12.db6.default.svc.cluster.local']), ['fd00:244::12']);
    assert.deepEqual(await short(p, ['+tcp', 'SRV', '_pg._tcp.db6.default.svc.cluster.local']), ['0 50 5432 db-0.db6.default.svc.cluster.local.', '0 50 5432 fd00-244--12.db6.default.svc.cluster.local.']);
    assert.deepEqual(await short(p, ['AAAA', 'fd00-10-244--5.default.pod.cluster.local']), ['fd00:10:244::5']);
    assert.deepEqual(await short(p, ['-x', 'fd00:244::11']), ['db-0.db6.default.svc.cluster.local.']);
    // Names match in any case; the answer keeps the question's spelling.
    assert.match(await dig(p, ['AAAA', 'DB-0.Db6.default.SVC.cluster.local']), /^DB-0\.Db6\.default\.SVC\.cluster\.local\.\s+5\s+IN\s+AAAA\s+fd00:244::11$/m);
  });

  it('NXDOMAIN for missing names, NOERROR without answers for existing ones, forwarding otherwise', async (t) => {
    if (!needs(t, missing)) return;
    const p = dns.port;
    assert.equal(await status(p, ['nope.default.svc.cluster.local']), 'NXDOMAIN');
    assert.equal(await status(p, ['my-svc.nope.svc.cluster.local']), 'NXDOMAIN');
    assert.equal(await status(p, ['default.svc.cluster.local']), 'NOERROR');
    assert.equal(await status(p, ['nosuchns.svc.cluster.local']), 'NXDOMAIN');
    assert.equal(await status(p, ['AAAA', 'my-svc.default.svc.cluster.local']), 'NOERROR');
    assert.deepEqual(await short(p, ['AAAA', 'my-svc.default.svc.cluster.local']), []);
    assert.match(await dig(p, ['nope.default.svc.cluster.local']), /SOA\s+ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\./);
    assert.deepEqual(await short(p, ['www.example.test']), ['192.0.2.99']);
  });
});
