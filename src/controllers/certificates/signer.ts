/**
 * The kubernetes.io signers of kube-controller-manager's csrsigning controller, as pure functions:
 * which approved requests a signer takes (and which it refuses, with upstream's reasons), and the
 * certificate it issues with the cluster CA (upstream's PermissiveSigningPolicy: subject, SANs and
 * public key from the request, usages from spec.usages, NotBefore backdated by five minutes).
 */
import { randomBytes, type webcrypto } from 'node:crypto';
import { KUBE_APISERVER_CLIENT, bytesOf, parseCSR, type ParsedCSR as CSR } from '../../apiserver/validation/certificates.js';
import { x509Lib, type X509Module } from '../../pki/x509.js';

export const KUBE_APISERVER_CLIENT_KUBELET = 'kubernetes.io/kube-apiserver-client-kubelet';
export const KUBELET_SERVING = 'kubernetes.io/kubelet-serving';

/** kube-controller-manager's --cluster-signing-duration default. */
export const DEFAULT_MAX_TTL_SECONDS = 365 * 24 * 3600;
const BACKDATE_MS = 5 * 60 * 1000;
/** Certificates shorter-lived than this keep their full requested lifetime after `now` (upstream's "short" horizon). */
const SHORT_MS = 8 * 3600 * 1000;
const NODE_USER_PREFIX = 'system:node:';


/** What the signer does with a request. */
export type Decision =
  | { action: 'ignore' }
  | { action: 'fail'; reason: 'SignerValidationFailure'; message: string }
  | { action: 'sign'; csr: CSR };

const conditionTypes = (obj: any): Set<string> =>
  new Set((Array.isArray(obj?.status?.conditions) ? obj.status.conditions : []).filter((c: any) => c?.status === 'True').map((c: any) => c.type));

/** Approved, not Denied, not Failed, and without a certificate yet. */
export function wantsSigning(obj: any): boolean {
  const t = conditionTypes(obj);
  return t.has('Approved') && !t.has('Denied') && !t.has('Failed') && !obj?.status?.certificate;
}

/**
 * Parses spec.request exactly as validation and admission did (the first PEM block, which must be a
 * CERTIFICATE REQUEST whose self-signature checks): a second parser could read another block than
 * the one the approver saw.
 */
export function parseRequest(obj: any): CSR {
  return parseCSR(bytesOf(obj?.spec?.request));
}

interface RequestInfo {
  cn: string;
  orgs: string[];
  dns: string[];
  ips: string[];
  emails: string[];
  uris: string[];
}

function requestInfo(csr: CSR): RequestInfo {
  const x = x509Lib();
  const out: RequestInfo = { cn: csr.subjectName.getField('CN')[0] ?? '', orgs: csr.subjectName.getField('O'), dns: [], ips: [], emails: [], uris: [] };
  const ext = csr.getExtension('2.5.29.17');
  if (ext) {
    for (const n of new x.SubjectAlternativeNameExtension(ext.rawData).names.items) {
      if (n.type === 'dns') out.dns.push(n.value);
      else if (n.type === 'ip') out.ips.push(n.value);
      else if (n.type === 'email') out.emails.push(n.value);
      else if (n.type === 'url') out.uris.push(n.value);
    }
  }
  return out;
}

const sameSet = (a: Set<string>, b: string[]) => a.size === b.length && b.every((u) => a.has(u));

function validateKubeletClient(r: RequestInfo, usages: Set<string>): string | undefined {
  if (r.orgs.length !== 1 || r.orgs[0] !== 'system:nodes') return 'subject organization is not system:nodes';
  if (r.dns.length) return 'DNS subjectAltNames are not allowed';
  if (r.emails.length) return 'Email subjectAltNames are not allowed';
  if (r.ips.length) return 'IP subjectAltNames are not allowed';
  if (r.uris.length) return 'URI subjectAltNames are not allowed';
  if (!r.cn.startsWith(NODE_USER_PREFIX)) return `subject common name does not begin with ${NODE_USER_PREFIX}`;
  if (!sameSet(usages, ['digital signature', 'key encipherment', 'client auth']) && !sameSet(usages, ['digital signature', 'client auth'])) {
    return 'usages did not match [client auth digital signature key encipherment]';
  }
  return undefined;
}

