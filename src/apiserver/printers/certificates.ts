/** certificates.k8s.io/v1 CertificateSigningRequests, with upstream's columns (printCertificateSigningRequest). */
import type { Printer } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, col, str } from './common.js';
import { formatAge, humanDuration } from './duration.js';

/** Denied beats Approved beats Pending; then Failed and Issued, as upstream's extractCSRStatus. */
export function csrCondition(csr: any): string {
  const types = new Set((Array.isArray(csr?.status?.conditions) ? csr.status.conditions : []).map((c: any) => c?.type));
  let s = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) s += ',Failed';
  if (csr?.status?.certificate) s += ',Issued';
  return s;
}

export const certificateSigningRequestPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    AGE_COLUMN,
    col('SignerName', 'string', 'signerName indicates the requested signer, and is a qualified name.'),
    col('Requestor', 'string', 'request contains an x509 certificate signing request encoded in a "CERTIFICATE REQUEST" PEM block.'),
    col('RequestedDuration', 'string', 'expirationSeconds is the requested duration of validity of the issued certificate.'),
    col('Condition', 'string', 'conditions applied to the request. Known conditions are "Approved", "Denied", and "Failed".'),
  ],
  cells(c: any, now: Date): unknown[] {
    const secs = c?.spec?.expirationSeconds;
    return [
      str(c?.metadata?.name),
      formatAge(c?.metadata?.creationTimestamp, now),
      str(c?.spec?.signerName) || '<none>',
      str(c?.spec?.username),
      typeof secs === 'number' ? humanDuration(secs * 1000) : '<none>',
      csrCondition(c),
    ];
  },
};
