import { it } from 'node:test';
import assert from 'node:assert/strict';
import { parseResourcePath } from './request.js';
import { requestAttributes } from './handler.js';

const user = { username: 'u', groups: [] } as any;

it('forwards the path after …/proxy as kube-apiserver does: decoded segments (%2F is a slash), trailing slash kept, escaped as Go', () => {
  const p = parseResourcePath('/api/v1/nodes/n1:10250/proxy/stats/summary%2Fx/y');
  assert.equal(p.type, 'resource');
  if (p.type !== 'resource') return;
  assert.equal(p.req.name, 'n1:10250');
  assert.equal(p.req.subresource, 'proxy');
  // Client libraries escape the whole path parameter (client-node's connectGet…ProxyWithPath).
  assert.equal(p.req.proxyPath, '/stats/summary/x/y');
  const bare = parseResourcePath('/api/v1/nodes/n1/proxy');
  assert.equal(bare.type === 'resource' && bare.req.proxyPath, '/');
  const proxied = (path: string) => {
    const r = parseResourcePath(path);
    return r.type === 'resource' ? r.req.proxyPath : undefined;
  };
  assert.equal(proxied('/api/v1/namespaces/d/pods/web/proxy/'), '/');
  assert.equal(proxied('/api/v1/namespaces/d/pods/web/proxy/ui/'), '/ui/');
  assert.equal(proxied('/api/v1/namespaces/d/services/web:80/proxy/a%20b/c%3Fd/%25/x@y:z'), '/a%20b/c%3Fd/%25/x@y:z');
  assert.equal(proxied('/api/v1/namespaces/d/pods/web/proxy/caf%C3%A9'), '/caf%C3%A9');
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
