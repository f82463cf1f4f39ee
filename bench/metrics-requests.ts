/**
 * The API server's per-request metrics cost: 1e6 finished requests (classify, series lookup,
 * apiserver_request_total and apiserver_request_duration_seconds) through RequestMetrics, next to
 * the same counts made with prom-client's own labelled inc/observe and its labels() children.
 * Run: node dist/bench/metrics-requests.js [N]
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { classify, RequestMetrics, REQUEST_DURATION_BUCKETS } from '../src/apiserver/metrics/requests.js';
import '../src/apiserver/metrics/api.js';

const REQS: [string, string, number][] = [
  ['GET', '/api/v1/namespaces/default/pods/web-1', 200],
  ['GET', '/api/v1/namespaces/default/pods?limit=500', 200],
  ['PUT', '/api/v1/namespaces/default/pods/web-1/status', 200],
  ['PUT', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node-1', 200],
  ['POST', '/api/v1/namespaces/default/events', 201],
  ['PATCH', '/apis/apps/v1/namespaces/default/deployments/web', 200],
  ['GET', '/apis/apps/v1/namespaces/default/replicasets/web-abc', 404],
  ['POST', '/api/v1/namespaces/default/pods/web-1/binding', 201],
  ['DELETE', '/api/v1/namespaces/default/pods/web-2', 200],
  ['GET', '/api/v1/nodes', 200],
];
const N = Number(process.argv[2] ?? 1e6);

function time(f: (i: number) => void): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) f(i);
  return Number(process.hrtime.bigint() - t0) / N;
}

const classified = REQS.map(([m, u]) => classify(m, u, undefined));
const skiff = () => {
  const m = new RequestMetrics();
  return time((i) => m.observe(m.series(classified[i % REQS.length]), REQS[i % REQS.length][2], (i % 97) / 1000));
};
const skiffFull = () => {
  const m = new RequestMetrics();
  return time((i) => {
    const r = REQS[i % REQS.length];
    m.observe(m.series(classify(r[0], r[1], undefined)), r[2], (i % 97) / 1000);
  });
};
const labelSets = classified.map((c) => ({ ...new RequestMetrics().series(c).labels }));
const promClient = (children: boolean) => {
  const r = new Registry();
  const names = Object.keys(labelSets[0]);
  const c = new Counter({ name: 'apiserver_request_total', help: 'h', labelNames: ['code', ...names], registers: [r] });
  const h = new Histogram({ name: 'apiserver_request_duration_seconds', help: 'h', labelNames: names, buckets: REQUEST_DURATION_BUCKETS, registers: [r] });
  if (!children) {
    return time((i) => {
      const l = labelSets[i % REQS.length];
      c.inc({ code: String(REQS[i % REQS.length][2]), ...l });
      h.observe(l, (i % 97) / 1000);
    });
  }
  const cc = labelSets.map((l, k) => c.labels({ code: String(REQS[k][2]), ...l }));
  const hc = labelSets.map((l) => h.labels(l));
  return time((i) => {
    cc[i % REQS.length].inc();
    hc[i % REQS.length].observe((i % 97) / 1000);
  });
};

for (let round = 0; round < 2; round++) skiff(), promClient(true);
console.log(`per request, ${N} requests (lower is better; noisy on a shared machine):`);
console.log(`  skiff RequestMetrics (series+counter+histogram)     ${skiff().toFixed(0)} ns`);
console.log(`  skiff RequestMetrics with URL classification        ${skiffFull().toFixed(0)} ns`);
console.log(`  prom-client labelled inc/observe                    ${promClient(false).toFixed(0)} ns`);
console.log(`  prom-client labels() children                      ${promClient(true).toFixed(0)} ns`);
