/**
 * certificates.k8s.io/v1 CertificateSigningRequest validation, as upstream's
 * pkg/apis/certificates/validation: the request must be a PEM CERTIFICATE REQUEST whose signature
 * checks, the signer name well-formed, usages known and unique, conditions consistent; updates may
 * not remove Approved/Denied/Failed conditions, and only /approval may add or change Approved/Denied,
 * only /status may set the certificate (once).
 */
import { createPublicKey, verify as verifySignature, X509Certificate } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { FieldError } from './types.js';
import { GoLiteral, duplicate, forbidden, invalid, notSupported, required, tooLong } from './errors.js';
import { isDNS1123Label, isDNS1123Subdomain } from './names.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.js';

export const LEGACY_UNKNOWN_SIGNER = 'kubernetes.io/legacy-unknown';
export const KUBE_APISERVER_CLIENT = 'kubernetes.io/kube-apiserver-client';

const VALID_USAGES = [
  'any', 'cert sign', 'client auth', 'code signing', 'content commitment', 'crl sign', 'data encipherment', 'decipher only',
  'digital signature', 'email protection', 'encipher only', 'ipsec end system', 'ipsec tunnel', 'ipsec user', 'key agreement',
  'key encipherment', 'microsoft sgc', 'netscape sgc', 'ocsp signing', 's/mime', 'server auth', 'signing', 'timestamping',
];
const VALID_USAGE_SET = new Set(VALID_USAGES);
const TRUE_ONLY = new Set(['Approved', 'Denied', 'Failed']);

import { x509Lib as lib, type X509Module } from '../../pki/x509.js';

/** The decoded bytes of a []byte field (base64 in JSON). */
export function bytesOf(v: unknown): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'base64') : Buffer.alloc(0);
}

/** The first PEM block of `text`: its type and DER bytes, as Go's pem.Decode. */
function pemDecode(text: string): { type: string; headers: boolean; der: Buffer; rest: string } | undefined {
  const m = /-----BEGIN ([^\n-]*)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) return undefined;
  const body = m[2]!;
  const headers = /^[^\n]*:/.test(body);
  return { type: m[1]!, headers, der: Buffer.from(body.replace(/\s+/g, ''), 'base64'), rest: text.slice(m.index + m[0].length) };
}

/** Hash of a signature algorithm OID (null: the algorithm hashes itself, Ed25519). */
const SIG_HASH: Record<string, string | null> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
};

export type ParsedCSR = InstanceType<X509Module['Pkcs10CertificateRequest']>;

/** Parses a PEM CSR (certificates.ParseCSR) and checks its self-signature; throws with Go's texts. */
export function parseCSR(pemBytes: Buffer): ParsedCSR {
  const block = pemDecode(pemBytes.toString('latin1'));
  if (!block || block.type !== 'CERTIFICATE REQUEST') throw new Error('PEM block type must be CERTIFICATE REQUEST');
  let csr: ParsedCSR;
  try {
    csr = new (lib().Pkcs10CertificateRequest)(block.der);
  } catch {
    throw new Error('asn1: structure error: tags don\'t match');
  }
  const oid = (csr as any).asn.signatureAlgorithm.algorithm as string;
  if (!(oid in SIG_HASH)) throw new Error('x509: cannot verify signature: algorithm unimplemented');
  let ok = false;
  try {
    const key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
    ok = verifySignature(SIG_HASH[oid] ?? null, Buffer.from((csr as any).tbs as ArrayBuffer), key, Buffer.from(csr.signature));
  } catch {
    ok = false;
  }
  if (!ok) throw new Error(key(csr) === 'rsa' ? 'crypto/rsa: verification error' : 'x509: ECDSA verification failure');
  return csr;
}

function key(csr: ParsedCSR): string {
  return (csr.publicKey.algorithm as { name?: string }).name?.startsWith('RSA') ? 'rsa' : 'ec';
}

/** Go's `%#v` of a []byte, as field errors print the request. */
function goBytes(b: Buffer): GoLiteral {
  return new GoLiteral(`[]byte{${[...b].map((x) => '0x' + x.toString(16)).join(', ')}}`);
}

