/**
 * Cost of Skiff's security chain per request: authentication (x509) + authorization (Node, RBAC with
 * 1,000 RoleBindings) + admission (the default chain), beside the same request with authorization off
 * (AlwaysAllow, Priority admission only). Printed twice: in-process (the chain alone, no sockets) and
 * end to end over HTTPS (GET and POST of a ConfigMap as an RBAC-authorized user). Goal: ≤ 0.2 ms
 * added at p50.
 *
 *   node dist/bench/authz.js [--quick]
 */
import type { IncomingMessage } from 'node:http';
import { startSecureCluster, type SecureCluster } from '../src/apiserver/auth/testing/cluster.js';
import { authenticate, authorize } from '../src/apiserver/auth/chain.js';
import { x509Authenticator } from '../src/apiserver/auth/defaults.js';
import { alwaysAllowAuthorizer } from '../src/apiserver/auth/rbac/authorizer.js';
import { requestAttributes } from '../src/apiserver/handler.js';
import { parseResourcePath } from '../src/apiserver/request.js';
import { runAdmission, DEFAULT_PLUGINS } from '../src/apiserver/admission/index.js';
import { findResource } from '../src/apiserver/resources.js';
import type { ApiClient } from '../src/testing/client.js';

const quick = process.argv.includes('--quick');
const BINDINGS = 1000;
const NAMESPACES = 50;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}
const ms = (x: number) => `${x.toFixed(3)} ms`;

async function populate(c: SecureCluster): Promise<void> {
  const admin = await c.client(c.kubeconfig);
  const par = async (n: number, f: (i: number) => Promise<unknown>) => {
    for (let i = 0; i < n; i += 25) await Promise.all(Array.from({ length: Math.min(25, n - i) }, (_, j) => f(i + j)));
  };
  await par(NAMESPACES, (i) => admin.request('POST', '/api/v1/namespaces', { metadata: { name: `team${i}` } }));
  await par(NAMESPACES, (i) => admin.request('POST', `/api/v1/namespaces/team${i}/serviceaccounts`, { metadata: { name: 'default' } }));
  await par(BINDINGS, (i) =>
    admin.request('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/team${i % NAMESPACES}/rolebindings`, {
      metadata: { name: `b${i}` },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ kind: 'User', name: `user${i}`, apiGroup: 'rbac.authorization.k8s.io' }, { kind: 'Group', name: `group${i % 97}`, apiGroup: 'rbac.authorization.k8s.io' }],
    }),
  );
  admin.close();
}

/** A request as the authenticator sees it: a verified client certificate for user77. */
function fakeRequest(): IncomingMessage {
  const peer = { subject: { CN: 'user77', O: ['group77'] } };
  return { headers: {}, socket: { authorized: true, getPeerCertificate: () => peer } } as unknown as IncomingMessage;
}

async function inProcess(c: SecureCluster, n: number) {
  const req = fakeRequest();
  const pods = findResource('', 'v1', 'pods')!;
  const path = '/api/v1/namespaces/team27/pods';
  const parsed = parseResourcePath(path);
  const q = new URLSearchParams();
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team27' }, spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '10m' } } }] } };
  const reg = c.api.registry;
  const run = async (secure: boolean) => {
    const user = await authenticate(secure ? c.security.authenticators : [x509Authenticator], req);
    const attrs = requestAttributes('POST', path, parsed, q, user);
    const d = await authorize(secure ? c.security.authorizers : [alwaysAllowAuthorizer], attrs);
    if (d.decision !== 'allow') throw new Error(`not allowed: ${JSON.stringify(d)}`);
    await runAdmission(secure ? c.security.admission : DEFAULT_PLUGINS, { info: pods, operation: 'CREATE', object: structuredClone(pod), namespace: 'team27', dryRun: false, registry: reg, user, warnings: [] });
  };
  const lat = { on: [] as number[], off: [] as number[] };
  for (let i = 0; i < 2000; i++) await run(i % 2 === 0); // warm-up
  for (let i = 0; i < n; i++) {
    for (const secure of i % 2 ? [true, false] : [false, true]) {
      const s = performance.now();
      await run(secure);
      lat[secure ? 'on' : 'off'].push(performance.now() - s);
    }
  }
  return lat;
}

