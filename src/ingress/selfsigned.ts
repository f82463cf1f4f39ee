/** ingress-nginx's "Kubernetes Ingress Controller Fake Certificate": served when no Secret matches the SNI name. */
import { webcrypto } from 'node:crypto';

export interface PemPair {
  cert: string;
  key: string;
}

/**
 * keyType 'rsa' (2048 bits) is what ingress-nginx's fake certificate uses, and what the data plane's
 * default must be: with TLS 1.3, OpenSSL keeps serving an EC default certificate when the SNI
 * callback switches to a context holding an RSA one, so an RSA Secret would never be presented.
 */
export async function selfSignedCert(cn = 'Kubernetes Ingress Controller Fake Certificate', dnsNames: string[] = ['ingress.local'], keyType: 'ec' | 'rsa' = 'ec'): Promise<PemPair> {
  const x = await import('@peculiar/x509');
  x.cryptoProvider.set(webcrypto as any);
  const alg =
    keyType === 'rsa'
      ? { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
      : { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${cn}, O=Acme Co`,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 365 * 86400_000),
    keys,
    signingAlgorithm: alg,
    extensions: [new x.SubjectAlternativeNameExtension(dnsNames.map((d) => ({ type: 'dns' as const, value: d })))],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const key = `-----BEGIN PRIVATE KEY-----\n${Buffer.from(pkcs8).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  return { cert: cert.toString('pem'), key };
}
