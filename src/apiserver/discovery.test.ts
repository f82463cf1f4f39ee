import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { aggregatedDiscovery, aggregatedServerResources, apiGroupDoc, apiGroupList } from './discovery.js';
import { resetAggregation, setAggregatedAPI, type AggregatedAPI } from './aggregator/state.js';

const api = (o: Partial<AggregatedAPI>): AggregatedAPI => ({
  name: 'v1alpha1.wardle.example.com', group: 'wardle.example.com', version: 'v1alpha1', service: { namespace: 'ns', name: 'api', port: 443 },
  insecureSkipTLSVerify: true, groupPriorityMinimum: 1000, versionPriority: 15, available: true,
  resources: [
    { name: 'flunders', singularName: 'flunder', namespaced: true, kind: 'Flunder', verbs: ['get', 'list'], shortNames: ['fl'] },
    { name: 'flunders/status', singularName: '', namespaced: true, kind: 'Flunder', verbs: ['get', 'patch'] },
  ],
  ...o,
});

describe('discovery of aggregated APIs', () => {
  afterEach(() => resetAggregation());

  it("turns a server's APIResourceList into aggregated discovery resources", () => {
    assert.deepEqual(aggregatedServerResources('wardle.example.com', 'v1alpha1', api({}).resources), [
      {
        resource: 'flunders',
        responseKind: { group: 'wardle.example.com', version: 'v1alpha1', kind: 'Flunder' },
        scope: 'Namespaced',
        singularResource: 'flunder',
        verbs: ['get', 'list'],
        shortNames: ['fl'],
        subresources: [{ subresource: 'status', responseKind: { group: 'wardle.example.com', version: 'v1alpha1', kind: 'Flunder' }, verbs: ['get', 'patch'] }],
      },
    ]);
  });

  it('lists Available aggregated group/versions after the built-in ones, by priority', () => {
    setAggregatedAPI(api({}));
    setAggregatedAPI(api({ name: 'v1beta1.wardle.example.com', version: 'v1beta1', versionPriority: 20, resources: [] }));
    setAggregatedAPI(api({ name: 'v1.down.example.com', group: 'down.example.com', version: 'v1', available: false }));
    const doc = aggregatedDiscovery('apis', 'v2');
    const names = doc.items.map((g) => g.metadata.name);
    assert.equal(names.at(-1), 'wardle.example.com');
    assert.ok(!names.includes('down.example.com'));
    const wardle = doc.items.at(-1)!;
    assert.deepEqual(wardle.versions.map((v) => v.version), ['v1beta1', 'v1alpha1']);
    assert.equal((wardle.versions[1]!.resources[0] as any).resource, 'flunders');
    assert.deepEqual(apiGroupDoc('wardle.example.com')?.preferredVersion, { groupVersion: 'wardle.example.com/v1beta1', version: 'v1beta1' });
    assert.ok(apiGroupList().groups.some((g) => g.name === 'wardle.example.com'));
    assert.equal(apiGroupDoc('down.example.com'), undefined);
  });

  it('places an aggregated group among the built-in ones by its groupPriorityMinimum', () => {
    setAggregatedAPI(api({ name: 'v1.high.example.com', group: 'high.example.com', version: 'v1', groupPriorityMinimum: 17900 }));
    const names = aggregatedDiscovery('apis', 'v2').items.map((g) => g.metadata.name);
    assert.ok(names.includes('high.example.com'), `${names}`);
    for (const lower of ['apps', 'batch', 'rbac.authorization.k8s.io', 'storage.k8s.io']) assert.ok(names.indexOf('high.example.com') < names.indexOf(lower), `${names}`);
    const legacy = apiGroupList().groups.map((g) => g.name);
    assert.ok(legacy.includes('high.example.com') && legacy.indexOf('high.example.com') < legacy.indexOf('batch'), `${legacy}`);
  });

  it('lists a group/version served here once, as served here (a service-backed metrics API included)', () => {
    setAggregatedAPI(api({ name: 'v1.apps', group: 'apps', version: 'v1' }));
    setAggregatedAPI(api({ name: 'v1beta1.metrics.k8s.io', group: 'metrics.k8s.io', version: 'v1beta1' }));
    const doc = aggregatedDiscovery('apis', 'v2');
    assert.equal(doc.items.filter((g) => g.metadata.name === 'apps').length, 1);
    assert.equal(doc.items.filter((g) => g.metadata.name === 'metrics.k8s.io').length, 0);
    const apps = doc.items.find((g) => g.metadata.name === 'apps')!;
    assert.ok(apps.versions[0]!.resources.some((r: any) => r.resource === 'deployments'));
  });
});
