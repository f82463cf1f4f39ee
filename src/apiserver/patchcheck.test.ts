import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { clientFromKubeconfig, type ApiClient } from '../testing/client.js';

const CMS = '/api/v1/namespaces/default/configmaps';
const MERGE = { 'content-type': 'application/merge-patch+json' };

/** Field validation of merge patches: unknown fields the patch brings in are reported at their path. */
describe('merge patch field validation', () => {
  let c: TestCluster;
  let api: ApiClient;
  before(async () => {
    c = await startTestCluster();
    api = await clientFromKubeconfig(c.kubeconfig);
    await api.request('POST', CMS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'm' }, data: { a: '1' } });
  });
  after(async () => {
    api.close();
    await c.stop();
  });

  it('refuses (Strict), warns and drops (Warn) or drops (Ignore) unknown fields, and applies known ones', async () => {
    const strict = await api.request('PATCH', `${CMS}/m?fieldValidation=Strict`, { data: { b: '2' }, bogus: 1, metadata: { alsoBogus: true } }, MERGE);
    assert.equal(strict.status, 400, strict.body);
    assert.equal(strict.json().message, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "metadata.alsoBogus", unknown field "bogus"');
    const warn = await api.request('PATCH', `${CMS}/m?fieldValidation=Warn`, { data: { b: '2' }, bogus: 1 }, MERGE);
    assert.equal(warn.status, 200, warn.body);
    assert.match(String(warn.headers['warning']), /unknown field \\"bogus\\"/);
    assert.equal(warn.json().bogus, undefined);
    const ignore = await api.request('PATCH', `${CMS}/m?fieldValidation=Ignore`, { data: { c: '3' }, bogus: 1 }, MERGE);
    assert.equal(ignore.status, 200, ignore.body);
    assert.equal(ignore.headers['warning'], undefined);
    const ok = await api.request('PATCH', `${CMS}/m?fieldValidation=Strict`, { data: { d: '4' } }, MERGE);
    assert.equal(ok.status, 200, ok.body);
    assert.deepEqual(ok.json().data, { a: '1', b: '2', c: '3', d: '4' });
    assert.equal((await api.request('GET', `${CMS}/m`)).json().bogus, undefined);
  });
});
