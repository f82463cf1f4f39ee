/**
 * The ingress controller end to end with the real kubectl: the seed's rewrite-target examples,
 * conformance-style path/host/default-backend/ingress-class/load-balancing rules, status, events,
 * and zero failed requests while Ingresses and endpoints change 10 times per second.
 * EndpointSlices are created here, pointing at echo servers on loopback.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { selfSignedCert } from '../ingress/selfsigned.js';
import { requestHost, seedIngressesYaml } from '../ingress/fixtures.js';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { needs, which } from '../testing/real.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { createIngressController, type IngressController } from '../ingress/controller.js';
import { startEcho, hostIPv4, type EchoServer } from '../ingress/peers.js';
import { until } from '../testing/wait.js';


const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
const get = (port: number, host: string, target: string, method = 'GET') => requestHost(port, host, target, { method, agent });

const svc = (name: string) => `apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  ports: [{name: http, port: 80, targetPort: 8080}]
`;
const slice = (name: string, svcName: string, ports: number[], addr: string) =>
  // One slice per echo port, since each echo server listens on its own loopback port.
  ports
    .map(
      (p, i) => `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ${name}-${i}, labels: {kubernetes.io/service-name: ${svcName}}}
addressType: IPv4
ports: [{name: http, port: ${p}, protocol: TCP}]
endpoints: [{addresses: ["${addr}"], conditions: {ready: true}}]
`,
    )
    .join('---\n');

describe('ingress controller (kubectl)', () => {
  let c: TestCluster;
  let client: RestClient;
  let ctl: IngressController;
  let port: number;
  const echoes = new Map<string, EchoServer[]>();
  const ip = hostIPv4();
  const kubectlMissing = which('kubectl') ? (ip ? undefined : 'no non-loopback IPv4 address for EndpointSlices') : 'kubectl is not on PATH';

  const k = (args: string[], input?: string) => c.run(args, input);
  const backend = async (name: string, n = 1) => {
    const list: EchoServer[] = [];
    for (let i = 0; i < n; i++) list.push(await startEcho(n > 1 ? `${name}-${i}` : name, 200, 0, ip));
    echoes.set(name, list);
    await k(['apply', '-f', '-'], svc(name) + '---\n' + slice(name, name, list.map((e) => e.port), ip!));
  };

  before(async () => {
    if (kubectlMissing) return;
    c = await startTestCluster();
    client = new RestClient(configFromKubeconfig(c.kubeconfig, 'e2e-ingress'));
    await k(['apply', '-f', '-'], `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: k8s.io/ingress-nginx}
`);
    ctl = createIngressController(client, { httpPort: 0, httpsPort: 0, host: '127.0.0.1' });
    await ctl.start();
    port = ctl.dataPlane!.ports.http;
  });
  after(async () => {
    await ctl?.stop();
    for (const l of echoes.values()) for (const e of l) await e.close();
    client?.close?.();
    agent.destroy();
    await c?.stop();
  });

  it('the seed examples: /app → /, and /app(/|$)(.*) with rewrite-target /$2', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    await backend('app');
    await k(['apply', '-f', '-'], seedIngressesYaml('nginx'));
    const r1 = await until('simple.test/app', async () => ((await get(port, 'simple.test', '/app')).status === 200 ? get(port, 'simple.test', '/app') : undefined));
    assert.equal(r1.body.url, '/');
    assert.equal(r1.body.backend, 'app');
    const r2 = await until('captures.test/app/v1/foo', async () => {
      const r = await get(port, 'captures.test', '/app/v1/foo');
      return r.status === 200 ? r : undefined;
    });
    assert.equal(r2.body.url, '/v1/foo');
    assert.equal((await get(port, 'captures.test', '/app/v1/foo?x=1')).body.url, '/v1/foo?x=1');
    assert.ok(r2.body.rid && r2.body.xff === '127.0.0.1' && r2.body.proto === 'http');
    // status.loadBalancer is written for owned Ingresses.
    await until('status', async () => (await k(['get', 'ingress', 'simple', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}'])) === '127.0.0.1');
  });

  it('conformance: path rules, host rules, default backend, ingress class, load balancing', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    for (const b of ['exact', 'prefix', 'aaa', 'bbb', 'slash', 'wild', 'dflt']) await backend(b);
    await backend('lb', 10);
    const p = (path: string, type: string, s: string) => `      - {path: "${path}", pathType: ${type}, backend: {service: {name: ${s}, port: {number: 80}}}}\n`;
    await k(['apply', '-f', '-'], `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: paths}
spec:
  rules:
  - host: paths.test
    http:
      paths:
${p('/foo', 'Exact', 'exact')}${p('/foo', 'Prefix', 'prefix')}${p('/aaa', 'Prefix', 'aaa')}${p('/aaa/bbb', 'Prefix', 'bbb')}${p('/ccc/', 'Prefix', 'slash')}
  - host: "*.wild.test"
    http:
      paths:
${p('/', 'Prefix', 'wild')}
  - host: lb.test
    http:
      paths:
${p('/', 'Prefix', 'lb')}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: catchall}
spec:
  defaultBackend: {service: {name: dflt, port: {number: 80}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: foreign}
spec:
  ingressClassName: some-other-class
  rules:
  - host: foreign.test
    http:
      paths:
${p('/', 'Prefix', 'exact')}
`);
    await until('paths.test ready', async () => (await get(port, 'paths.test', '/foo')).body.backend === 'exact');
    const expect: [string, string, number, string | null][] = [
      ['paths.test', '/foo', 200, 'exact'],
      ['paths.test', '/foo/', 200, 'prefix'],
      ['paths.test', '/FOO', 404, null],
      ['paths.test', '/aaa/bbb', 200, 'bbb'],
      ['paths.test', '/aaa/bbb/c', 200, 'bbb'],
      ['paths.test', '/aaa', 200, 'aaa'],
      ['paths.test', '/aaaccc', 404, null],
      ['paths.test', '/ccc', 301, null],
      ['paths.test', '/ccc/', 200, 'slash'],
      ['a.wild.test', '/x', 200, 'wild'],
      ['a.b.wild.test', '/x', 200, 'dflt'],
      ['wild.test', '/x', 200, 'dflt'],
      ['nowhere.test', '/any/path?q=1', 200, 'dflt'],
      ['foreign.test', '/', 200, 'dflt'],
    ];
    await until('catch-all', async () => (await get(port, 'nowhere.test', '/')).body.backend === 'dflt');
    for (const [host, path, status, be] of expect) {
      const r = await get(port, host, path);
      assert.equal(r.status, status, `${host}${path}`);
      if (be) assert.equal(r.body.backend, be, `${host}${path}`);
    }
    for (const m of ['POST', 'PUT', 'DELETE', 'PATCH']) assert.equal((await get(port, 'nowhere.test', '/some/where', m)).body.method, m);
    assert.equal((await get(port, 'nowhere.test', '/some/where?z=2')).body.url, '/some/where?z=2');
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) seen.add((await get(port, 'lb.test', '/')).body.backend);
    assert.equal(seen.size, 10);
    assert.equal(await k(['get', 'ingress', 'foreign', '-o', 'jsonpath={.status.loadBalancer.ingress}']), '');
  });

  it('an invalid regex is reported as an Event and the last good version keeps serving', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    const manifest = (path: string) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: regexy, annotations: {nginx.ingress.kubernetes.io/use-regex: "true"}}
spec:
  rules:
  - host: regex.test
    http:
      paths:
      - {path: "${path}", pathType: ImplementationSpecific, backend: {service: {name: app, port: {number: 80}}}}
`;
    await k(['apply', '-f', '-'], manifest('/r[0-9]+'));
    await until('regex route', async () => (await get(port, 'regex.test', '/r42')).body.backend === 'app');
    await k(['apply', '-f', '-'], manifest('/r(['));
    await until('event', async () => (await k(['get', 'events', '-o', 'jsonpath={.items[*].reason}'])).includes('InvalidRegex'));
    assert.equal((await get(port, 'regex.test', '/r42')).body.backend, 'app');
  });

  it('conformance host_rules: TLS from a Secret with hostname verification (SNI); other names get the fake certificate; HTTP gets 308', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    const pair = await selfSignedCert('tls.test', ['tls.test']);
    const dir = mkdtempSync(path.join(tmpdir(), 'skiff-ingress-tls-'));
    try {
      writeFileSync(path.join(dir, 'tls.crt'), pair.cert);
      writeFileSync(path.join(dir, 'tls.key'), pair.key);
      await k(['create', 'secret', 'tls', 'tls-test', `--cert=${path.join(dir, 'tls.crt')}`, `--key=${path.join(dir, 'tls.key')}`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await k(['apply', '-f', '-'], `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: tls}
spec:
  tls: [{hosts: [tls.test], secretName: tls-test}]
  rules:
  - host: tls.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}
`);
    const httpsPort = ctl.dataPlane!.ports.https;
    // Verified against the Secret's certificate as the only CA, for the name the client asked for.
    const verified = (servername: string) =>
      new Promise<{ status: number; body: any } | Error>((resolve) => {
        https
          .get({ host: '127.0.0.1', port: httpsPort, path: '/secure?x=1', servername, ca: pair.cert, headers: { host: servername }, agent: false }, (res) => {
            let b = '';
            res.on('data', (d) => (b += d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(b) }));
          })
          .on('error', (e) => resolve(e));
      });
    const ok = await until('tls.test served with its Secret', async () => {
      const r = await verified('tls.test');
      return r instanceof Error ? undefined : r;
    });
    assert.equal(ok.status, 200);
    assert.deepEqual([ok.body.backend, ok.body.url, ok.body.proto], ['app', '/secure?x=1', 'https']);
    // Another name gets the default (fake) certificate, which the Secret's CA does not verify.
    assert.ok((await verified('other.test')) instanceof Error);
    const plain = await get(port, 'tls.test', '/secure?x=1');
    assert.equal(plain.status, 308);
    assert.equal(plain.headers.location, `https://tls.test:${httpsPort}/secure?x=1`);
  });

  it('a missing Service, Service port or TLS Secret is reported as a Warning Event; the rest of the Ingress serves', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    await k(['apply', '-f', '-'], `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: dangling, annotations: {nginx.ingress.kubernetes.io/ssl-redirect: "false"}}
spec:
  tls: [{hosts: [dangling.test], secretName: no-such-secret}]
  rules:
  - host: dangling.test
    http:
      paths:
      - {path: /gone, pathType: Prefix, backend: {service: {name: no-such-service, port: {number: 80}}}}
      - {path: /badport, pathType: Prefix, backend: {service: {name: app, port: {name: no-such-port}}}}
      - {path: /ok, pathType: Prefix, backend: {service: {name: app, port: {number: 80}}}}
`);
    const reasons = await until('warning events', async () => {
      const out = await k(['get', 'events', '--field-selector', 'involvedObject.name=dangling,type=Warning', '-o', 'jsonpath={.items[*].reason}']);
      return ['ServiceNotFound', 'ServicePortNotFound', 'SecretNotFound'].every((r) => out.includes(r)) ? out : undefined;
    });
    assert.ok(reasons);
    // As ingress-nginx: the Ingress is announced with a Normal Sync event.
    const sync = await until('Sync event', async () => {
      const out = await k(['get', 'events', '--field-selector', 'involvedObject.name=dangling,type=Normal', '-o', 'jsonpath={.items[*].reason}/{.items[*].message}/{.items[*].count}']);
      return out.includes('Sync') ? out : undefined;
    });
    assert.match(sync, /^Sync\/Scheduled for sync\/\d+$/);
    // The path whose Service exists serves; the others answer 503 (no endpoints), as ingress-nginx's.
    const ok = await until('ok path', async () => {
      const r = await get(port, 'dangling.test', '/ok');
      return r.status === 200 ? r : undefined;
    });
    assert.equal(ok.body.backend, 'app');
    assert.equal((await get(port, 'dangling.test', '/gone')).status, 503);
    assert.equal((await get(port, 'dangling.test', '/badport')).status, 503);
  });

  it('an ExternalName Service backend is proxied to its externalName on the targetPort, as ingress-nginx', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    const e = await startEcho('external', 200, 0, ip);
    echoes.set('external', [e]);
    await k(['apply', '-f', '-'], `apiVersion: v1
kind: Service
metadata: {name: outside}
spec: {type: ExternalName, externalName: "${ip}", ports: [{name: http, port: 80, targetPort: ${e.port}}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: outside}
spec:
  rules:
  - host: outside.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: outside, port: {number: 80}}}}
`);
    const r = await until('the external backend', async () => {
      const x = await get(port, 'outside.test', '/ext?q=1');
      return x.status === 200 ? x : undefined;
    });
    assert.deepEqual([r.body.backend, r.body.url], ['external', '/ext?q=1']);
  });

  it('zero failed requests while Ingresses and endpoints change 10 times per second', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    await backend('churn', 3);
    const ports = echoes.get('churn')!.map((e) => e.port);
    await k(['apply', '-f', '-'], `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: churn}
spec:
  rules:
  - host: churn.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: churn, port: {number: 80}}}}
`);
    await until('churn route', async () => (await get(port, 'churn.test', '/')).body.backend?.startsWith('churn'));
    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const load = async () => {
      while (!stop) {
        try {
          const r = await get(port, 'churn.test', '/x');
          if (r.status === 200 && String(r.body.backend).startsWith('churn')) ok++;
          else failures.push(`${r.status} ${JSON.stringify(r.body)}`);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    };
    const loaders = Array.from({ length: 8 }, load);
    // 20 changes at 10/s: alternately an unrelated Ingress path and the endpoint set (always ≥1 ready).
    for (let i = 0; i < 20; i++) {
      const t0 = Date.now();
      if (i % 2 === 0) {
        await client.request('PATCH', '/apis/networking.k8s.io/v1/namespaces/default/ingresses/churn', { body: [{ op: 'add', path: '/spec/rules/0/http/paths/-', value: { path: `/extra${i}`, pathType: 'Prefix', backend: { service: { name: 'churn', port: { number: 80 } } } } }], contentType: 'application/json-patch+json' });
      } else {
        const keep = i % 3;
        await client.request('PATCH', `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/churn-${keep}`, { body: { endpoints: [{ addresses: [ip!], conditions: { ready: i % 4 !== 1 } }] }, contentType: 'application/merge-patch+json' });
      }
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - t0))));
    }
    stop = true;
    await Promise.all(loaders);
    t.diagnostic(`${ok} requests during 20 changes, ${failures.length} failed; ${ctl.generation} configurations applied`);
    assert.deepEqual(failures.slice(0, 3), []);
    assert.ok(ok > 100 && ports.length === 3);
  });
});
