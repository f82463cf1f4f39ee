import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePolicy, parsePolicy } from './policy.js';
import type { Attributes } from '../auth/types.js';

const a = (o: Partial<Attributes>): Attributes => ({ user: { name: 'u', groups: ['g'] }, verb: 'get', resourceRequest: true, path: '', apiGroup: '', resource: 'pods', ...o });

describe('audit policy', () => {
  const p = parsePolicy({
    omitStages: ['RequestReceived'],
    rules: [
      { level: 'None', users: ['system:kube-proxy'], verbs: ['watch'] },
      { level: 'RequestResponse', resources: [{ group: '', resources: ['pods/log', 'pods/status'] }] },
      { level: 'Request', resources: [{ group: 'apps', resources: ['deployments'] }], namespaces: ['prod'] },
      { level: 'Metadata', nonResourceURLs: ['/api*'] },
      { level: 'Metadata', userGroups: ['g'], omitStages: ['ResponseStarted'] },
    ],
  });
  it('first matching rule wins', () => {
    assert.equal(evaluatePolicy(p, a({ user: { name: 'system:kube-proxy', groups: [] }, verb: 'watch' })).level, 'None');
    assert.equal(evaluatePolicy(p, a({ subresource: 'log' })).level, 'RequestResponse');
    assert.equal(evaluatePolicy(p, a({ apiGroup: 'apps', resource: 'deployments', namespace: 'prod' })).level, 'Request');
    assert.equal(evaluatePolicy(p, a({ apiGroup: 'apps', resource: 'deployments', namespace: 'dev' })).level, 'Metadata');
    assert.equal(evaluatePolicy(p, a({ resourceRequest: false, path: '/apis/apps' })).level, 'Metadata');
    assert.deepEqual(evaluatePolicy(p, a({ resource: 'secrets' })).omitStages, ['RequestReceived', 'ResponseStarted']);
    assert.equal(evaluatePolicy(p, a({ user: { name: 'x', groups: [] }, resource: 'secrets' })).level, 'None');
  });
  it('refuses unknown levels', () => {
    assert.throws(() => parsePolicy({ rules: [{ level: 'Everything' }] }), /Unsupported value/);
  });
});
