/**
 * certificates.k8s.io/v1 CertificateSigningRequests with the real kubectl: create, `kubectl get csr`,
 * `kubectl certificate approve|deny` (PUT …/approval), and upstream's validation errors.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { which } from '../testing/real.js';
import { clientFromKubeconfig } from '../testing/client.js';
import { until } from '../testing/wait.js';
import { writeKubeconfig } from '../pki/kubeconfig.js';
import type { AdmissionPlugin } from '../apiserver/admission/index.js';

/** A fresh EC key and a CSR for `cn` in the groups `orgs`, made by openssl. */
function makeCSR(dir: string, name: string, cn: string, orgs: string[]): { csrPem: string; keyPem: string } {
  const keyFile = path.join(dir, `${name}.key`);
  const csrFile = path.join(dir, `${name}.csr`);
  const subj = [...orgs.map((o) => `/O=${o}`), `/CN=${cn}`].join('');
  execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-subj', subj, '-out', csrFile], { stdio: 'pipe' });
  return { csrPem: readFileSync(csrFile, 'utf8'), keyPem: readFileSync(keyFile, 'utf8') };
}

export function csrYAML(name: string, csrPem: string, extra = ''): string {
  return `apiVersion: certificates.k8s.io/v1
kind: CertificateSigningRequest
metadata:
  name: ${name}
spec:
  request: ${Buffer.from(csrPem).toString('base64')}
  signerName: kubernetes.io/kube-apiserver-client
  expirationSeconds: 86400
  usages:
  - client auth
${extra}`;
}

const skip = !which('kubectl') ? 'kubectl is not on PATH' : !which('openssl') ? 'openssl is not on PATH' : undefined;

