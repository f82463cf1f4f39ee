import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startSecureCluster, type SecureCluster } from '../apiserver/auth/testing/cluster.js';
import { EncryptedBackend, parseEncryptionConfig } from '../storage/encryption.js';
import type { Backend } from '../storage/backend.js';
import { needs, which } from '../testing/real.js';

describe('audit log and secrets encrypted at rest', () => {
  let c: SecureCluster;
  let raw: Backend;
  let auditPath: string;
  before(async () => {
    const config = parseEncryptionConfig({
      kind: 'EncryptionConfiguration',
      apiVersion: 'apiserver.config.k8s.io/v1',
      resources: [{ resources: ['secrets'], providers: [{ aescbc: { keys: [{ name: 'key1', secret: randomBytes(32).toString('base64') }] } }, { identity: {} }] }],
    });
    auditPath = path.join(await (await import('node:fs/promises')).mkdtemp(path.join((await import('node:os')).tmpdir(), 'skiff-audit-')), 'audit.log');
    c = await startSecureCluster({
      wrapBackend: (b) => ((raw = b), new EncryptedBackend(b, config)),
      audit: {
        path: auditPath,
        policy: {
          rules: [
            { level: 'None', nonResourceURLs: ['/healthz*', '/version'] },
            { level: 'Metadata', resources: [{ group: '', resources: ['secrets'] }] },
            { level: 'RequestResponse', resources: [{ group: '', resources: ['configmaps'] }] },
            { level: 'Metadata' },
          ],
        },
      },
    });
  });
  after(async () => {
    await c?.stop();
  });

  const events = async () => (await readFile(auditPath, 'utf8')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

  it('writes one audit.k8s.io/v1 event per stage with the policy level', async () => {
    const admin = await c.client(c.kubeconfig);
    await admin.request('GET', '/healthz');
    const cm = await admin.request('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'audited' }, data: { k: 'v' } });
    assert.equal(cm.status, 201);
    await admin.request('POST', '/api/v1/namespaces/default/secrets', { metadata: { name: 's' }, stringData: { password: 'hunter2' } });
    const viewer = await c.client(await c.userKubeconfig('nobody', []));
    assert.equal((await viewer.request('GET', '/api/v1/namespaces/default/pods')).status, 403);
    const deadline = Date.now() + 5000;
    let evs = await events();
    while (evs.filter((e) => e.stage === 'ResponseComplete').length < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      evs = await events();
    }
    assert.ok(!evs.some((e) => e.requestURI === '/healthz'), 'None level writes nothing');
    const cmEvents = evs.filter((e) => e.objectRef?.resource === 'configmaps' && e.verb === 'create');
    assert.deepEqual(cmEvents.map((e) => e.stage), ['RequestReceived', 'ResponseComplete']);
    const done = cmEvents[1];
    assert.equal(done.apiVersion, 'audit.k8s.io/v1');
    assert.equal(done.kind, 'Event');
    assert.equal(done.level, 'RequestResponse');
    assert.equal(done.auditID, cmEvents[0].auditID);
    assert.equal(done.user.username, 'skiff-admin');
    assert.deepEqual(done.objectRef, { resource: 'configmaps', namespace: 'default', apiVersion: 'v1' });
    assert.equal(done.responseStatus.code, 201);
    assert.equal(done.requestObject.data.k, 'v');
    assert.equal(done.responseObject.metadata.name, 'audited');
    assert.equal(done.annotations['authorization.k8s.io/decision'], 'allow');
    const sec = evs.filter((e) => e.objectRef?.resource === 'secrets' && e.stage === 'ResponseComplete')[0];
    assert.equal(sec.level, 'Metadata');
    assert.equal(sec.requestObject, undefined, 'secrets stay out of the log at Metadata');
    assert.ok(!JSON.stringify(evs).includes('hunter2'));
    const denied = evs.find((e) => e.user.username === 'nobody' && e.stage === 'ResponseComplete');
    assert.equal(denied.responseStatus.code, 403);
    assert.equal(denied.responseStatus.reason, 'Forbidden');
    assert.equal(denied.annotations['authorization.k8s.io/decision'], 'forbid');
    admin.close();
    viewer.close();
  });

  it('names the requester as user and whom it acts as (kubectl --as) as impersonatedUser', async () => {
    const admin = await c.client(c.kubeconfig);
    assert.equal((await admin.request('GET', '/api/v1/namespaces/default/configmaps/audited', undefined, { 'Impersonate-User': 'jane', 'Impersonate-Group': 'devs' })).status, 403);
    const deadline = Date.now() + 5000;
    let ev: any;
    while (!ev && Date.now() < deadline) {
      ev = (await events()).find((e) => e.impersonatedUser?.username === 'jane' && e.stage === 'ResponseComplete');
      if (!ev) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(ev.user.username, 'skiff-admin');
    assert.deepEqual(ev.impersonatedUser, { username: 'jane', groups: ['devs', 'system:authenticated'] });
    assert.equal(ev.responseStatus.code, 403);
    admin.close();
  });

  it('stores secrets encrypted while the API (and kubectl) shows their data', async (t) => {
    const stored = (await raw.get('/registry/secrets/default/s')).kv!.value;
    assert.match(stored, /^k8s:enc:aescbc:v1:key1:/);
    assert.ok(!stored.includes('hunter2') && !stored.includes(Buffer.from('hunter2').toString('base64')));
    const admin = await c.client(c.kubeconfig);
    const s = (await admin.request('GET', '/api/v1/namespaces/default/secrets/s')).json();
    assert.equal(Buffer.from(s.data.password, 'base64').toString(), 'hunter2');
    admin.close();
    if (needs(t, which('kubectl') ? undefined : 'kubectl not on PATH')) return;
    const r = await c.kubectl(c.kubeconfig, ['get', 'secret', 's', '-o', 'jsonpath={.data.password}']);
    assert.equal(Buffer.from(r.stdout, 'base64').toString(), 'hunter2', r.stderr);
  });
});
