import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { aggregatedRoute } from './handler.js';
import { resetAggregation, setAggregatedAPI, type AggregatedAPI } from './aggregator/state.js';

const api = (o: Partial<AggregatedAPI>): AggregatedAPI => ({
  name: 'v1beta1.metrics.k8s.io', group: 'metrics.k8s.io', version: 'v1beta1', service: { namespace: 'kube-system', name: 'metrics-server', port: 443 },
  insecureSkipTLSVerify: true, groupPriorityMinimum: 100, versionPriority: 100, available: true, resources: [], ...o,
});

describe('routing of aggregated APIs', () => {
  afterEach(() => resetAggregation());

  it('leaves every path alone without a service-backed APIService', () => {
    assert.equal(aggregatedRoute('/apis/metrics.k8s.io/v1beta1/nodes'), undefined);
    assert.equal(aggregatedRoute('/apis/wardle.example.com/v1alpha1'), undefined);
  });

  it("sends the built-in metrics API to metrics-server only while it is Available", () => {
    setAggregatedAPI(api({}));
    assert.equal(aggregatedRoute('/apis/metrics.k8s.io/v1beta1/nodes')?.available, true);
    assert.equal(aggregatedRoute('/apis/metrics.k8s.io/v1beta1')?.available, true);
    // The group document and other versions stay here.
    assert.equal(aggregatedRoute('/apis/metrics.k8s.io'), undefined);
    assert.equal(aggregatedRoute('/apis/metrics.k8s.io/v1beta2/nodes'), undefined);
    setAggregatedAPI(api({ available: false }));
    assert.equal(aggregatedRoute('/apis/metrics.k8s.io/v1beta1/nodes'), undefined);
  });

  it('answers for an unavailable group/version nobody else serves (503)', () => {
    setAggregatedAPI(api({ name: 'v1alpha1.wardle.example.com', group: 'wardle.example.com', version: 'v1alpha1', available: false }));
    assert.deepEqual(aggregatedRoute('/apis/wardle.example.com/v1alpha1/namespaces/x/flunders')?.available, false);
    // A built-in group/version behind an unavailable APIService stays served here.
    setAggregatedAPI(api({ name: 'v1.apps', group: 'apps', version: 'v1', available: false }));
    assert.equal(aggregatedRoute('/apis/apps/v1/deployments'), undefined);
  });
});
