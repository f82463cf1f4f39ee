import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, type webcrypto } from 'node:crypto';
import { certificateTTLSeconds, decide, signRequest, validity } from './signer.js';
import { x509Lib } from '../../pki/x509.js';

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

async function pemOf(key: webcrypto.CryptoKey): Promise<string> {
  return x509Lib().PemConverter.encode(await crypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

async function makeCA(): Promise<{ certPem: string; keyPem: string }> {
  const x = x509Lib();
  const keys = (await crypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x.X509CertificateGenerator.createSelfSigned({ name: 'CN=test-ca', keys, signingAlgorithm: SIGN, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 10 * 365 * 86400_000), extensions: [new x.BasicConstraintsExtension(true, undefined, true)] });
  return { certPem: cert.toString('pem'), keyPem: await pemOf(keys.privateKey) };
}

async function csrObj(name: string, spec: Record<string, unknown>, conditions: string[], san?: { type: 'dns' | 'ip'; value: string }[]): Promise<any> {
  const x = x509Lib();
  const keys = (await crypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const req = await x.Pkcs10CertificateRequestGenerator.create({ name, keys, signingAlgorithm: SIGN, extensions: san ? [new x.SubjectAlternativeNameExtension(san)] : [] });
  return {
    metadata: { name: 'r' },
    spec: { request: Buffer.from(req.toString('pem')).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], ...spec },
    status: { conditions: conditions.map((type) => ({ type, status: 'True' })) },
  };
}

describe('CSR signer', () => {
  it('signs approved requests only, for the kubernetes.io signers it runs', async () => {
    assert.equal(decide(await csrObj('CN=a', {}, [])).action, 'ignore');
    assert.equal(decide(await csrObj('CN=a', {}, ['Denied'])).action, 'ignore');
    assert.equal(decide(await csrObj('CN=a', {}, ['Approved', 'Failed'])).action, 'ignore');
    assert.equal(decide(await csrObj('CN=a', { signerName: 'kubernetes.io/legacy-unknown' }, ['Approved'])).action, 'ignore');
    assert.equal(decide(await csrObj('CN=a', { signerName: 'example.com/x' }, ['Approved'])).action, 'ignore');
    const issued = await csrObj('CN=a', {}, ['Approved']);
    issued.status.certificate = 'Zm9v';
    assert.equal(decide(issued).action, 'ignore');
    assert.equal(decide(await csrObj('CN=a', { usages: ['client auth', 'digital signature', 'key encipherment'] }, ['Approved'])).action, 'sign');
  });

  it("refuses what upstream's signers refuse, with their messages", async () => {
    const fail = async (name: string, spec: Record<string, unknown>, san?: { type: 'dns' | 'ip'; value: string }[]) => {
      const d = decide(await csrObj(name, spec, ['Approved'], san));
      assert.equal(d.action, 'fail');
      return (d as { message: string }).message;
    };
    assert.equal(await fail('CN=a', { usages: ['digital signature'] }), 'missing required usage for client certificate: client auth');
    assert.equal(await fail('CN=a', { usages: ['client auth', 'server auth'] }), 'invalid usage for client certificate: server auth');
    const kubelet = { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] };
    assert.equal(await fail('CN=system:node:n1', kubelet), 'subject organization is not system:nodes');
    assert.equal(await fail('CN=n1, O=system:nodes', kubelet), 'subject common name does not begin with system:node:');
    assert.equal(await fail('CN=system:node:n1, O=system:nodes', { ...kubelet, usages: ['client auth'] }), 'usages did not match [client auth digital signature key encipherment]');
    assert.equal(await fail('CN=system:node:n1, O=system:nodes', kubelet, [{ type: 'dns', value: 'n1' }]), 'DNS subjectAltNames are not allowed');
    assert.equal(decide(await csrObj('CN=system:node:n1, O=system:nodes', kubelet, ['Approved'])).action, 'sign');
    const serving = { signerName: 'kubernetes.io/kubelet-serving', usages: ['digital signature', 'server auth'] };
    assert.equal(await fail('CN=system:node:n1, O=system:nodes', serving), 'DNS or IP subjectAltName is required');
    assert.equal(decide(await csrObj('CN=system:node:n1, O=system:nodes', serving, ['Approved'], [{ type: 'ip', value: '10.0.0.1' }])).action, 'sign');
  });

  it('caps the lifetime and backdates NotBefore by five minutes', () => {
    assert.equal(certificateTTLSeconds(undefined), 365 * 86400);
    assert.equal(certificateTTLSeconds(3600), 3600);
    assert.equal(certificateTTLSeconds(10 * 365 * 86400), 365 * 86400);
    const now = Date.UTC(2026, 0, 1);
    const long = validity(now, 86400, now + 1000 * 86400_000);
    assert.equal(long.notBefore.getTime(), now - 300_000);
    assert.equal(long.notAfter.getTime() - long.notBefore.getTime(), 86400_000);
    const short = validity(now, 3600, now + 1000 * 86400_000);
    assert.equal(short.notAfter.getTime(), now + 3600_000);
    assert.equal(validity(now, 86400, now + 60_000).notAfter.getTime(), now + 60_000);
  });

  it('issues a certificate with the request subject, SANs and usages, signed by the CA', async () => {
    const ca = await makeCA();
    const obj = await csrObj('CN=system:node:n1, O=system:nodes', { signerName: 'kubernetes.io/kubelet-serving', usages: ['digital signature', 'server auth'], expirationSeconds: 3600 }, ['Approved'], [{ type: 'dns', value: 'n1.example' }, { type: 'ip', value: '10.0.0.1' }]);
    const d = decide(obj);
    assert.equal(d.action, 'sign');
    const now = Date.now();
    const pem = await signRequest((d as any).csr, obj.spec.usages, obj.spec.expirationSeconds, ca, now);
    const cert = new X509Certificate(pem);
    assert.ok(cert.verify(new X509Certificate(ca.certPem).publicKey));
    assert.equal(cert.subject, 'CN=system:node:n1\nO=system:nodes'); // as requested, in its order
    assert.equal(cert.issuer, 'CN=test-ca');
    assert.equal(cert.subjectAltName, 'DNS:n1.example, IP Address:10.0.0.1');
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(cert.ca, false);
    assert.equal(Date.parse(cert.validTo), Math.floor((now + 3600_000) / 1000) * 1000);
  });

  it('reads the request as validation does: a second PEM block never gets signed in place of the first', async () => {
    const ca = await makeCA();
    const harmless = await csrObj('CN=jane, O=dev', {}, ['Approved']);
    const evil = await csrObj('CN=jane, O=system:masters', {}, ['Approved']);
    const first = Buffer.from(harmless.spec.request, 'base64').toString('latin1').split('\n');
    first[1] += ' '; // a trailing space: fine for Go's PEM decoder, not for a strict base64-lines parser
    harmless.spec.request = Buffer.from(first.join('\n') + Buffer.from(evil.spec.request, 'base64').toString('latin1')).toString('base64');
    const d = decide(harmless);
    assert.equal(d.action, 'sign');
    const cert = new X509Certificate(await signRequest((d as any).csr, ['client auth'], undefined, ca));
    assert.equal(cert.subject, 'CN=jane\nO=dev');
  });

  it('copies only DNS, IP, email and URI names from the request', async () => {
    const ca = await makeCA();
    const x = x509Lib();
    const keys = (await crypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const san = new x.SubjectAlternativeNameExtension([{ type: 'dns', value: 'a.example' }, { type: 'upn', value: 'admin@corp' }], true);
    const req = await x.Pkcs10CertificateRequestGenerator.create({ name: 'CN=jane', keys, signingAlgorithm: SIGN, extensions: [san] });
    const obj = { metadata: { name: 'r' }, spec: { request: Buffer.from(req.toString('pem')).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'] }, status: { conditions: [{ type: 'Approved', status: 'True' }] } };
    const d = decide(obj);
    assert.equal(d.action, 'sign');
    const cert = new X509Certificate(await signRequest((d as any).csr, ['client auth'], undefined, ca));
    assert.equal(cert.subjectAltName, 'DNS:a.example');
  });
});
