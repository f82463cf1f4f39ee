/**
 * The cluster's PKI: one self-signed CA, the API server's serving certificate and the admin
 * client certificate, as PEM files in one directory.
 *
 * Startup cost matters (every `skiff up` calls this), so the reuse path touches only
 * node:crypto (a few ms). @peculiar/x509 takes ~100 ms just to load its ASN.1 modules, so it
 * is imported lazily, only when something must be generated or issued.
 *
 * Keys are ECDSA P-256 in PKCS#8 PEM, which both Node's TLS and Go's (kubectl) accept.
 */
import { createPrivateKey, randomBytes, X509Certificate as NodeX509, type webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';

import { x509Lib, type X509Module } from './x509.js';
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

export interface ServerSANs {
  dns: string[];
  ips: string[];
}

export interface CertKeyPair {
  certPem: string;
  keyPem: string;
}

export interface ClusterPKI {
  dir: string;
  ca: CertKeyPair;
  apiserver: CertKeyPair;
  admin: CertKeyPair;
  /** The SANs actually in the serving certificate (defaults plus requested). */
  serverSANs: ServerSANs;
  /** What this call had to (re)create; callers rewrite kubeconfigs when `admin` or `ca` is set. */
  generated: { ca: boolean; apiserver: boolean; admin: boolean };
}

export const CA_COMMON_NAME = 'skiff-ca';
export const ADMIN_USER = 'skiff-admin';
export const ADMIN_GROUPS = ['system:masters'];

/** The names in-cluster clients and local tools use to reach the API server. */
export const DEFAULT_SERVER_SANS: Readonly<ServerSANs> = Object.freeze({
  dns: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
  ips: ['127.0.0.1', '::1', '10.96.0.1'],
});

const DAY = 24 * 3600 * 1000;
const CA_VALIDITY = 3650 * DAY;
const LEAF_VALIDITY = 365 * DAY;
/** Leaf certificates closer than this to expiry are renewed on load. */
const RENEW_BEFORE = 30 * DAY;
/** Backdating tolerates small clock differences between host and clients. */
const BACKDATE = 5 * 60 * 1000;

const EC_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;

let x509Loading: Promise<X509Module> | undefined;
function loadX509(): Promise<X509Module> {
  x509Loading ??= Promise.resolve().then(x509Lib);
  return x509Loading;
}

// ---------------------------------------------------------------------------
// SAN handling

const DNS_NAME_RE = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/**
 * Canonical text of an IP so that "::1" equals OpenSSL's "0:0:0:0:0:0:0:1"; undefined if
 * invalid. Hand-written because node:net's isIPv6 compiles a large regex on first use
 * (~4 ms), which alone would double the reuse path's cost.
 */
export function canonicalIP(ip: string): string | undefined {
  const v4 = (s: string): number[] | undefined => {
    const parts = s.split('.');
    if (parts.length !== 4) return undefined;
    const out: number[] = [];
    for (const p of parts) {
      if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return undefined;
      out.push(Number(p));
    }
    return out;
  };
  if (!ip.includes(':')) return v4(ip)?.join('.');
  const halves = ip.toLowerCase().split('::');
  if (halves.length > 2) return undefined;
  const groups: number[][] = [];
  for (let h = 0; h < halves.length; h++) {
    const half = halves[h]!;
    const g: number[] = [];
    const parts = half === '' ? [] : half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && h === halves.length - 1 && p.includes('.')) {
        const o = v4(p); // embedded IPv4 tail, e.g. ::ffff:1.2.3.4
        if (!o) return undefined;
        g.push((o[0]! << 8) | o[1]!, (o[2]! << 8) | o[3]!);
      } else if (/^[0-9a-f]{1,4}$/.test(p)) {
        g.push(parseInt(p, 16));
      } else {
        return undefined;
      }
    }
    groups.push(g);
  }
  let all: number[];
  if (groups.length === 1) {
    all = groups[0]!;
    if (all.length !== 8) return undefined;
  } else {
    const fill = 8 - groups[0]!.length - groups[1]!.length;
    if (fill < 1) return undefined;
    all = [...groups[0]!, ...Array<number>(fill).fill(0), ...groups[1]!];
  }
  return all.map((n) => n.toString(16)).join(':');
}

function mustCanonicalIP(ip: string): string {
  const c = canonicalIP(ip);
  if (c === undefined) throw new Error(`invalid IP address in SANs: ${JSON.stringify(ip)}`);
  return c;
}

