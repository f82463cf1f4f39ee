/** ingress-nginx's "Kubernetes Ingress Controller Fake Certificate": served when no Secret matches the SNI name. */
import { webcrypto } from 'node:crypto';

export interface PemPair {
  cert: string;
  key: string;
}

export async function selfSignedCert(cn = 'Kubernetes Ingress Controller Fake Certificate', dnsNames: string[] = ['ingress.local']): Promise<PemPair> {
  const x = await import('@peculiar/x509');
  x.cryptoProvider.set(webcrypto as any);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
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
