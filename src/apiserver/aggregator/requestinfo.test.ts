import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregatedAttributes } from './requestinfo.js';

const user = { name: 'alice', groups: ['dev'] };
const q = (s = '') => new URLSearchParams(s);
const pick = (a: ReturnType<typeof aggregatedAttributes>) => [a.resourceRequest, a.verb, a.namespace, a.apiGroup, a.apiVersion, a.resource, a.name, a.subresource];

test('URLs of an aggregated API map to authorization attributes as upstream derives them', () => {
  const G = '/apis/metrics.k8s.io/v1beta1';
  const cases: [string, string, string, unknown[]][] = [
    ['GET', G, '', [false, 'get', undefined, undefined, undefined, undefined, undefined, undefined]],
    ['GET', `${G}/nodes`, '', [true, 'list', undefined, 'metrics.k8s.io', 'v1beta1', 'nodes', undefined, undefined]],
    ['GET', `${G}/nodes/n1`, '', [true, 'get', undefined, 'metrics.k8s.io', 'v1beta1', 'nodes', 'n1', undefined]],
    ['GET', `${G}/namespaces/kube-system/pods`, 'watch=true', [true, 'watch', 'kube-system', 'metrics.k8s.io', 'v1beta1', 'pods', undefined, undefined]],
    ['GET', `${G}/watch/namespaces/ns/pods/p`, '', [true, 'watch', 'ns', 'metrics.k8s.io', 'v1beta1', 'pods', 'p', undefined]],
    ['GET', `${G}/namespaces/ns`, '', [true, 'get', 'ns', 'metrics.k8s.io', 'v1beta1', 'namespaces', 'ns', undefined]],
    ['PUT', `${G}/namespaces/ns/pods/p/status`, '', [true, 'update', 'ns', 'metrics.k8s.io', 'v1beta1', 'pods', 'p', 'status']],
    ['DELETE', `${G}/nodes`, '', [true, 'deletecollection', undefined, 'metrics.k8s.io', 'v1beta1', 'nodes', undefined, undefined]],
    ['POST', `${G}/namespaces/ns/pods`, '', [true, 'create', 'ns', 'metrics.k8s.io', 'v1beta1', 'pods', undefined, undefined]],
    ['GET', `${G}/nodes/%zz`, '', [true, 'get', undefined, 'metrics.k8s.io', 'v1beta1', 'nodes', '%zz', undefined]],
  ];
  for (const [method, path, query, want] of cases) assert.deepEqual(pick(aggregatedAttributes(method, path, q(query), user)), want, `${method} ${path}`);
  assert.equal(aggregatedAttributes('GET', G, q(), user).path, G);
});