function normaliseSANs(extra: ServerSANs): ServerSANs {
  for (const d of extra.dns) if (!DNS_NAME_RE.test(d)) throw new Error(`invalid DNS name in SANs: ${JSON.stringify(d)}`);
  for (const ip of extra.ips) mustCanonicalIP(ip); // validates
  const dns = [...new Set([...DEFAULT_SERVER_SANS.dns, ...extra.dns].map((d) => d.toLowerCase()))];
  const seen = new Set<string>();
  const ips: string[] = [];
  for (const ip of [...DEFAULT_SERVER_SANS.ips, ...extra.ips]) {
    const c = mustCanonicalIP(ip);
    if (!seen.has(c)) {
      seen.add(c);
      ips.push(ip);
    }
  }
  return { dns, ips };
}

function sanKey(s: ServerSANs): string {
  const dns = s.dns.map((d) => `DNS:${d.toLowerCase()}`);
  const ips = s.ips.map((ip) => `IP:${canonicalIP(ip) ?? ip}`);
  return [...new Set([...dns, ...ips])].sort().join(',');
}

/** Reads SANs from Node's rendering: "DNS:localhost, IP Address:127.0.0.1, …". */
function sansOfCert(cert: NodeX509): ServerSANs {
  const out: ServerSANs = { dns: [], ips: [] };
  for (const part of (cert.subjectAltName ?? '').split(', ')) {
    if (part.startsWith('DNS:')) out.dns.push(part.slice(4));
    else if (part.startsWith('IP Address:')) out.ips.push(part.slice(11));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Files

const FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  serverCert: 'apiserver.crt',
  serverKey: 'apiserver.key',
  adminCert: 'admin.crt',
  adminKey: 'admin.key',
} as const;

/**
 * Synchronous on purpose: six small files at startup. A cold process pays ~7 ms to spin up
 * fs/promises and the thread pool for this, against ~0.5 ms for readFileSync.
 */
function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Write-then-rename so a crash never leaves a half-written key or certificate behind. */
async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode });
  await chmod(tmp, mode); // writeFile's mode is filtered by the umask
  await rename(tmp, path);
}

async function writePair(dir: string, certFile: string, keyFile: string, pair: CertKeyPair): Promise<void> {
  // Key first: a cert without its key is treated as missing and regenerated on the next run.
  await writeAtomic(join(dir, keyFile), pair.keyPem, 0o600);
  await writeAtomic(join(dir, certFile), pair.certPem, 0o644);
}

// ---------------------------------------------------------------------------
// Checks on existing material (node:crypto only)

interface Loaded {
  pair: CertKeyPair;
  cert: NodeX509;
}

