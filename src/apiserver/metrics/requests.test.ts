import { describe, it } from 'node:test';
import { EventEmitter } from 'node:events';
import assert from 'node:assert/strict';
import { classify, InflightWatermark, isLongRunning, RequestMetrics } from './requests.js';
import { parseSamples } from '../../util/prometheus.js';
import './api.js';

const label = async (method: string, url: string, ct?: string) => {
  const c = classify(method, url, ct);
  const m = new RequestMetrics();
  const s = m.series(c);
  m.observe(s, 200, 0.001);
  return parseSamples(await m.registry.metrics()).samples.find((x) => x.name === 'apiserver_request_total')!.labels;
};

describe('apiserver request metrics', () => {
  it('labels requests as upstream (verb, scope, group, resource, subresource)', async () => {
    assert.deepEqual((await label('GET', '/api/v1/namespaces/default/pods')), { code: '200', component: 'apiserver', dry_run: '', group: '', resource: 'pods', scope: 'namespace', subresource: '', verb: 'LIST', version: 'v1' });
    assert.equal((await label('GET', '/api/v1/pods?watch=true')).verb, 'WATCH');
    assert.equal((await label('GET', '/api/v1/pods?watch=true')).scope, 'cluster');
    assert.equal((await label('GET', '/api/v1/watch/namespaces/a/pods')).verb, 'WATCH');
    assert.equal((await label('POST', '/api/v1/namespaces/a/pods')).scope, 'resource');
    assert.equal((await label('PATCH', '/apis/apps/v1/namespaces/a/deployments/d', 'application/apply-patch+yaml')).verb, 'APPLY');
    assert.equal((await label('PATCH', '/apis/apps/v1/namespaces/a/deployments/d/status', 'application/merge-patch+json')).subresource, 'status');
    assert.equal((await label('DELETE', '/api/v1/namespaces/a/pods')).verb, 'DELETECOLLECTION');
    assert.equal((await label('GET', '/api/v1/nodes/n1/proxy/metrics')).verb, 'CONNECT');
    assert.equal((await label('POST', '/api/v1/namespaces/a/pods?dryRun=All')).dry_run, 'All');
    assert.deepEqual((await label('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/a/pods/p')), { code: '200', component: 'apiserver', dry_run: '', group: 'metrics.k8s.io', resource: 'pods', scope: 'resource', subresource: '', verb: 'GET', version: 'v1beta1' });
    // Non-resource and unknown paths: no resource labels, so no cardinality from arbitrary URLs.
    assert.equal((await label('GET', '/healthz')).resource, '');
    assert.equal((await label('GET', '/apis/nope.example/v1/things/x')).resource, '');
  });
  it('tells long-running requests from the URL', () => {
    assert.ok(isLongRunning('/api/v1/pods?watch=1'));
    assert.ok(isLongRunning('/api/v1/namespaces/a/pods/p/log?follow=true'));
    assert.ok(!isLongRunning('/api/v1/namespaces/a/pods/p/log'));
    assert.ok(!isLongRunning('/api/v1/namespaces/a/pods'));
  });
  it('one series per label set, counts by code', async () => {
    const m = new RequestMetrics();
    const c = classify('GET', '/api/v1/namespaces/a/pods/p', undefined);
    assert.equal(m.series(c), m.series(classify('GET', '/api/v1/namespaces/b/pods/q', undefined)));
    m.observe(m.series(c), 200, 0.002);
    m.observe(m.series(c), 404, 0.3);
    const text = await m.registry.metrics();
    const s = parseSamples(text).samples;
    assert.deepEqual(s.filter((x) => x.name === 'apiserver_request_total').map((x) => [x.labels.code, x.value]), [['200', 1], ['404', 1]]);
    // Upstream's label order, le last, cumulative buckets.
    const labels = 'component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="GET",version="v1"';
    assert.ok(text.includes(`apiserver_request_total{code="404",${labels}} 1\n`));
    assert.ok(text.includes(`apiserver_request_duration_seconds_bucket{${labels},le="0.005"} 1\n`));
    assert.ok(text.includes(`apiserver_request_duration_seconds_bucket{${labels},le="0.4"} 2\n`));
    assert.ok(text.includes(`apiserver_request_duration_seconds_bucket{${labels},le="+Inf"} 2\n`));
    assert.ok(text.includes(`apiserver_request_duration_seconds_sum{${labels}} 0.302\n`));
    assert.ok(text.includes(`apiserver_request_duration_seconds_count{${labels}} 2\n`));
    assert.match(text, /^# HELP apiserver_request_duration_seconds \[STABLE\] Response latency distribution/m);
    assert.match(text, /^# TYPE apiserver_request_duration_seconds histogram$/m);
  });
  it('gauges: in-flight, long-running, registered watchers; process and nodejs defaults are the server\'s to add', async () => {
    const m = new RequestMetrics();
    const c = classify('GET', '/api/v1/pods?watch=true', undefined);
    m.series(c).longRunning++;
    m.watchStarted(c);
    const s = parseSamples(await m.registry.metrics()).samples;
    assert.equal(s.find((x) => x.name === 'apiserver_current_inflight_requests' && x.labels.request_kind === 'mutating')!.value, 0);
    // The gauge is the last completed second's high-water mark, not the count at scrape time.
    let t = 0;
    const w = new RequestMetrics(undefined, () => t);
    w.mutatingInflight.inc();
    w.mutatingInflight.inc();
    w.mutatingInflight.dec();
    w.mutatingInflight.dec();
    t = 1500;
    const ws = parseSamples(await w.registry.metrics()).samples;
    assert.equal(ws.find((x) => x.name === 'apiserver_current_inflight_requests' && x.labels.request_kind === 'mutating')!.value, 2);
    assert.equal(s.find((x) => x.name === 'apiserver_longrunning_requests')!.labels.verb, 'WATCH');
    assert.equal(s.find((x) => x.name === 'apiserver_registered_watchers')!.value, 1);
    // An open watch has no latency yet.
    assert.doesNotMatch(await m.registry.metrics(), /apiserver_request_duration_seconds_count/);
  });
  it("in-flight requests are reported as the last completed second's high-water mark, as upstream", () => {
    let t = 0;
    const w = new InflightWatermark(() => t);
    w.inc();
    w.inc();
    w.inc();
    w.dec();
    w.dec();
    assert.equal(w.lastSecondMax, 0, 'the first second is not over yet');
    t = 1200;
    assert.equal(w.lastSecondMax, 3, 'three were in flight at once in the last second, one still is');
    t = 2100;
    assert.equal(w.lastSecondMax, 1);
    w.inc();
    w.dec();
    w.dec();
    t = 3050;
    assert.equal(w.lastSecondMax, 2);
    t = 6000;
    assert.equal(w.lastSecondMax, 0, 'quiet seconds report what stayed in flight');
  });

  it('counts requests when they close', async () => {
    const m = new RequestMetrics();
    const seen: string[] = [];
    const listener = m.instrument((req) => void seen.push(`handle ${req.url}`));
    const serve = async (url: string) => {
      const res = Object.assign(new EventEmitter(), { statusCode: 200 });
      await listener({ url, method: 'GET', headers: {} } as never, res as never);
      res.emit('close');
    };
    await serve('/metrics');
    await serve('/api/v1/namespaces/a/pods');
    assert.deepEqual(seen, ['handle /metrics', 'handle /api/v1/namespaces/a/pods']);
    const s = parseSamples(await m.registry.metrics()).samples.filter((x) => x.name === 'apiserver_request_total');
    assert.deepEqual(s.map((x) => [x.labels.verb, x.labels.resource, x.value]), [['GET', '', 1], ['LIST', 'pods', 1]]);
  });
});
