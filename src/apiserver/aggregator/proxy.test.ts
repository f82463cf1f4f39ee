import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls, { type TLSSocket } from 'node:tls';
import { ensureClusterPKI, issueClientCert } from '../../pki/ca.js';
import { aggregatorHeaders, extraKeyHeader, forwardToAPIService, type Backend } from './proxy.js';
import type { AggregatedAPI } from './state.js';
import type { UserInfo } from '../auth/types.js';

const alice: UserInfo = { name: 'alice', groups: ['dev', 'system:authenticated'], extra: { scopes: ['a', 'b'], 'Acme.com/Team(x)': ['core'] } };

describe('aggregator proxy headers', () => {
  it("sends the authenticated identity and drops the caller's own X-Remote-*, credentials and impersonation", () => {
    const h = aggregatorHeaders(
      {
        'x-remote-user': 'system:admin',
        'x-remote-group': 'system:masters',
        'x-remote-extra-scopes': 'everything',
        'x-remote-uid': '0',
        authorization: 'Bearer secret',
        'impersonate-user': 'root',
        accept: 'application/json',
        'user-agent': 'kubectl',
        connection: 'keep-alive',
      },
      alice,
      { host: '10.0.0.9', port: 4443 },
      '192.0.2.1',
    );
    assert.equal(h['x-remote-user'], 'alice');
    assert.deepEqual(h['x-remote-group'], ['dev', 'system:authenticated']);
    assert.deepEqual(h['x-remote-extra-scopes'], ['a', 'b']);
    assert.deepEqual(h[`x-remote-extra-${extraKeyHeader('Acme.com/Team(x)')}`], ['core']);
    assert.equal(extraKeyHeader('Acme.com/Team(x)'), 'acme.com%2Fteam%28x%29');
    for (const gone of ['x-remote-uid', 'authorization', 'impersonate-user', 'connection']) assert.equal(h[gone], undefined, gone);
    assert.equal(h.accept, 'application/json');
    assert.equal(h.host, '10.0.0.9:4443');
    assert.equal(h['x-forwarded-for'], '192.0.2.1');
  });

  it('sends no group header for a user without groups, names as their UTF-8 bytes, and refuses names a header cannot carry', () => {
    const backend = { host: '10.0.0.9', port: 443 };
    const h = aggregatorHeaders({}, { name: 'bob', groups: [] }, backend);
    assert.equal(h['x-remote-user'], 'bob');
    assert.equal(h['x-remote-group'], undefined);
    const bytes = (name: string) => Buffer.from(aggregatorHeaders({}, { name, groups: [] }, backend)['x-remote-user'] as string, 'latin1');
    assert.deepEqual(bytes('jér'), Buffer.from('jér', 'utf8'));
    assert.deepEqual(bytes('日本'), Buffer.from('日本', 'utf8'));
    // Two names never arrive as one (an escaping scheme would make these equal).
    assert.notDeepEqual(bytes('日本'), bytes('%E6%97%A5%E6%9C%AC'));
    assert.throws(() => aggregatorHeaders({}, { name: 'bob\nx-remote-group: system:masters', groups: [] }, backend), (e: any) => e.code === 500);
  });
});