function validateKubeletServing(r: RequestInfo, usages: Set<string>): string | undefined {
  if (!sameSet(usages, ['digital signature', 'key encipherment', 'server auth']) && !sameSet(usages, ['digital signature', 'server auth'])) {
    return 'usages did not match [digital signature key encipherment server auth]';
  }
  if (r.orgs.length !== 1 || r.orgs[0] !== 'system:nodes') return 'subject organization is not system:nodes';
  if (!r.cn.startsWith(NODE_USER_PREFIX)) return `subject common name does not begin with ${NODE_USER_PREFIX}`;
  if (!r.dns.length && !r.ips.length) return 'DNS or IP subjectAltName is required';
  if (r.emails.length) return 'Email subjectAltNames are not allowed';
  if (r.uris.length) return 'URI subjectAltNames are not allowed';
  return undefined;
}

function validateAPIServerClient(usages: string[]): string | undefined {
  let clientAuth = false;
  for (const u of usages) {
    if (u === 'client auth') clientAuth = true;
    else if (u !== 'digital signature' && u !== 'key encipherment') return `invalid usage for client certificate: ${u}`;
  }
  return clientAuth ? undefined : 'missing required usage for client certificate: client auth';
}

/**
 * Upstream's handle(): requests that are not approved, already failed or issued, or for a signer
 * this controller does not run (legacy-unknown, any non-kubernetes.io name) are left alone; a
 * request one of ours refuses gets a Failed condition.
 */
export function decide(obj: any): Decision {
  if (!wantsSigning(obj)) return { action: 'ignore' };
  const signer = obj?.spec?.signerName;
  if (signer !== KUBE_APISERVER_CLIENT && signer !== KUBE_APISERVER_CLIENT_KUBELET && signer !== KUBELET_SERVING) return { action: 'ignore' };
  const csr = parseRequest(obj);
  const usages: string[] = Array.isArray(obj.spec.usages) ? obj.spec.usages : [];
  const set = new Set(usages);
  const problem =
    signer === KUBE_APISERVER_CLIENT ? validateAPIServerClient(usages)
    : signer === KUBE_APISERVER_CLIENT_KUBELET ? validateKubeletClient(requestInfo(csr), set)
    : validateKubeletServing(requestInfo(csr), set);
  return problem ? { action: 'fail', reason: 'SignerValidationFailure', message: problem } : { action: 'sign', csr };
}

/** The signing CA: certificate and PKCS#8 key, PEM. */
export interface SigningCA {
  certPem: string;
  keyPem: string;
}

/** spec.expirationSeconds, capped by the signer's maximum; at least ten minutes, as upstream. */
export function certificateTTLSeconds(expirationSeconds: unknown, maxSeconds = DEFAULT_MAX_TTL_SECONDS): number {
  if (typeof expirationSeconds !== 'number') return maxSeconds;
  return Math.min(Math.max(expirationSeconds, 600), maxSeconds);
}

/** NotBefore is backdated for clock skew; long-lived certificates keep exactly their TTL, short ones get it from now. */
export function validity(nowMs: number, ttlSeconds: number, caNotAfterMs: number): { notBefore: Date; notAfter: Date } {
  const ttl = ttlSeconds * 1000;
  const notBefore = nowMs - BACKDATE_MS;
  const notAfter = ttl < SHORT_MS ? nowMs + ttl : notBefore + ttl;
  return { notBefore: new Date(notBefore), notAfter: new Date(Math.min(notAfter, caNotAfterMs)) };
}