function certificateError(pem: Buffer): string | undefined {
  if (pem.length === 0) return undefined;
  let text = pem.toString('latin1');
  let blocks = 0;
  for (;;) {
    const block = pemDecode(text);
    if (!block) break;
    if (block.type !== 'CERTIFICATE') return `only CERTIFICATE PEM blocks are allowed, found ${JSON.stringify(block.type)}`;
    if (block.headers) return 'no PEM block headers are permitted';
    blocks++;
    try {
      new X509Certificate(block.der);
    } catch {
      return 'x509: malformed certificate';
    }
    text = block.rest;
  }
  return blocks === 0 ? 'must contain at least one CERTIFICATE PEM block' : undefined;
}

/** core validation's ValidateSignerName. */
export function validateSignerName(field: string, name: unknown): FieldError[] {
  const s = typeof name === 'string' ? name : '';
  if (!s) return [required(field)];
  const segments = s.split('/');
  if (segments.length !== 2) return [invalid(field, s, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  const [domain, path] = segments as [string, string];
  const errs: FieldError[] = [];
  if (domain.length > 253) errs.push(tooLong(field, 253));
  const labels = domain.split('.');
  for (const l of labels) {
    const e = isDNS1123Label(l);
    if (e.length) {
      for (const m of e) errs.push(invalid(field, domain, `validating label ${JSON.stringify(l)}: ${m}`));
      break;
    }
  }
  if (labels.length < 2) errs.push(invalid(field, domain, 'should be a domain with at least two segments separated by dots'));
  for (const l of path.split('.')) {
    const e = isDNS1123Subdomain(l);
    if (e.length) {
      for (const m of e) errs.push(invalid(field, path, `validating label ${JSON.stringify(l)}: ${m}`));
      break;
    }
  }
  if (s.length > 253 + 253 + 63 + 2) errs.push(tooLong(field, 571));
  return errs;
}

interface Options {
  allowSettingApprovalConditions: boolean;
  allowSettingCertificate: boolean;
  /** Tolerated when the stored object already has the problem (upstream's compatibility options). */
  allowBothApprovedAndDenied: boolean;
  allowLegacySignerName: boolean;
  allowDuplicateConditionTypes: boolean;
  allowEmptyConditionType: boolean;
  allowArbitraryCertificate: boolean;
  allowUnknownUsages: boolean;
  allowDuplicateUsages: boolean;
}

const conditionsOf = (csr: any): any[] => (Array.isArray(csr?.status?.conditions) ? csr.status.conditions : []);
const usagesOf = (csr: any): any[] => (Array.isArray(csr?.spec?.usages) ? csr.spec.usages : []);

function optionsFor(csr: any, old: any): Options {
  const types = (o: any) => conditionsOf(o).map((c) => c?.type);
  const oldCert = bytesOf(old?.status?.certificate);
  return {
    allowSettingApprovalConditions: false,
    allowSettingCertificate: false,
    allowBothApprovedAndDenied: !!old && types(old).includes('Approved') && types(old).includes('Denied'),
    allowLegacySignerName: !!old && old.spec?.signerName === LEGACY_UNKNOWN_SIGNER,
    allowDuplicateConditionTypes: !!old && new Set(types(old)).size !== types(old).length,
    allowEmptyConditionType: !!old && types(old).some((t) => !t),
    allowArbitraryCertificate: !!old && (bytesOf(csr?.status?.certificate).equals(oldCert) || certificateError(oldCert) !== undefined),
    allowUnknownUsages: !!old && usagesOf(old).some((u) => !VALID_USAGE_SET.has(u)),
    allowDuplicateUsages: !!old && new Set(usagesOf(old)).size !== usagesOf(old).length,
  };
}

function validateCSR(csr: any, opts: Options): FieldError[] {
  // Any name will do (ValidateCertificateRequestName).
  const errs = validateObjectMeta(csr?.metadata, false, () => []);
  const spec = csr?.spec ?? {};
  const request = bytesOf(spec.request);
  try {
    parseCSR(request);
  } catch (e) {
    errs.push(invalid('spec.request', goBytes(request), (e as Error).message));
  }
  const usages = usagesOf(csr);
  if (usages.length === 0) errs.push(required('spec.usages'));
  if (!opts.allowUnknownUsages) usages.forEach((u, i) => VALID_USAGE_SET.has(u) || errs.push(notSupported(`spec.usages[${i}]`, u, VALID_USAGES)));
  if (!opts.allowDuplicateUsages) {
    const seen = new Set<unknown>();
    usages.forEach((u, i) => {
      if (seen.has(u)) errs.push(duplicate(`spec.usages[${i}]`, u));
      seen.add(u);
    });
  }
  if (!opts.allowLegacySignerName && spec.signerName === LEGACY_UNKNOWN_SIGNER) errs.push(invalid('spec.signerName', spec.signerName, 'the legacy signerName is not allowed via this API version'));
  else errs.push(...validateSignerName('spec.signerName', spec.signerName));
  if (typeof spec.expirationSeconds === 'number' && spec.expirationSeconds < 600) {
    errs.push(invalid('spec.expirationSeconds', spec.expirationSeconds, 'may not specify a duration less than 600 seconds (10 minutes)'));
  }
  errs.push(...validateConditions(csr, opts));
  if (!opts.allowArbitraryCertificate) {
    const e = certificateError(bytesOf(csr?.status?.certificate));
    if (e) errs.push(invalid('status.certificate', '<certificate data>', e));
  }
  return errs;
}

function validateConditions(csr: any, opts: Options): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  conditionsOf(csr).forEach((c, i) => {
    const at = `status.conditions[${i}]`;
    const type = typeof c?.type === 'string' ? c.type : '';
    const status = typeof c?.status === 'string' ? c.status : '';
    if (!opts.allowEmptyConditionType && !type) errs.push(required(`${at}.type`));
    const allowed = TRUE_ONLY.has(type) ? ['True'] : ['False', 'True', 'Unknown'];
    if (!status) errs.push(required(`${at}.status`));
    else if (!allowed.includes(status)) errs.push(notSupported(`${at}.status`, status, allowed));
    if (!opts.allowBothApprovedAndDenied) {
      if (type === 'Approved') {
        approved = true;
        if (denied) errs.push(invalid(`${at}.type`, type, 'Approved and Denied conditions are mutually exclusive'));
      } else if (type === 'Denied') {
        denied = true;
        if (approved) errs.push(invalid(`${at}.type`, type, 'Approved and Denied conditions are mutually exclusive'));
      }
    }
    if (!opts.allowDuplicateConditionTypes) {
      if (seen.has(type)) errs.push(duplicate(`${at}.type`, type));
      seen.add(type);
    }
  });
  return errs;
}

export function validateCertificateSigningRequest(csr: any): FieldError[] {
  return validateCSR(csr, optionsFor(csr, undefined));
}

function validateUpdate(csr: any, old: any, opts: Options): FieldError[] {
  const errs = validateCSR(csr, opts);
  const find = (o: any, t: string) => conditionsOf(o).filter((c) => c?.type === t);
  for (const t of ['Approved', 'Denied', 'Failed']) {
    if (find(csr, t).length < find(old, t).length) errs.push(forbidden('status.conditions', `updates may not remove a condition of type ${JSON.stringify(t)}`));
  }
  if (!opts.allowSettingApprovalConditions) {
    for (const t of ['Approved', 'Denied']) {
      const was = find(old, t);
      const now = find(csr, t);
      if (now.length > was.length) errs.push(forbidden('status.conditions', `updates may not add a condition of type ${JSON.stringify(t)}`));
      else if (now.length === was.length && !isDeepStrictEqual(now, was)) errs.push(forbidden('status.conditions', `updates may not modify a condition of type ${JSON.stringify(t)}`));
    }
  }
  const cert = bytesOf(csr?.status?.certificate);
  const oldCert = bytesOf(old?.status?.certificate);
  if (!cert.equals(oldCert)) {
    if (!opts.allowSettingCertificate) errs.push(forbidden('status.certificate', 'updates may not set certificate content'));
    else if (oldCert.length > 0) errs.push(forbidden('status.certificate', 'updates may not modify existing certificate content'));
  }
  return errs.concat(validateObjectMetaUpdate(csr?.metadata, old?.metadata));
}

export function validateCertificateSigningRequestUpdate(csr: any, old: any): FieldError[] {
  return validateUpdate(csr, old, optionsFor(csr, old));
}

export function validateCertificateSigningRequestStatusUpdate(csr: any, old: any): FieldError[] {
  return validateUpdate(csr, old, { ...optionsFor(csr, old), allowSettingCertificate: true });
}

export function validateCertificateSigningRequestApprovalUpdate(csr: any, old: any): FieldError[] {
  return validateUpdate(csr, old, { ...optionsFor(csr, old), allowSettingApprovalConditions: true });
}