describe('forwardToAPIService', () => {
  let dir: string;
  let backend: https.Server;
  let front: http.Server;
  let frontPort: number;
  let ca: string;
  let proxyClient: { certPem: string; keyPem: string };
  let target: { api: AggregatedAPI; backend: Backend };
  const unreachable: string[] = [];
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'skiff-aggproxy-'));
    const pki = await ensureClusterPKI(dir, { serverSANs: { dns: ['api.sample.svc'], ips: [] } });
    ca = pki.ca.certPem;
    proxyClient = await issueClientCert(pki, 'front-proxy-client', []);
    backend = https.createServer({ cert: pki.apiserver.certPem, key: pki.apiserver.keyPem, ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      let body = '';
      const sock = req.socket as TLSSocket;
      const client = sock.authorized ? String(sock.getPeerCertificate().subject?.CN) : '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json', 'x-from': 'backend' });
        res.end(JSON.stringify({ method: req.method, url: req.url, user: req.headers['x-remote-user'], client, body }));
      });
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
    front = http.createServer((req, res) => forwardToAPIService(req, res, target.api, target.backend, alice, { connectTimeoutMs: 2000, clientCert: proxyClient, path: req.url === '/x/../normalized' ? '/normalized' : undefined, onUnreachable: (e) => unreachable.push(e.message) }));
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', () => r()));
    frontPort = (front.address() as AddressInfo).port;
  });
  after(async () => {
    backend.closeAllConnections();
    backend.close();
    front.closeAllConnections();
    front.close();
    await rm(dir, { recursive: true, force: true });
  });

  const api = (o: Partial<AggregatedAPI>): AggregatedAPI => ({
    name: 'v1.sample.example.com', group: 'sample.example.com', version: 'v1', service: { namespace: 'sample', name: 'api', port: 443 },
    insecureSkipTLSVerify: false, groupPriorityMinimum: 1000, versionPriority: 15, available: true, resources: [], ...o,
  });
  const send = (p: string, method = 'GET', body?: string) =>
    new Promise<{ code: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: frontPort, path: p, method }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, headers: res.headers, body: b }));
        // A cut-off answer ends here rather than never.
        res.on('close', () => resolve({ code: res.statusCode ?? 0, headers: res.headers, body: b }));
        res.on('error', () => undefined);
      });
      req.on('error', reject);
      req.end(body);
    });

  it('forwards method, path, query and body, verifying the server as <service>.<namespace>.svc against caBundle', async () => {
    target = { api: api({ caPem: ca }), backend: { host: '127.0.0.1', port: (backend.address() as AddressInfo).port } };
    const r = await send('/apis/sample.example.com/v1/namespaces/x/things?limit=1', 'POST', '{"a":1}');
    assert.equal(r.code, 201);
    assert.equal(r.headers['x-from'], 'backend');
    assert.deepEqual(JSON.parse(r.body), { method: 'POST', url: '/apis/sample.example.com/v1/namespaces/x/things?limit=1', user: 'alice', client: 'front-proxy-client', body: '{"a":1}' });
    // The path the handler authorized is the one requested.
    assert.equal(JSON.parse((await send('/x/../normalized')).body).url, '/normalized');
  });

  it('refuses a server its caBundle does not vouch for, unless insecureSkipTLSVerify', async () => {
    const port = (backend.address() as AddressInfo).port;
    target = { api: api({ service: { namespace: 'other', name: 'api', port: 443 }, caPem: ca }), backend: { host: '127.0.0.1', port } };
    const wrongName = await send('/apis/sample.example.com/v1');
    assert.equal(wrongName.code, 503);
    const st = JSON.parse(wrongName.body);
    assert.deepEqual([st.kind, st.reason, st.code], ['Status', 'ServiceUnavailable', 503]);
    assert.match(st.message, /^error trying to reach service: /);
    target = { api: api({ insecureSkipTLSVerify: true, service: { namespace: 'other', name: 'api', port: 443 } }), backend: { host: '127.0.0.1', port } };
    assert.equal((await send('/apis/sample.example.com/v1')).code, 201);
  });

  it('survives servers that answer garbage, bad status codes or hang up mid-answer', async () => {
    const pki = await ensureClusterPKI(path.join(dir, 'raw'), { serverSANs: { dns: [], ips: ['127.0.0.1'] } });
    let reply = '';
    const raw = tls.createServer({ cert: pki.apiserver.certPem, key: pki.apiserver.keyPem }, (sock) => {
      sock.once('data', () => (reply ? sock.end(reply) : sock.destroy()));
      sock.on('error', () => undefined);
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', () => r()));
    try {
      target = { api: api({ insecureSkipTLSVerify: true }), backend: { host: '127.0.0.1', port: (raw.address() as AddressInfo).port } };
      for (const r of ['not http at all\r\n\r\n', 'HTTP/1.1 099 Weird\r\ncontent-length: 0\r\n\r\n', 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort', '']) {
        reply = r;
        const got = await send('/apis/sample.example.com/v1').catch((e: Error) => ({ code: -1, body: e.message, headers: {} }));
        // Either a 503 Status or a cut-off answer: never a crashed server.
        assert.ok([503, 200, -1].includes(got.code), `${JSON.stringify(r)} → ${got.code}`);
      }
      reply = 'HTTP/1.1 204 No Content\r\n\r\n';
      assert.equal((await send('/apis/sample.example.com/v1')).code, 204);
    } finally {
      raw.close();
    }
  });

  it('answers 503 with a Status when the server is down, and says so', async () => {
    const gone = await new Promise<number>((r) => {
      const s = http.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => r(p));
      });
    });
    target = { api: api({ caPem: ca }), backend: { host: '127.0.0.1', port: gone } };
    const before = unreachable.length;
    const r = await send('/apis/sample.example.com/v1/things');
    assert.equal(r.code, 503);
    assert.equal(JSON.parse(r.body).reason, 'ServiceUnavailable');
    assert.equal(unreachable.length, before + 1);
  });
});
