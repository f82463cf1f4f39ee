import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensureClusterPKI } from '../../pki/ca.js';
import { discoveryCheck, serviceCheck } from './availability.js';

const ref = { namespace: 'kube-system', name: 'metrics-server', port: 443 };
const svc = (ports: unknown[], type?: string) => ({ spec: { ...(type ? { type } : {}), ports } });
const eps = (subsets: unknown[]) => ({ subsets });
const verdict = (c: ReturnType<typeof serviceCheck>) => (c ? [c.status, c.reason, c.message] : undefined);

describe('availability checks', () => {
  it('judge the Service and its Endpoints with upstream reasons and messages', () => {
    assert.deepEqual(verdict(serviceCheck(ref, undefined, undefined)), ['False', 'ServiceNotFound', 'service/metrics-server in "kube-system" is not present']);
    assert.deepEqual(verdict(serviceCheck(ref, svc([{ name: 'https', port: 8443 }]), undefined)), ['False', 'ServicePortError', 'service/metrics-server in "kube-system" is not listening on port 443']);
    assert.deepEqual(verdict(serviceCheck(ref, svc([{ name: 'https', port: 443 }]), undefined)), ['False', 'EndpointsNotFound', 'cannot find endpoints for service/metrics-server in "kube-system"']);
    const missing = ['False', 'MissingEndpoints', 'endpoints for service/metrics-server in "kube-system" have no addresses with port name "https"'];
    assert.deepEqual(verdict(serviceCheck(ref, svc([{ name: 'https', port: 443 }]), eps([]))), missing);
    assert.deepEqual(verdict(serviceCheck(ref, svc([{ name: 'https', port: 443 }]), eps([{ notReadyAddresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'https', port: 4443 }] }]))), missing);
    assert.deepEqual(verdict(serviceCheck(ref, svc([{ name: 'https', port: 443 }]), eps([{ addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'other', port: 4443 }] }]))), missing);
    assert.equal(serviceCheck(ref, svc([{ name: 'https', port: 443 }]), eps([{ addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'https', port: 4443 }] }])), undefined);
    // An unnamed port matches the unnamed endpoint port.
    assert.equal(serviceCheck(ref, svc([{ port: 443 }]), eps([{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 4443 }] }])), undefined);
    // Only ClusterIP services are checked this way (ExternalName goes straight to discovery).
    assert.equal(serviceCheck(ref, svc([], 'ExternalName'), undefined), undefined);
  });

  describe('discovery request', () => {
    let dir: string;
    let server: https.Server;
    let port: number;
    const seen: Record<string, unknown>[] = [];
    before(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'skiff-avail-'));
      const pki = await ensureClusterPKI(dir, { serverSANs: { dns: [], ips: ['127.0.0.1'] } });
      server = https.createServer({ cert: pki.apiserver.certPem, key: pki.apiserver.keyPem }, (req, res) => {
        seen.push({ url: req.url, user: req.headers['x-remote-user'], group: req.headers['x-remote-group'] });
        if (req.url === '/apis/ok.example.com/v1') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ kind: 'APIResourceList', groupVersion: 'ok.example.com/v1', resources: [{ name: 'things', kind: 'Thing', namespaced: true, verbs: ['get'] }, 'junk'] }));
        } else if (req.url === '/apis/slow.example.com/v1') {
          // never answers
        } else {
          res.writeHead(503);
          res.end('down');
        }
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      port = (server.address() as AddressInfo).port;
    });
    after(async () => {
      server.closeAllConnections();
      server.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('passes on a 2xx, as the aggregator (system:masters), and keeps the resources', async () => {
      const r = await discoveryCheck({ host: '127.0.0.1', port }, 'ok.example.com', 'v1');
      assert.deepEqual([r.condition.status, r.condition.reason, r.condition.message], ['True', 'Passed', 'all checks passed']);
      assert.deepEqual(r.resources, [{ name: 'things', kind: 'Thing', namespaced: true, verbs: ['get'] }]);
      assert.deepEqual(seen.at(-1), { url: '/apis/ok.example.com/v1', user: 'system:kube-aggregator', group: 'system:masters' });
    });

    it('fails with FailedDiscoveryCheck on a bad status, a refused connection or no answer in time', async () => {
      const base = `https://127.0.0.1:${port}/apis/bad.example.com/v1`;
      const bad = await discoveryCheck({ host: '127.0.0.1', port }, 'bad.example.com', 'v1');
      assert.deepEqual([bad.condition.status, bad.condition.reason, bad.condition.message], ['False', 'FailedDiscoveryCheck', `failing or missing response from ${base}: bad status from ${base}: 503`]);
      const free = await new Promise<number>((r) => {
        const s = net.createServer().listen(0, '127.0.0.1', () => {
          const p = (s.address() as AddressInfo).port;
          s.close(() => r(p));
        });
      });
      const refused = await discoveryCheck({ host: '127.0.0.1', port: free }, 'x.example.com', 'v1');
      assert.equal(refused.condition.message, `failing or missing response from https://127.0.0.1:${free}/apis/x.example.com/v1: Get "https://127.0.0.1:${free}/apis/x.example.com/v1": dial tcp 127.0.0.1:${free}: connect: connection refused`);
      const slow = await discoveryCheck({ host: '127.0.0.1', port }, 'slow.example.com', 'v1', 100);
      assert.equal(slow.condition.reason, 'FailedDiscoveryCheck');
      assert.match(slow.condition.message!, /Client\.Timeout exceeded/);
    });
  });
});