async function endToEnd(on: ApiClient, off: ApiClient, n: number) {
  const lat = { getOn: [] as number[], getOff: [] as number[], postOn: [] as number[], postOff: [] as number[] };
  const path = '/api/v1/namespaces/team27/configmaps';
  for (const cl of [on, off]) await cl.request('POST', path, { metadata: { name: 'fixed' }, data: { a: 'b' } });
  const one = async (cl: ApiClient, kind: 'get' | 'post', i: number) => {
    const s = performance.now();
    const r = kind === 'get' ? await cl.request('GET', `${path}/fixed`) : await cl.request('POST', path, { metadata: { name: `cm${i}` }, data: { a: 'b' } });
    if (r.status >= 300) throw new Error(`${kind} → ${r.status} ${r.body}`);
    return performance.now() - s;
  };
  for (let i = 0; i < 200; i++) await Promise.all([one(on, 'get', i), one(off, 'get', i)]); // warm-up
  for (let i = 0; i < n; i++) {
    lat.getOn.push(await one(on, 'get', i));
    lat.getOff.push(await one(off, 'get', i));
    lat.postOn.push(await one(on, 'post', i));
    lat.postOff.push(await one(off, 'post', i));
  }
  return lat;
}

async function main(): Promise<void> {
  const n = quick ? 2000 : 20000;
  const secure = await startSecureCluster();
  const open = await startSecureCluster({ authorizationMode: 'AlwaysAllow' });
  try {
    console.log(`populating ${BINDINGS} RoleBindings in ${NAMESPACES} namespaces …`);
    await Promise.all([populate(secure), populate(open)]);
    await secure.api.cache.sync();
    const lat = await inProcess(secure, n);
    const p50 = pct(lat.on, 50) - pct(lat.off, 50);
    console.log(`\nin-process, per create request (${n} samples each), ${BINDINGS} RoleBindings:`);
    console.log(`  chain on  (x509 + Node,RBAC + default admission): p50 ${ms(pct(lat.on, 50))}  p99 ${ms(pct(lat.on, 99))}`);
    console.log(`  chain off (AlwaysAllow + Priority admission):     p50 ${ms(pct(lat.off, 50))}  p99 ${ms(pct(lat.off, 99))}`);
    console.log(`  added at p50: ${ms(p50)}   (goal ≤ 0.200 ms)  ${p50 <= 0.2 ? 'OK' : 'MISSED'}`);

    const onKc = await secure.userKubeconfig('user77', ['group77']);
    const offKc = await open.userKubeconfig('user77', ['group77']);
    const on = await secure.client(onKc);
    const off = await open.client(offKc);
    const e = await endToEnd(on, off, quick ? 300 : 2000);
    console.log(`\nend to end over HTTPS as user77 (RBAC edit in team27 via 1 of ${BINDINGS} bindings):`);
    console.log(`  GET  with chain: p50 ${ms(pct(e.getOn, 50))} p99 ${ms(pct(e.getOn, 99))} | AlwaysAllow: p50 ${ms(pct(e.getOff, 50))} p99 ${ms(pct(e.getOff, 99))} | added p50 ${ms(pct(e.getOn, 50) - pct(e.getOff, 50))}`);
    console.log(`  POST with chain: p50 ${ms(pct(e.postOn, 50))} p99 ${ms(pct(e.postOn, 99))} | AlwaysAllow: p50 ${ms(pct(e.postOff, 50))} p99 ${ms(pct(e.postOff, 99))} | added p50 ${ms(pct(e.postOn, 50) - pct(e.postOff, 50))}`);
    on.close();
    off.close();
  } finally {
    await secure.stop();
    await open.stop();
  }
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
