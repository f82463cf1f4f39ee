import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { selfSignedServingCert } from './selfsigned.js';

describe('self-signed serving certificate', () => {
  const notBefore = new Date('2026-01-01T00:00:00Z');
  const notAfter = new Date('2051-06-01T00:00:00Z'); // past 2049: GeneralizedTime
  const { certPem, keyPem } = selfSignedServingCert({ commonName: 'node-1', dnsNames: ['node-1'], ips: ['127.0.0.1', '::1', 'fd00::10:2'], notBefore, notAfter });

  it('parses as X.509 with the subject, validity, SANs and a valid self-signature', () => {
    const c = new X509Certificate(certPem);
    assert.equal(c.subject, 'CN=node-1');
    assert.equal(c.issuer, 'CN=node-1');
    assert.equal(Date.parse(c.validFrom), notBefore.getTime());
    assert.equal(Date.parse(c.validTo), notAfter.getTime());
    assert.equal(c.subjectAltName, 'DNS:node-1, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:FD00:0:0:0:0:0:10:2');
    assert.deepEqual(c.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(c.ca, false);
    assert.ok(c.verify(c.publicKey));
    assert.ok(c.checkPrivateKey(createPrivateKey(keyPem)));
    assert.ok(c.checkHost('node-1'));
    assert.equal(c.checkIP('127.0.0.1'), '127.0.0.1');
  });

  it('serves TLS that a client trusting it verifies by IP', async () => {
    const srv = https.createServer({ cert: certPem, key: keyPem }, (_q, r) => r.end('ok'));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    try {
      const body = await new Promise<string>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port: (srv.address() as AddressInfo).port, ca: certPem }, (res) => {
            let s = '';
            res.on('data', (d) => (s += d)).on('end', () => resolve(s));
          })
          .on('error', reject);
      });
      assert.equal(body, 'ok');
    } finally {
      srv.close();
    }
  });
});
