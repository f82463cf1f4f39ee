import { it } from 'node:test';
import assert from 'node:assert/strict';
import { parseResourcePath } from './request.js';
import { requestAttributes } from './handler.js';

const user = { username: 'u', groups: [] } as any;

it('keeps the path after nodes/NAME/proxy, as the client escaped it', () => {
  const p = parseResourcePath('/api/v1/nodes/n1:10250/proxy/stats/summary%2Fx/y');
  assert.equal(p.type, 'resource');
  if (p.type !== 'resource') return;
  assert.equal(p.req.name, 'n1:10250');
  assert.equal(p.req.subresource, 'proxy');
  assert.equal(p.req.proxyPath, '/stats/summary%2Fx/y');
  const bare = parseResourcePath('/api/v1/nodes/n1/proxy');
  assert.equal(bare.type === 'resource' && bare.req.proxyPath, '/');
});

it('other subresources still reject extra segments', () => {
  assert.equal(parseResourcePath('/api/v1/nodes/n1/status/x').type, 'other');
  assert.equal(parseResourcePath('/api/v1/namespaces/ns/pods/p/log/x').type, 'other');
  const plain = parseResourcePath('/api/v1/nodes/n1/status');
  assert.equal(plain.type === 'resource' && plain.req.proxyPath, undefined);
});

it('maps methods to verbs on nodes/proxy as upstream (GET is get even with watch=true)', () => {
  const path = '/api/v1/nodes/n1/proxy/healthz';
  const p = parseResourcePath(path);
  const verb = (m: string, q = '') => requestAttributes(m, path, p, new URLSearchParams(q), user).verb;
  assert.equal(verb('GET', 'watch=true'), 'get');
  assert.equal(verb('HEAD'), 'get');
  assert.equal(verb('POST'), 'create');
  assert.equal(verb('PUT'), 'update');
  assert.equal(verb('PATCH'), 'patch');
  assert.equal(verb('DELETE'), 'delete');
  const a = requestAttributes('GET', path, p, new URLSearchParams(), user);
  assert.equal(a.resource, 'nodes');
  assert.equal(a.subresource, 'proxy');
  assert.equal(a.name, 'n1');
});
