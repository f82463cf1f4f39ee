import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { classify, isLongRunning, RequestMetrics } from './requests.js';
import { TextWriter, parseText } from './prom.js';
import './api.js';

const label = (method: string, url: string, ct?: string) => {
  const c = classify(method, url, ct);
  const m = new RequestMetrics();
  const s = m.series(c);
  m.observe(s, 200, 0.001);
  const w = new TextWriter();
  m.render(w);
  return parseText(w.text()).samples.find((x) => x.name === 'apiserver_request_total')!.labels;
};

describe('apiserver request metrics', () => {
  it('labels requests as upstream (verb, scope, group, resource, subresource)', () => {
    assert.deepEqual(label('GET', '/api/v1/namespaces/default/pods'), { code: '200', component: 'apiserver', dry_run: '', group: '', resource: 'pods', scope: 'namespace', subresource: '', verb: 'LIST', version: 'v1' });
    assert.equal(label('GET', '/api/v1/pods?watch=true').verb, 'WATCH');
    assert.equal(label('GET', '/api/v1/pods?watch=true').scope, 'cluster');
    assert.equal(label('GET', '/api/v1/watch/namespaces/a/pods').verb, 'WATCH');
    assert.equal(label('POST', '/api/v1/namespaces/a/pods').scope, 'resource');
    assert.equal(label('PATCH', '/apis/apps/v1/namespaces/a/deployments/d', 'application/apply-patch+yaml').verb, 'APPLY');
    assert.equal(label('PATCH', '/apis/apps/v1/namespaces/a/deployments/d/status', 'application/merge-patch+json').subresource, 'status');
    assert.equal(label('DELETE', '/api/v1/namespaces/a/pods').verb, 'DELETECOLLECTION');
    assert.equal(label('GET', '/api/v1/nodes/n1/proxy/metrics').verb, 'CONNECT');
    assert.equal(label('POST', '/api/v1/namespaces/a/pods?dryRun=All').dry_run, 'All');
    assert.deepEqual(label('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/a/pods/p'), { code: '200', component: 'apiserver', dry_run: '', group: 'metrics.k8s.io', resource: 'pods', scope: 'resource', subresource: '', verb: 'GET', version: 'v1beta1' });
    // Non-resource and unknown paths: no resource labels, so no cardinality from arbitrary URLs.
    assert.equal(label('GET', '/healthz').resource, '');
    assert.equal(label('GET', '/apis/nope.example/v1/things/x').resource, '');
  });
  it('tells long-running requests from the URL', () => {
    assert.ok(isLongRunning('/api/v1/pods?watch=1'));
    assert.ok(isLongRunning('/api/v1/namespaces/a/pods/p/log?follow=true'));
    assert.ok(!isLongRunning('/api/v1/namespaces/a/pods/p/log'));
    assert.ok(!isLongRunning('/api/v1/namespaces/a/pods'));
  });
  it('one series per label set, counts by code', () => {
    const m = new RequestMetrics();
    const c = classify('GET', '/api/v1/namespaces/a/pods/p', undefined);
    assert.equal(m.series(c), m.series(classify('GET', '/api/v1/namespaces/b/pods/q', undefined)));
    m.observe(m.series(c), 200, 0.002);
    m.observe(m.series(c), 404, 0.3);
    const w = new TextWriter();
    m.render(w);
    const s = parseText(w.text()).samples;
    assert.deepEqual(s.filter((x) => x.name === 'apiserver_request_total').map((x) => [x.labels.code, x.value]), [['200', 1], ['404', 1]]);
    assert.equal(s.find((x) => x.name === 'apiserver_request_duration_seconds_count')!.value, 2);
    assert.equal(s.find((x) => x.name === 'apiserver_request_duration_seconds_bucket' && x.labels.le === '0.005')!.value, 1);
  });
});
