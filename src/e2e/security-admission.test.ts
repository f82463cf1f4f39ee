import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startSecureCluster, type SecureCluster } from '../apiserver/auth/testing/cluster.js';
import { ensureClusterPKI } from '../pki/ca.js';
import { needs, which } from '../testing/real.js';
import type { ApiClient } from '../testing/client.js';

/** A real HTTPS admission webhook: mutates (adds a label) and denies objects labelled deny=true. */
async function startWebhook(): Promise<{ url: string; caBundle: string; calls: any[]; stop(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'skiff-hook-'));
  const pki = await ensureClusterPKI(dir, { serverSANs: { dns: [], ips: [] } });
  const calls: any[] = [];
  const srv = https.createServer({ cert: pki.apiserver.certPem, key: pki.apiserver.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString());
      calls.push({ path: req.url, review });
      const r = review.request;
      const response: any = { uid: r.uid, allowed: true };
      if (req.url!.startsWith('/sidecar')) {
        // As a sidecar injector: a container with none of the fields defaulting fills in.
        response.patchType = 'JSONPatch';
        response.patch = Buffer.from(JSON.stringify([{ op: 'add', path: '/spec/containers/-', value: { name: 'sidecar', image: 'busybox:1.36', command: ['sleep', '3600'] } }])).toString('base64');
      } else if (req.url!.startsWith('/mutate')) {
        const ops = r.object.metadata.labels ? [{ op: 'add', path: '/metadata/labels/webhooked', value: 'yes' }] : [{ op: 'add', path: '/metadata/labels', value: { webhooked: 'yes' } }];
        response.patchType = 'JSONPatch';
        response.patch = Buffer.from(JSON.stringify(ops)).toString('base64');
        response.warnings = ['mutated by the test webhook'];
      } else if (r.object?.metadata?.labels?.deny === 'true') {
        response.allowed = false;
        response.status = { code: 403, reason: 'Forbidden', message: 'objects labelled deny=true are not welcome' };
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    caBundle: Buffer.from(pki.ca.certPem).toString('base64'),
    calls,
    async stop() {
      await new Promise<void>((r) => srv.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

describe('admission chain: quota, PodSecurity, ServiceAccount, LimitRanger, tolerations, webhooks', () => {
  let c: SecureCluster;
  let admin: ApiClient;
  let hook: Awaited<ReturnType<typeof startWebhook>>;
  const configs: { mutating: any[]; validating: any[] } = { mutating: [], validating: [] };
  before(async () => {
    hook = await startWebhook();
    // admissionregistration.k8s.io is not served yet: the webhook configurations are injected.
    c = await startSecureCluster({ admission: { webhooks: { source: (_reg, kind) => configs[kind] } } });
    admin = await c.client(c.kubeconfig);
    for (const ns of ['q', 'restricted', 'lr', 'hooks']) {
      const labels = ns === 'restricted' ? { 'pod-security.kubernetes.io/enforce': 'restricted' } : {};
      assert.equal((await admin.request('POST', '/api/v1/namespaces', { metadata: { name: ns, labels } })).status, 201);
      assert.equal((await admin.request('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'default' } })).status, 201);
    }
  });
  after(async () => {
    admin?.close();
    await c?.stop();
    await hook?.stop();
  });

  const pod = (name: string, extra: any = {}) => ({ metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox', ...extra }] } });

  it('ServiceAccount mounts the projected kube-api-access volume; DefaultTolerationSeconds adds tolerations', async () => {
    const r = await admin.request('POST', '/api/v1/namespaces/q/pods', pod('sa'));
    assert.equal(r.status, 201, r.body);
    const p = r.json();
    assert.equal(p.spec.serviceAccountName, 'default');
    const vol = p.spec.volumes.find((v: any) => v.name.startsWith('kube-api-access-'));
    assert.match(vol.name, /^kube-api-access-[a-z0-9]{5}$/);
    assert.deepEqual(vol.projected.sources[0], { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } });
    assert.deepEqual(p.spec.containers[0].volumeMounts, [{ name: vol.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);
    assert.deepEqual(p.spec.tolerations.map((t: any) => `${t.key}:${t.tolerationSeconds}`), ['node.kubernetes.io/not-ready:300', 'node.kubernetes.io/unreachable:300']);
    const missing = await admin.request('POST', '/api/v1/namespaces/q/pods', { ...pod('nosa'), spec: { ...pod('nosa').spec, serviceAccountName: 'ghost' } });
    assert.equal(missing.status, 403);
    assert.equal(missing.json().message, 'pods "nosa" is forbidden: error looking up service account q/ghost: serviceaccount "ghost" not found');
    await admin.request('DELETE', '/api/v1/namespaces/q/pods/sa');
  });

  it('ResourceQuota refuses beyond the limit with the upstream message and records usage', async () => {
    const q = await admin.request('POST', '/api/v1/namespaces/q/resourcequotas', { metadata: { name: 'pods-2' }, spec: { hard: { pods: '2', 'requests.cpu': '1' } } });
    assert.equal(q.status, 201, q.body);
    const res = (cpu: string) => ({ resources: { requests: { cpu } } });
    assert.equal((await admin.request('POST', '/api/v1/namespaces/q/pods', pod('a', res('300m')))).status, 201);
    const big = await admin.request('POST', '/api/v1/namespaces/q/pods', pod('big', res('800m')));
    assert.equal(big.status, 403);
    assert.equal(big.json().message, 'pods "big" is forbidden: exceeded quota: pods-2, requested: requests.cpu=800m, used: requests.cpu=300m, limited: requests.cpu=1');
    const none = await admin.request('POST', '/api/v1/namespaces/q/pods', pod('nocpu'));
    assert.equal(none.json().message, 'pods "nocpu" is forbidden: failed quota: pods-2: must specify requests.cpu for: c');
    assert.equal((await admin.request('POST', '/api/v1/namespaces/q/pods', pod('b', res('100m')))).status, 201);
    const third = await admin.request('POST', '/api/v1/namespaces/q/pods', pod('c', res('100m')));
    assert.equal(third.status, 403);
    assert.equal(third.json().message, 'pods "c" is forbidden: exceeded quota: pods-2, requested: pods=1, used: pods=2, limited: pods=2');
    const status = (await admin.request('GET', '/api/v1/namespaces/q/resourcequotas/pods-2')).json().status;
    assert.deepEqual(status.used, { pods: '2', 'requests.cpu': '400m' });
    // Deleting a pod frees room.
    await admin.request('DELETE', '/api/v1/namespaces/q/pods/a');
    const after = await admin.request('POST', '/api/v1/namespaces/q/pods', pod('c', res('100m')));
    assert.equal(after.status, 201, after.body);
  });

  it('quota holds under concurrent creates', async () => {
    await admin.request('POST', '/api/v1/namespaces/lr/resourcequotas', { metadata: { name: 'three' }, spec: { hard: { configmaps: '3' } } });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => admin.request('POST', '/api/v1/namespaces/lr/configmaps', { metadata: { name: `cm${i}` } })));
    assert.equal(results.filter((r) => r.status === 201).length, 3, results.map((r) => r.status).join(','));
  });

  it('a restricted namespace refuses a privileged pod with the PodSecurity message', async () => {
    const r = await admin.request('POST', '/api/v1/namespaces/restricted/pods', pod('priv', { securityContext: { privileged: true } }));
    assert.equal(r.status, 403);
    assert.equal(
      r.json().message,
      'pods "priv" is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true), allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
    const good = pod('good', { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } });
    const ok = await admin.request('POST', '/api/v1/namespaces/restricted/pods', good);
    assert.equal(ok.status, 201, ok.body);
  });

  it('LimitRanger fills defaults and enforces max', async () => {
    await admin.request('POST', '/api/v1/namespaces/lr/limitranges', { metadata: { name: 'lim' }, spec: { limits: [{ type: 'Container', default: { cpu: '500m' }, defaultRequest: { cpu: '200m' }, max: { cpu: '1' } }] } });
    const r = await admin.request('POST', '/api/v1/namespaces/lr/pods', pod('d'));
    assert.equal(r.status, 201, r.body);
    assert.deepEqual(r.json().spec.containers[0].resources, { limits: { cpu: '500m' }, requests: { cpu: '200m' } });
    assert.equal(r.json().metadata.annotations['kubernetes.io/limit-ranger'], 'LimitRanger plugin set: cpu request for container c; cpu limit for container c');
    const big = await admin.request('POST', '/api/v1/namespaces/lr/pods', pod('big', { resources: { limits: { cpu: '2' } } }));
    assert.equal(big.status, 403);
    assert.equal(big.json().message, 'pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2');
  });

  it('a real HTTPS webhook mutates and denies; failurePolicy decides when it is down', async () => {
    configs.mutating = [{ metadata: { name: 'add-label' }, webhooks: [{ name: 'label.example.com', clientConfig: { url: `${hook.url}/mutate`, caBundle: hook.caBundle }, rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }], namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'hooks' } }, sideEffects: 'None', admissionReviewVersions: ['v1'] }] }];
    configs.validating = [{ metadata: { name: 'deny' }, webhooks: [{ name: 'deny.example.com', clientConfig: { url: `${hook.url}/validate`, caBundle: hook.caBundle }, rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }], objectSelector: { matchExpressions: [{ key: 'skip', operator: 'DoesNotExist' }] }, sideEffects: 'None', admissionReviewVersions: ['v1'] }] }];
    await admin.request('PATCH', '/api/v1/namespaces/hooks', { metadata: { labels: { 'kubernetes.io/metadata.name': 'hooks' } } }, { 'content-type': 'application/merge-patch+json' });
    const ok = await admin.request('POST', '/api/v1/namespaces/hooks/configmaps', { metadata: { name: 'm' }, data: { a: 'b' } });
    assert.equal(ok.status, 201, ok.body);
    assert.equal(ok.json().metadata.labels.webhooked, 'yes');
    const seen = hook.calls.find((x) => x.path.startsWith('/mutate'))!.review;
    assert.equal(seen.apiVersion, 'admission.k8s.io/v1');
    assert.equal(seen.request.operation, 'CREATE');
    assert.equal(seen.request.userInfo.username, 'skiff-admin');
    assert.match(hook.calls[0].path, /\?timeout=10s$/);
    const denied = await admin.request('POST', '/api/v1/namespaces/hooks/configmaps', { metadata: { name: 'd', labels: { deny: 'true' } } });
    assert.equal(denied.status, 403);
    assert.equal(denied.json().message, 'admission webhook "deny.example.com" denied the request: objects labelled deny=true are not welcome');
    // The namespace selector keeps the mutating hook out of other namespaces; the object selector skips.
    const other = await admin.request('POST', '/api/v1/namespaces/q/configmaps', { metadata: { name: 'o' } });
    assert.equal(other.json().metadata.labels, undefined);
    assert.equal((await admin.request('POST', '/api/v1/namespaces/hooks/configmaps', { metadata: { name: 's', labels: { deny: 'true', skip: '1' } } })).status, 201);
    // Down webhook: Fail refuses with InternalError; Ignore lets the request through.
    configs.mutating = [];
    configs.validating = [{ metadata: { name: 'down' }, webhooks: [{ name: 'down.example.com', clientConfig: { url: 'https://127.0.0.1:1/x', caBundle: hook.caBundle }, rules: [{ operations: ['*'], apiGroups: ['*'], apiVersions: ['*'], resources: ['configmaps'] }], sideEffects: 'None', timeoutSeconds: 2, admissionReviewVersions: ['v1'] }] }];
    const fail = await admin.request('POST', '/api/v1/namespaces/hooks/configmaps', { metadata: { name: 'f' } });
    assert.equal(fail.status, 500);
    assert.equal(fail.json().reason, 'InternalError');
    assert.match(fail.json().message, /^Internal error occurred: failed calling webhook "down.example.com": failed to call webhook: Post "https:\/\/127.0.0.1:1\/x\?timeout=2s": /);
    configs.validating[0].webhooks[0].failurePolicy = 'Ignore';
    assert.equal((await admin.request('POST', '/api/v1/namespaces/hooks/configmaps', { metadata: { name: 'f' } })).status, 201);
    configs.validating = [];
  });

  it("a webhook's injected container is defaulted like any other, as upstream's dispatcher defaults the patched object", async () => {
    configs.mutating = [{ metadata: { name: 'inject' }, webhooks: [{ name: 'inject.example.com', clientConfig: { url: `${hook.url}/sidecar`, caBundle: hook.caBundle }, rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }], namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'hooks' } }, sideEffects: 'None', admissionReviewVersions: ['v1'] }] }];
    try {
      const r = await admin.request('POST', '/api/v1/namespaces/hooks/pods', { metadata: { name: 'injected' }, spec: { containers: [{ name: 'app', image: 'busybox:1.36', command: ['sleep', '3600'] }] } });
      assert.equal(r.status, 201, r.body);
      const sidecar = r.json().spec.containers.find((c: any) => c.name === 'sidecar');
      assert.equal(sidecar.imagePullPolicy, 'IfNotPresent');
      assert.equal(sidecar.terminationMessagePath, '/dev/termination-log');
    } finally {
      configs.mutating = [];
    }
  });

  it('kubectl sees the quota refusal as upstream prints it', async (t) => {
    if (needs(t, which('kubectl') ? undefined : 'kubectl not on PATH')) return;
    const r = await c.kubectl(c.kubeconfig, ['run', 'x', '-n', 'q', '--image=busybox', '--overrides={"spec":{"containers":[{"name":"x","image":"busybox","resources":{"requests":{"cpu":"100m"}}}]}}']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error from server \(Forbidden\): pods "x" is forbidden: exceeded quota: pods-2, requested: pods=1, used: pods=2, limited: pods=2/);
  });
});