function parsePair(certPem: string | undefined, keyPem: string | undefined): Loaded | undefined {
  if (!certPem || !keyPem) return undefined;
  try {
    const cert = new NodeX509(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return undefined;
    return { pair: { certPem, keyPem }, cert };
  } catch {
    return undefined; // unreadable files are simply regenerated
  }
}

function validLeaf(leaf: Loaded | undefined, ca: Loaded): leaf is Loaded {
  if (!leaf) return false;
  if (!leaf.cert.checkIssued(ca.cert) || !leaf.cert.verify(ca.cert.publicKey)) return false;
  return Date.parse(leaf.cert.validTo) - Date.now() > RENEW_BEFORE;
}

// ---------------------------------------------------------------------------
// Generation (@peculiar/x509)

/** Positive, non-zero 128-bit serial (RFC 5280 allows up to 20 octets). */
function serial(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b.toString('hex');
}

async function exportKeyPem(x: X509Module, key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x.PemConverter.encode(der, 'PRIVATE KEY') + '\n';
}

interface CA {
  cert: InstanceType<X509Module['X509Certificate']>;
  key: CryptoKey;
}

async function createCA(x: X509Module, commonName = CA_COMMON_NAME): Promise<{ ca: CA; pair: CertKeyPair }> {
  const keys = (await crypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: [{ CN: [commonName] }],
    notBefore: new Date(now - BACKDATE),
    notAfter: new Date(now + CA_VALIDITY),
    keys,
    signingAlgorithm: SIGN_ALG,
    extensions: [
      new x.BasicConstraintsExtension(true, undefined, true),
      new x.KeyUsagesExtension(x.KeyUsageFlags.keyCertSign | x.KeyUsageFlags.cRLSign | x.KeyUsageFlags.digitalSignature, true),
      await x.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { ca: { cert, key: keys.privateKey }, pair: { certPem: cert.toString('pem') + '\n', keyPem: await exportKeyPem(x, keys.privateKey) } };
}

async function loadCA(x: X509Module, pair: CertKeyPair): Promise<CA> {
  const der = x.PemConverter.decodeFirst(pair.keyPem);
  const key = await crypto.subtle.importKey('pkcs8', der, EC_ALG, false, ['sign']);
  return { cert: new x.X509Certificate(pair.certPem), key };
}

interface LeafSpec {
  subject: Array<Record<string, string[]>>;
  usage: 'server' | 'client';
  sans?: ServerSANs;
}

async function issueLeaf(x: X509Module, ca: CA, spec: LeafSpec): Promise<CertKeyPair> {
  const keys = (await crypto.subtle.generateKey(EC_ALG, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const extensions: InstanceType<X509Module['Extension']>[] = [
    new x.BasicConstraintsExtension(false, undefined, true),
    new x.KeyUsagesExtension(x.KeyUsageFlags.digitalSignature, true),
    new x.ExtendedKeyUsageExtension([spec.usage === 'server' ? x.ExtendedKeyUsage.serverAuth : x.ExtendedKeyUsage.clientAuth]),
    await x.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
    await x.SubjectKeyIdentifierExtension.create(keys.publicKey),
  ];
  if (spec.sans) {
    extensions.push(
      new x.SubjectAlternativeNameExtension([
        ...spec.sans.dns.map((value) => ({ type: 'dns' as const, value })),
        ...spec.sans.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
    );
  }
  const cert = await x.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: spec.subject,
    issuer: ca.cert.subjectName,
    notBefore: new Date(now - BACKDATE),
    // Never outlive the CA.
    notAfter: new Date(Math.min(now + LEAF_VALIDITY, ca.cert.notAfter.getTime())),
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: SIGN_ALG,
    extensions,
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await exportKeyPem(x, keys.privateKey) };
}

/** Kubernetes reads the user from CN and each group from an O attribute. */
function clientSubject(cn: string, groups: string[]): Array<Record<string, string[]>> {
  return [...groups.map((g) => ({ O: [g] })), { CN: [cn] }];
}

// ---------------------------------------------------------------------------
// Public API

/**
 * Makes sure `dir` holds a usable CA, serving certificate and admin certificate, creating
 * what is missing, invalid or about to expire. The serving certificate is reissued when the
 * requested SANs differ from the ones it carries. Reusing existing files costs a few ms.
 */
export async function ensureClusterPKI(dir: string, opts: { serverSANs: ServerSANs }): Promise<ClusterPKI> {
  const sans = normaliseSANs(opts.serverSANs);
  const texts = Object.values(FILES).map((f) => readOptional(join(dir, f)));
  const [caCert, caKey, srvCert, srvKey, admCert, admKey] = texts;

  let caLoaded = parsePair(caCert, caKey);
  if (caLoaded && !(caLoaded.cert.ca && caLoaded.cert.verify(caLoaded.cert.publicKey))) caLoaded = undefined;
  if (caLoaded && Date.parse(caLoaded.cert.validTo) - Date.now() <= RENEW_BEFORE) caLoaded = undefined;
  let srv = parsePair(srvCert, srvKey);
  let adm = parsePair(admCert, admKey);

  const generated = { ca: !caLoaded, apiserver: false, admin: false };
  if (caLoaded) {
    if (!validLeaf(srv, caLoaded) || sanKey(sansOfCert(srv.cert)) !== sanKey(sans)) srv = undefined;
    if (!validLeaf(adm, caLoaded) || !sameSubject(adm.cert, ADMIN_USER, ADMIN_GROUPS)) adm = undefined;
  } else {
    srv = adm = undefined; // a new CA invalidates everything it would have signed
  }
  generated.apiserver = !srv;
  generated.admin = !adm;

  if (caLoaded && srv && adm) {
    return { dir, ca: caLoaded.pair, apiserver: srv.pair, admin: adm.pair, serverSANs: sans, generated };
  }

  await mkdir(dir, { recursive: true, mode: 0o700 });
  const x = await loadX509();
  let caPair: CertKeyPair;
  let ca: CA;
  if (caLoaded) {
    caPair = caLoaded.pair;
    ca = await loadCA(x, caPair);
  } else {
    const created = await createCA(x);
    caPair = created.pair;
    ca = created.ca;
    await writePair(dir, FILES.caCert, FILES.caKey, caPair);
  }
  const [srvPair, admPair] = await Promise.all([
    srv ? srv.pair : issueLeaf(x, ca, { subject: [{ CN: ['kube-apiserver'] }], usage: 'server', sans }),
    adm ? adm.pair : issueLeaf(x, ca, { subject: clientSubject(ADMIN_USER, ADMIN_GROUPS), usage: 'client' }),
  ]);
  if (!srv) await writePair(dir, FILES.serverCert, FILES.serverKey, srvPair);
  if (!adm) await writePair(dir, FILES.adminCert, FILES.adminKey, admPair);
  return { dir, ca: caPair, apiserver: srvPair, admin: admPair, serverSANs: sans, generated };
}

function sameSubject(cert: NodeX509, cn: string, groups: string[]): boolean {
  const id = identityFromSubjectText(cert.subject);
  return !!id && id.user === cn && id.groups.join('\n') === groups.join('\n');
}

/** Node renders subjects one attribute per line ("O=system:masters\nCN=skiff-admin"). */
function identityFromSubjectText(subject: string): { user: string; groups: string[] } | undefined {
  let user: string | undefined;
  const groups: string[] = [];
  for (const line of subject.split('\n')) {
    const i = line.indexOf('=');
    const k = line.slice(0, i);
    const v = line.slice(i + 1);
    if (k === 'CN') user = v;
    else if (k === 'O') groups.push(v);
  }
  return user === undefined ? undefined : { user, groups };
}

export const FRONT_PROXY_CA_COMMON_NAME = 'skiff-front-proxy-ca';
export const FRONT_PROXY_CLIENT = 'front-proxy-client';

export interface FrontProxyPKI {
  /** What aggregated API servers trust for X-Remote-User (upstream's --requestheader-client-ca-file). */
  ca: CertKeyPair;
  /** What the API server presents when it proxies to them (upstream's --proxy-client-cert-file). */
  client: CertKeyPair;
}

/**
 * The front proxy's own CA and client certificate, kept apart from the cluster CA as upstream
 * keeps them: an aggregated server believes X-Remote-User from this CA only, so no certificate the
 * cluster CA signs (a CSR a user got approved, say) can claim to be the proxy. Files are reused
 * while valid, as ensureClusterPKI does.
 */
export async function ensureFrontProxyPKI(dir: string): Promise<FrontProxyPKI> {
  let ca = parsePair(readOptional(join(dir, 'front-proxy-ca.crt')), readOptional(join(dir, 'front-proxy-ca.key')));
  if (ca && (!(ca.cert.ca && ca.cert.verify(ca.cert.publicKey)) || Date.parse(ca.cert.validTo) - Date.now() <= RENEW_BEFORE)) ca = undefined;
  const client = parsePair(readOptional(join(dir, 'front-proxy-client.crt')), readOptional(join(dir, 'front-proxy-client.key')));
  if (ca && validLeaf(client, ca) && sameSubject(client.cert, FRONT_PROXY_CLIENT, [])) return { ca: ca.pair, client: client.pair };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const x = await loadX509();
  let caPair: CertKeyPair;
  let signer: CA;
  if (ca) {
    caPair = ca.pair;
    signer = await loadCA(x, caPair);
  } else {
    const created = await createCA(x, FRONT_PROXY_CA_COMMON_NAME);
    caPair = created.pair;
    signer = created.ca;
    await writePair(dir, 'front-proxy-ca.crt', 'front-proxy-ca.key', caPair);
  }
  const clientPair = await issueLeaf(x, signer, { subject: clientSubject(FRONT_PROXY_CLIENT, []), usage: 'client' });
  await writePair(dir, 'front-proxy-client.crt', 'front-proxy-client.key', clientPair);
  return { ca: caPair, client: clientPair };
}

/**
 * Issues a client certificate signed by the cluster CA for user `cn` in `groups`
 * (e.g. "system:kube-scheduler", or "system:node:n1" with ["system:nodes"]). Not stored.
 */
export async function issueClientCert(pki: Pick<ClusterPKI, 'ca'>, cn: string, groups: string[]): Promise<CertKeyPair> {
  if (!cn) throw new Error('client certificate needs a common name');
  const x = await loadX509();
  return issueLeaf(x, await loadCA(x, pki.ca), { subject: clientSubject(cn, groups), usage: 'client' });
}

/**
 * The Kubernetes identity of a TLS client certificate: user from CN, groups from O.
 * Takes `socket.getPeerCertificate()`; returns undefined when there is no certificate or no
 * CN. It does not check trust: only call it when `socket.authorized` is true.
 */
export function parseClientIdentity(
  peer: PeerCertificate | Record<string, never> | null | undefined,
): { user: string; groups: string[] } | undefined {
  const subject = (peer as PeerCertificate | undefined)?.subject as Record<string, string | string[] | undefined> | undefined;
  if (!subject) return undefined;
  const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const cn = list(subject['CN']);
  if (cn.length === 0 || !cn[0]) return undefined;
  return { user: cn[0], groups: list(subject['O']) };
}
