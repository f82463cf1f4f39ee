import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { startSecureCluster, type SecureCluster } from '../apiserver/auth/testing/cluster.js';
import { ServiceAccountTokens, ensureServiceAccountKey } from '../apiserver/auth/tokens/serviceaccount.js';
import { ensureClusterPKI, issueClientCert } from '../pki/ca.js';
import { writeKubeconfig } from '../pki/kubeconfig.js';
import { needs, which } from '../testing/real.js';
import type { RawResponse } from '../testing/client.js';

function unauthorized(r: RawResponse): void {
  assert.equal(r.status, 401, r.body);
  const s = r.json();
  assert.equal(s.kind, 'Status');
  assert.equal(s.reason, 'Unauthorized');
  assert.equal(s.code, 401);
}

describe('authentication: certificates, token file, service-account tokens, anonymous', () => {
  let c: SecureCluster;
  let tokenDir: string;
  before(async () => {
    tokenDir = await mkdtemp(path.join(tmpdir(), 'skiff-tok-'));
    const file = path.join(tokenDir, 'tokens.csv');
    await writeFile(file, '# token,user,uid,groups\nsecret-token-1,carol,uid-carol,"dev,ops"\n');
    c = await startSecureCluster({ tokenAuthFile: file });
    const admin = await c.client(c.kubeconfig);
    await admin.request('POST', '/api/v1/namespaces/default/serviceaccounts', { metadata: { name: 'default' } });
    await admin.request('POST', '/api/v1/namespaces/default/serviceaccounts', { metadata: { name: 'robot' } });
    admin.close();
  });
  after(async () => {
    await c?.stop();
    await rm(tokenDir, { recursive: true, force: true });
  });

  it('anonymous may read health and version only', async () => {
    const anon = await c.client(c.kubeconfig, { anonymous: true });
    assert.equal((await anon.request('GET', '/version')).status, 200);
    assert.equal((await anon.request('GET', '/healthz')).status, 200);
    const r = await anon.request('GET', '/api/v1/namespaces');
    assert.equal(r.status, 403);
    assert.equal(r.json().message, 'namespaces is forbidden: User "system:anonymous" cannot list resource "namespaces" in API group "" at the cluster scope');
    assert.equal((await anon.request('GET', '/apis')).status, 403, 'discovery is for authenticated users, as upstream');
    anon.close();
  });

  it('refuses a client certificate from another CA with 401', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'skiff-otherca-'));
    try {
      const other = await ensureClusterPKI(dir, { serverSANs: { dns: [], ips: [] } });
      const forged = await issueClientCert(other, 'mallory', ['system:masters']);
      const kc = path.join(dir, 'kc');
      await writeKubeconfig(kc, { server: c.server, caPem: c.pki.ca.certPem, certPem: forged.certPem, keyPem: forged.keyPem });
      const cl = await c.client(kc);
      unauthorized(await cl.request('GET', '/api/v1/namespaces'));
      cl.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('static token file users authenticate with their groups; unknown tokens are 401', async () => {
    const cl = await c.client(c.kubeconfig, { token: 'secret-token-1' });
    const r = await cl.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    assert.equal(r.status, 201, r.body);
    assert.deepEqual(r.json().status.userInfo, { username: 'carol', uid: 'uid-carol', groups: ['dev', 'ops', 'system:authenticated'] });
    cl.close();
    const bad = await c.client(c.kubeconfig, { token: 'nope' });
    unauthorized(await bad.request('GET', '/version'));
    bad.close();
  });

  it('service-account tokens: valid, expired, wrongly signed, wrong audience, revoked', async () => {
    const admin = await c.client(c.kubeconfig);
    const sa = (await admin.request('GET', '/api/v1/namespaces/default/serviceaccounts/robot')).json();
    const pod = await admin.request('POST', '/api/v1/namespaces/default/pods', { metadata: { name: 'holder' }, spec: { serviceAccountName: 'robot', containers: [{ name: 'c', image: 'busybox' }] } });
    assert.equal(pod.status, 201, pod.body);
    const tr = await c.security.serviceAccounts.createToken(c.api.registry, 'default', 'robot', { spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'holder', uid: pod.json().metadata.uid } } });
    const token: string = tr.status.token;
    assert.equal(tr.kind, 'TokenRequest');
    const who = async (t: string) => {
      const cl = await c.client(c.kubeconfig, { token: t });
      const r = await cl.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
      cl.close();
      return r;
    };
    const ok = await who(token);
    assert.equal(ok.status, 201, ok.body);
    const info = ok.json().status.userInfo;
    assert.equal(info.username, 'system:serviceaccount:default:robot');
    assert.equal(info.uid, sa.metadata.uid);
    assert.deepEqual(info.groups, ['system:serviceaccounts', 'system:serviceaccounts:default', 'system:authenticated']);
    assert.deepEqual(info.extra['authentication.kubernetes.io/pod-name'], ['holder']);

    // TokenReview says the same, and explains refusals.
    const review = await admin.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
    assert.equal(review.json().status.authenticated, true);
    assert.equal(review.json().status.user.username, 'system:serviceaccount:default:robot');

    const key = ensureServiceAccountKey(path.join(c.dataDir, 'pki'));
    const ref = { namespace: 'default', name: 'robot', uid: sa.metadata.uid };
    const past = new ServiceAccountTokens({ key, now: () => Date.now() - 3 * 3600_000 });
    unauthorized(await who(past.sign(ref, { audiences: c.security.serviceAccounts.apiAudiences, seconds: 3600 }).token));
    const forger = new ServiceAccountTokens({ key: generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey });
    unauthorized(await who(forger.sign(ref, { audiences: c.security.serviceAccounts.apiAudiences, seconds: 3600 }).token));
    const elsewhere = c.security.serviceAccounts.sign(ref, { audiences: ['https://vault.example'], seconds: 3600 });
    unauthorized(await who(elsewhere.token));
    const wrongAud = await admin.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: elsewhere.token } });
    assert.equal(wrongAud.json().status.authenticated, undefined);
    assert.match(wrongAud.json().status.error, /audiences/);
    const vault = await admin.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: elsewhere.token, audiences: ['https://vault.example'] } });
    assert.deepEqual(vault.json().status.audiences, ['https://vault.example']);

    // Deleting the bound pod revokes its token.
    assert.equal((await admin.request('DELETE', '/api/v1/namespaces/default/pods/holder')).status, 200);
    const deadline = Date.now() + 5000;
    let r = await who(token);
    while (r.status !== 401 && Date.now() < deadline) {
      await new Promise((res) => setTimeout(res, 50));
      r = await who(token);
    }
    unauthorized(r);
    admin.close();
  });

  it('TokenRequest validates expiration and the bound object', async () => {
    const sat = c.security.serviceAccounts;
    await assert.rejects(sat.createToken(c.api.registry, 'default', 'robot', { spec: { expirationSeconds: 60 } }), /may not specify a duration less than 10 minutes/);
    await assert.rejects(sat.createToken(c.api.registry, 'default', 'ghost', { spec: {} }), /serviceaccounts "ghost" not found/);
    await assert.rejects(sat.createToken(c.api.registry, 'default', 'robot', { spec: { boundObjectRef: { kind: 'Pod', name: 'nope' } } }), /pods "nope" not found/);
  });

  it('publishes OIDC discovery and JWKS that verify the tokens', async () => {
    const sat = c.security.serviceAccounts;
    const doc = sat.openidConfiguration();
    assert.equal(doc.issuer, 'https://kubernetes.default.svc.cluster.local');
    assert.equal(doc.jwks_uri, 'https://kubernetes.default.svc.cluster.local/openid/v1/jwks');
    assert.deepEqual(doc.id_token_signing_alg_values_supported, ['ES256']);
    const jwks = sat.jwks();
    assert.equal(jwks.keys[0].kty, 'EC');
    assert.equal(jwks.keys[0].alg, 'ES256');
    const { createPublicKey, verify } = await import('node:crypto');
    const t = sat.sign({ namespace: 'default', name: 'robot', uid: 'u' }, { audiences: ['x'], seconds: 600 }).token;
    const [h, p, s] = t.split('.');
    assert.equal(JSON.parse(Buffer.from(h, 'base64url').toString()).kid, jwks.keys[0].kid);
    assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), { key: createPublicKey({ key: jwks.keys[0], format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url')));
  });

  it('kubectl with a service-account token kubeconfig: whoami, and RBAC applies', async (t) => {
    if (needs(t, which('kubectl') ? undefined : 'kubectl not on PATH')) return;
    const sa = (await (await c.client(c.kubeconfig)).request('GET', '/api/v1/namespaces/default/serviceaccounts/robot')).json();
    const token = c.security.serviceAccounts.sign({ namespace: 'default', name: 'robot', uid: sa.metadata.uid }, { audiences: c.security.serviceAccounts.apiAudiences, seconds: 3600 }).token;
    const kc = await c.tokenKubeconfig(token, 'robot');
    const who = await c.kubectl(kc, ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    assert.equal(who.stdout, 'system:serviceaccount:default:robot', who.stderr);
    const get = await c.kubectl(kc, ['get', 'pods', '-n', 'default']);
    assert.notEqual(get.code, 0);
    assert.match(get.stderr, /pods is forbidden: User "system:serviceaccount:default:robot" cannot list resource "pods" in API group "" in the namespace "default"/);
  });
});