const KEY_USAGE_BITS: Record<string, keyof typeof import('@peculiar/x509').KeyUsageFlags> = {
  signing: 'digitalSignature',
  'digital signature': 'digitalSignature',
  'content commitment': 'nonRepudiation',
  'key encipherment': 'keyEncipherment',
  'key agreement': 'keyAgreement',
  'data encipherment': 'dataEncipherment',
  'cert sign': 'keyCertSign',
  'crl sign': 'cRLSign',
  'encipher only': 'encipherOnly',
  'decipher only': 'decipherOnly',
};

/** Extended key usages in Go's x509.ExtKeyUsage order (upstream sorts them so). */
const EXT_KEY_USAGES: [usage: string[], oid: string][] = [
  [['any'], '2.5.29.37.0'],
  [['server auth'], '1.3.6.1.5.5.7.3.1'],
  [['client auth'], '1.3.6.1.5.5.7.3.2'],
  [['code signing'], '1.3.6.1.5.5.7.3.3'],
  [['email protection', 's/mime'], '1.3.6.1.5.5.7.3.4'],
  [['ipsec end system'], '1.3.6.1.5.5.7.3.5'],
  [['ipsec tunnel'], '1.3.6.1.5.5.7.3.6'],
  [['ipsec user'], '1.3.6.1.5.5.7.3.7'],
  [['timestamping'], '1.3.6.1.5.5.7.3.8'],
  [['ocsp signing'], '1.3.6.1.5.5.7.3.9'],
  [['microsoft sgc'], '1.3.6.1.4.1.311.10.3.3'],
  [['netscape sgc'], '2.16.840.1.113730.4.1'],
];

/** Issues the certificate for an accepted request; PEM. */
export async function signRequest(csr: CSR, usages: string[], expirationSeconds: unknown, ca: SigningCA, nowMs = Date.now(), maxTTLSeconds = DEFAULT_MAX_TTL_SECONDS): Promise<string> {
  const x = x509Lib();
  const caCert = new x.X509Certificate(ca.certPem);
  const alg = caCert.publicKey.algorithm as webcrypto.EcKeyImportParams;
  const signingKey = await crypto.subtle.importKey('pkcs8', x.PemConverter.decodeFirst(ca.keyPem), alg, false, ['sign']);
  let bits = 0;
  for (const u of usages) if (KEY_USAGE_BITS[u]) bits |= x.KeyUsageFlags[KEY_USAGE_BITS[u]!];
  const ekus = EXT_KEY_USAGES.filter(([names]) => names.some((n) => usages.includes(n))).map(([, oid]) => oid);
  const extensions: InstanceType<X509Module['Extension']>[] = [new x.BasicConstraintsExtension(false, undefined, true)];
  if (bits) extensions.push(new x.KeyUsagesExtension(bits, true));
  if (ekus.length) extensions.push(new x.ExtendedKeyUsageExtension(ekus));
  extensions.push(await x.AuthorityKeyIdentifierExtension.create(caCert.publicKey));
  // Only DNS names, IPs, emails and URIs, rebuilt (as upstream's template): no other name type, no critical flag of the requester's.
  const info = requestInfo(csr);
  const names = [...info.dns.map((value) => ({ type: 'dns' as const, value })), ...info.ips.map((value) => ({ type: 'ip' as const, value })), ...info.emails.map((value) => ({ type: 'email' as const, value })), ...info.uris.map((value) => ({ type: 'url' as const, value }))];
  if (names.length) extensions.push(new x.SubjectAlternativeNameExtension(names));
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const { notBefore, notAfter } = validity(nowMs, certificateTTLSeconds(expirationSeconds, maxTTLSeconds), caCert.notAfter.getTime());
  const cert = await x.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: csr.subjectName,
    issuer: caCert.subjectName,
    notBefore,
    notAfter,
    publicKey: csr.publicKey,
    signingKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions,
  });
  return cert.toString('pem') + '\n';
}