/** Hooks for a describe block: a test cluster and a scratch directory for its keys and CSRs, handed to `got`. */
function clusterForBlock(opts: Parameters<typeof startTestCluster>[0], got: (c: TestCluster, dir: string) => void): void {
  let c: TestCluster | undefined;
  let dir = '';
  before(async () => {
    if (skip) return;
    dir = mkdtempSync(path.join(tmpdir(), 'skiff-csr-'));
    c = await startTestCluster(opts);
    got(c, dir);
  });
  after(async () => {
    await c?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
}

describe('CertificateSigningRequests', () => {
  let c: TestCluster | undefined;
  let dir = '';
  clusterForBlock({}, (cluster, d) => ([c, dir] = [cluster, d]));

  it('creates a CSR as the requesting user, lists it Pending, and approves it', { skip }, async () => {
    const { csrPem } = makeCSR(dir, 'jane', 'jane', ['dev']);
    // Whatever the client claims as its identity is replaced by the server's.
    await c!.run(['create', '-f', '-'], csrYAML('jane', csrPem, '  username: mallory\n  groups: [system:masters]\n'));
    const got = JSON.parse(await c!.run(['get', 'csr', 'jane', '-o', 'json']));
    assert.equal(got.spec.username, 'skiff-admin');
    assert.deepEqual(got.spec.groups, ['system:masters', 'system:authenticated']);
    assert.deepEqual(got.status, {});

    const table = await c!.run(['get', 'csr']);
    assert.match(table, /^NAME +AGE +SIGNERNAME +REQUESTOR +REQUESTEDDURATION +CONDITION\njane +\S+ +kubernetes\.io\/kube-apiserver-client +skiff-admin +24h +Pending\n$/);

    assert.match(await c!.run(['certificate', 'approve', 'jane']), /certificatesigningrequest\.certificates\.k8s\.io\/jane approved/);
    const approved = JSON.parse(await c!.run(['get', 'csr', 'jane', '-o', 'json']));
    assert.equal(approved.status.conditions.length, 1);
    assert.equal(approved.status.conditions[0].type, 'Approved');
    assert.equal(approved.status.conditions[0].reason, 'KubectlApprove');
    assert.ok(approved.status.conditions[0].lastTransitionTime);
    assert.equal(approved.spec.username, 'skiff-admin');
    assert.match(await c!.run(['get', 'csr', 'jane']), /\njane +\S+ +\S+ +skiff-admin +24h +Approved\n$/);
    // A second approval changes nothing.
    await c!.run(['certificate', 'approve', 'jane']);
    assert.equal(JSON.parse(await c!.run(['get', 'csr', 'jane', '-o', 'json'])).status.conditions.length, 1);
  });

  it('a mutating admission plugin cannot change who asked', { skip }, async () => {
    const plugins = c!.cluster.apiServer.registry.admission;
    const plugin: AdmissionPlugin = {
      name: 'TestRewriteRequester',
      handles: (r) => r.info.key === 'certificates.k8s.io/certificatesigningrequests' && r.operation === 'CREATE',
      admit(r) {
        r.object.spec.username = 'mallory';
        r.object.spec.groups = ['mallory-friends'];
      },
    };
    plugins.unshift(plugin);
    try {
      const { csrPem } = makeCSR(dir, 'rewritten', 'rewritten', ['dev']);
      await c!.run(['create', '-f', '-'], csrYAML('rewritten', csrPem));
      const got = JSON.parse(await c!.run(['get', 'csr', 'rewritten', '-o', 'json']));
      assert.equal(got.spec.username, 'skiff-admin');
      assert.deepEqual(got.spec.groups, ['system:masters', 'system:authenticated']);
    } finally {
      plugins.splice(plugins.indexOf(plugin), 1);
    }
  });

  it('denies a CSR, and a denied one cannot be approved', { skip }, async () => {
    const { csrPem } = makeCSR(dir, 'bob', 'bob', []);
    await c!.run(['create', '-f', '-'], csrYAML('bob', csrPem));
    assert.match(await c!.run(['certificate', 'deny', 'bob']), /certificatesigningrequest\.certificates\.k8s\.io\/bob denied/);
    assert.match(await c!.run(['get', 'csr', 'bob']), /\nbob +\S+ +\S+ +skiff-admin +24h +Denied\n$/);
    // kubectl itself refuses; so does the server, when asked directly (Approved and Denied are exclusive).
    const k = await c!.kubectl(['certificate', 'approve', 'bob']);
    assert.notEqual(k.code, 0);
    assert.match(k.stderr, /certificate signing request "bob" is already Denied/);
    const api = await clientFromKubeconfig(c!.kubeconfig);
    try {
      const url = '/apis/certificates.k8s.io/v1/certificatesigningrequests/bob';
      const bob = (await api.request('GET', url)).json();
      bob.status.conditions.push({ type: 'Approved', status: 'True', reason: 'Test', message: 'approved anyway' });
      const r = await api.request('PUT', `${url}/approval`, bob);
      assert.equal(r.status, 422);
      const st = r.json();
      assert.equal(st.reason, 'Invalid');
      assert.equal(st.message, 'CertificateSigningRequest.certificates.k8s.io "bob" is invalid: status.conditions[1].type: Invalid value: "Approved": Approved and Denied conditions are mutually exclusive');
      assert.deepEqual(st.details.causes, [{ reason: 'FieldValueInvalid', message: 'Invalid value: "Approved": Approved and Denied conditions are mutually exclusive', field: 'status.conditions[1].type' }]);
      // Nor can an approval be removed through /approval.
      const jane = (await api.request('GET', url.replace('bob', 'jane'))).json();
      jane.status.conditions = [];
      const rm = await api.request('PUT', `${url.replace('bob', 'jane')}/approval`, jane);
      assert.equal(rm.status, 422);
      assert.match(rm.json().message, /status\.conditions: Forbidden: updates may not remove a condition of type "Approved"/);
    } finally {
      api.close();
    }
  });

  it('keeps approval and the certificate out of the main resource and /status', { skip }, async () => {
    const { csrPem } = makeCSR(dir, 'carol', 'carol', []);
    await c!.run(['create', '-f', '-'], csrYAML('carol', csrPem));
    // A main-resource update cannot approve, nor change the spec.
    await c!.run(['patch', 'csr', 'carol', '--type=merge', '-p', '{"spec":{"signerName":"example.com/other"},"status":{"conditions":[{"type":"Approved","status":"True"}]}}']);
    const after = JSON.parse(await c!.run(['get', 'csr', 'carol', '-o', 'json']));
    assert.equal(after.spec.signerName, 'kubernetes.io/kube-apiserver-client');
    assert.deepEqual(after.status, {});
    // /status may not add an approval either.
    const r = await c!.kubectl(['patch', 'csr', 'carol', '--subresource=status', '--type=merge', '-p', '{"status":{"conditions":[{"type":"Approved","status":"True"}]}}']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /status\.conditions: Forbidden: updates may not add a condition of type "Approved"/);
    // /approval may not set the certificate.
    const s = await c!.kubectl(['patch', 'csr', 'carol', '--subresource=approval', '--type=merge', '-p', '{"status":{"certificate":"Zm9v"}}']);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(JSON.parse(await c!.run(['get', 'csr', 'carol', '-o', 'json'])).status.certificate, undefined);
  });

  it('refuses bad requests with upstream field errors', { skip }, async () => {
    const garbage = await c!.kubectl(['create', '-f', '-'], { input: csrYAML('bad', 'hello') });
    assert.notEqual(garbage.code, 0);
    assert.match(garbage.stderr, /The CertificateSigningRequest "bad" is invalid: spec\.request: Invalid value: \[\]byte\{0x68, 0x65, 0x6c, 0x6c, 0x6f\}: PEM block type must be CERTIFICATE REQUEST/);

    const { csrPem } = makeCSR(dir, 'dave', 'dave', []);
    const yaml = csrYAML('dave', csrPem)
      .replace('kubernetes.io/kube-apiserver-client', 'no-slash')
      .replace('expirationSeconds: 86400', 'expirationSeconds: 60')
      .replace('  - client auth\n', '  - client auth\n  - client auth\n  - flying\n');
    const r = await c!.kubectl(['create', '-f', '-'], { input: yaml });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.usages\[1\]: Duplicate value: "client auth"/);
    assert.match(r.stderr, /spec\.usages\[2\]: Unsupported value: "flying": supported values: "any", "cert sign", "client auth"/);
    assert.match(r.stderr, /spec\.signerName: Invalid value: "no-slash": must be a fully qualified domain and path of the form 'example\.com\/signer-name'/);
    assert.match(r.stderr, /spec\.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds \(10 minutes\)/);

    const legacy = await c!.kubectl(['create', '-f', '-'], { input: csrYAML('legacy', csrPem).replace('kubernetes.io/kube-apiserver-client', 'kubernetes.io/legacy-unknown') });
    assert.match(legacy.stderr, /spec\.signerName: Invalid value: "kubernetes\.io\/legacy-unknown": the legacy signerName is not allowed via this API version/);
  });
});

describe('the CSR signer (controller manager of skiff up)', () => {
  let c: TestCluster | undefined;
  let dir = '';
  clusterForBlock({ components: { controllers: true } }, (cluster, d) => ([c, dir] = [cluster, d]));

  const issued = (name: string) =>
    until(`a certificate for ${name}`, async () => {
      const o = JSON.parse(await c!.run(['get', 'csr', name, '-o', 'json']));
      return o.status?.certificate ? o : undefined;
    });

  it('issues a client certificate that logs jane in, in group dev', { skip }, async () => {
    // A request for a signer nobody runs here stays approved and unsigned.
    const other = makeCSR(dir, 'other', 'other', []);
    await c!.run(['create', '-f', '-'], csrYAML('other', other.csrPem).replace('kubernetes.io/kube-apiserver-client', 'example.com/my-signer'));
    await c!.run(['certificate', 'approve', 'other']);

    const { csrPem, keyPem } = makeCSR(dir, 'jane', 'jane', ['dev']);
    await c!.run(['create', '-f', '-'], csrYAML('jane', csrPem));
    await c!.run(['certificate', 'approve', 'jane']);
    const csr = await issued('jane');
    assert.match(await c!.run(['get', 'csr', 'jane']), /\njane +\S+ +kubernetes\.io\/kube-apiserver-client +skiff-admin +24h +Approved,Issued\n$/);

    const certPem = Buffer.from(csr.status.certificate, 'base64').toString();
    const cert = new X509Certificate(certPem);
    assert.equal(cert.subject, 'O=dev\nCN=jane');
    assert.ok(cert.verify(new X509Certificate(readFileSync(path.join(c!.dataDir, 'pki', 'ca.crt'), 'utf8')).publicKey));
    // 24h requested: the validity is exactly that, starting five minutes before signing.
    const from = Date.parse(cert.validFrom);
    assert.equal(Date.parse(cert.validTo) - from, 86400_000);
    assert.ok(from <= Date.parse(csr.metadata.creationTimestamp) - 4 * 60_000);
    assert.match(cert.keyUsage?.join(',') ?? '', /1\.3\.6\.1\.5\.5\.7\.3\.2/);

    const kubeconfig = path.join(dir, 'jane.kubeconfig');
    await writeKubeconfig(kubeconfig, { server: c!.server, caPem: readFileSync(path.join(c!.dataDir, 'pki', 'ca.crt'), 'utf8'), certPem, keyPem, userName: 'jane' });
    const who = await c!.kubectl(['--kubeconfig', kubeconfig, 'auth', 'whoami']);
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /^ATTRIBUTE +VALUE\nUsername +jane\nGroups +\[dev system:authenticated\]\n$/);
    // jane has no RBAC grants yet: authenticated, but forbidden.
    const pods = await c!.kubectl(['--kubeconfig', kubeconfig, 'get', 'pods']);
    assert.match(pods.stderr, /User "jane" cannot list resource "pods"/);

    assert.equal(JSON.parse(await c!.run(['get', 'csr', 'other', '-o', 'json'])).status.certificate, undefined);

    // Approving needs `approve` on the signer (by name or domain/*), signing `sign`, beyond RBAC on the CSR.
    await c!.run(['create', 'clusterrole', 'csr-approver', '--verb=get,list,update,patch', '--resource=certificatesigningrequests,certificatesigningrequests/approval,certificatesigningrequests/status']);
    await c!.run(['create', 'clusterrolebinding', 'jane-csr-approver', '--clusterrole=csr-approver', '--user=jane']);
    const other2 = makeCSR(dir, 'other2', 'other2', []);
    await c!.run(['create', '-f', '-'], csrYAML('other2', other2.csrPem).replace('kubernetes.io/kube-apiserver-client', 'example.com/my-signer'));
    const denied = await until('jane allowed to try', async () => {
      const r = await c!.kubectl(['--kubeconfig', kubeconfig, 'certificate', 'approve', 'other2']);
      return /user not permitted/.test(r.stderr) ? r : undefined;
    });
    assert.match(denied.stderr, /certificatesigningrequests\.certificates\.k8s\.io "other2" is forbidden: user not permitted to approve requests with signerName "example\.com\/my-signer"/);
    const sign = await c!.kubectl(['--kubeconfig', kubeconfig, 'patch', 'csr', 'other2', '--subresource=status', '--type=merge', '-p', '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}']);
    assert.match(sign.stderr, /is forbidden: user not permitted to sign requests with signerName "example\.com\/my-signer"/);
    // signers are not a served resource: the role comes as YAML, as upstream's docs write it.
    await c!.run(['create', '-f', '-'], 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: example-approver}\nrules:\n- {apiGroups: [certificates.k8s.io], resources: [signers], resourceNames: [example.com/*], verbs: [approve]}\n');
    await c!.run(['create', 'clusterrolebinding', 'jane-example-approver', '--clusterrole=example-approver', '--user=jane']);
    await until('jane approves other2', async () => (await c!.kubectl(['--kubeconfig', kubeconfig, 'certificate', 'approve', 'other2'])).code === 0);
    assert.match(await c!.run(['get', 'csr', 'other2']), /\nother2 +\S+ +example\.com\/my-signer +skiff-admin +24h +Approved\n$/);
  });

  it("bootstraps upstream's approver roles for the kubernetes.io signers", { skip }, async () => {
    for (const signer of ['kube-apiserver-client', 'kube-apiserver-client-kubelet', 'kubelet-serving', 'legacy-unknown']) {
      const role = JSON.parse(await c!.run(['get', 'clusterrole', `system:certificates.k8s.io:${signer}-approver`, '-o', 'json']));
      assert.deepEqual(role.rules, [{ apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: [`kubernetes.io/${signer}`], verbs: ['approve'] }]);
    }
  });

  it('refuses kube-apiserver-client requests for system:masters', { skip }, async () => {
    const m = makeCSR(dir, 'root', 'root', ['system:masters']);
    const r = await c!.kubectl(['create', '-f', '-'], { input: csrYAML('root', m.csrPem) });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /certificatesigningrequests\.certificates\.k8s\.io "root" is forbidden: use of kubernetes\.io\/kube-apiserver-client signer with system:masters group is not allowed/);
  });

  it('issues kubelet client certificates and fails requests the signer refuses', { skip }, async () => {
    const node = makeCSR(dir, 'node', 'system:node:n1', ['system:nodes']);
    await c!.run(['create', '-f', '-'], csrYAML('node', node.csrPem).replace('kube-apiserver-client', 'kube-apiserver-client-kubelet').replace('  - client auth\n', '  - digital signature\n  - client auth\n'));
    const bad = makeCSR(dir, 'bad-usage', 'x', []);
    await c!.run(['create', '-f', '-'], csrYAML('bad-usage', bad.csrPem).replace('  - client auth\n', '  - server auth\n'));
    await c!.run(['certificate', 'approve', 'node', 'bad-usage']);
    const n = await issued('node');
    assert.equal(new X509Certificate(Buffer.from(n.status.certificate, 'base64')).subject, 'O=system:nodes\nCN=system:node:n1');
    const failed = await until('the Failed condition', async () => {
      const o = JSON.parse(await c!.run(['get', 'csr', 'bad-usage', '-o', 'json']));
      return o.status?.conditions?.find((x: any) => x.type === 'Failed') ? o : undefined;
    });
    const cond = failed.status.conditions.find((x: any) => x.type === 'Failed');
    assert.equal(cond.reason, 'SignerValidationFailure');
    assert.equal(cond.message, 'invalid usage for client certificate: server auth');
    assert.equal(failed.status.certificate, undefined);
    assert.match(await c!.run(['get', 'csr', 'bad-usage']), /\nbad-usage +\S+ +\S+ +skiff-admin +24h +Approved,Failed\n$/);
  });
});
