/**
 * The kubelet's serving certificate: self-signed and kept in `<dataDir>/pki/kubelet.{crt,key}`,
 * as upstream's kubelet does without --tls-cert-file. The API server does not verify it (upstream's
 * default without --kubelet-certificate-authority); clients of the kubelet are verified against
 * the cluster CA.
 */
import { createRequire } from 'node:module';
import { X509Certificate, type webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function kubeletServingCert(dir: string, nodeName: string, ips: string[]): Promise<{ certPem: string; keyPem: string }> {
  const certFile = path.join(dir, 'kubelet.crt');
  const keyFile = path.join(dir, 'kubelet.key');
  try {
    const certPem = readFileSync(certFile, 'utf8');
    const keyPem = readFileSync(keyFile, 'utf8');
    const c = new X509Certificate(certPem);
    if (Date.parse(c.validTo) - Date.now() > 30 * 86400_000 && c.subject.includes(`CN=${nodeName}`)) return { certPem, keyPem };
  } catch {
    // create below
  }
  const x = createRequire(import.meta.url)('@peculiar/x509') as typeof import('@peculiar/x509');
  x.cryptoProvider.set(globalThis.crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await crypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await x.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[89a-f]/, '1'),
    name: `CN=${nodeName}`,
    notBefore: new Date(now - 300_000),
    notAfter: new Date(now + 365 * 86400_000),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x.BasicConstraintsExtension(false, undefined, true),
      new x.KeyUsagesExtension(x.KeyUsageFlags.digitalSignature, true),
      new x.ExtendedKeyUsageExtension([x.ExtendedKeyUsage.serverAuth]),
      new x.SubjectAlternativeNameExtension([{ type: 'dns', value: nodeName }, ...ips.map((value) => ({ type: 'ip' as const, value }))]),
    ],
  });
  const der = await crypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = x.PemConverter.encode(der, 'PRIVATE KEY') + '\n';
  const certPem = cert.toString('pem') + '\n';
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(keyFile, keyPem, { mode: 0o600 });
  await writeFile(certFile, certPem);
  return { certPem, keyPem };
}
