/**
 * The kubelet's serving certificate: self-signed and kept in `<dataDir>/pki/kubelet.{crt,key}`,
 * as upstream's kubelet does without --tls-cert-file. The API server does not verify it (upstream's
 * default without --kubelet-certificate-authority); clients of the kubelet are verified against
 * the cluster CA.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { selfSignedServingCert } from './selfsigned.js';

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
  const now = Date.now();
  const { certPem, keyPem } = selfSignedServingCert({ commonName: nodeName, dnsNames: [nodeName], ips, notBefore: new Date(now - 300_000), notAfter: new Date(now + 365 * 86400_000) });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(keyFile, keyPem, { mode: 0o600 });
  await writeFile(certFile, certPem);
  return { certPem, keyPem };
}
