/**
 * Upstream's certificates admission plugins (plugin/pkg/admission/certificates), on by default:
 * CertificateApproval (approving or denying through /approval needs `approve` on the request's
 * signer), CertificateSigning (changing status.certificate or conditions through /status needs
 * `sign`), and CertificateSubjectRestriction (no kube-apiserver-client certificates for
 * system:masters). Signers are authorized as resource `signers` of certificates.k8s.io, by name
 * or by the `domain/*` wildcard.
 */
import { isDeepStrictEqual } from 'node:util';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';
import type { Attributes, Decision, UserInfo } from '../auth/types.js';
import { StatusError } from '../status.js';
import { KUBE_APISERVER_CLIENT, bytesOf, parseCSR } from '../validation/certificates.js';

const GROUP = 'certificates.k8s.io';
const CSR_KEY = `${GROUP}/certificatesigningrequests`;

type AuthorizeFn = (a: Attributes) => Promise<Decision> | Decision;

function forbidden(req: AdmissionRequest, message: string): StatusError {
  const name = req.object?.metadata?.name ?? '';
  return new StatusError(403, 'Forbidden', `certificatesigningrequests.${GROUP} "${name}" is forbidden: ${message}`, { name, group: GROUP, kind: 'certificatesigningrequests' });
}

/** IsAuthorizedForSignerName: the exact signer name, else `domain/*`. */
async function mayUseSigner(authorize: AuthorizeFn, user: UserInfo, verb: string, signerName: string): Promise<boolean> {
  const attrs = (name: string): Attributes => ({ user, verb, resourceRequest: true, path: '', apiGroup: GROUP, apiVersion: '*', resource: 'signers', name });
  if ((await authorize(attrs(signerName))).decision === 'allow') return true;
  const domain = signerName.split('/')[0] ?? '';
  return (await authorize(attrs(`${domain}/*`))).decision === 'allow';
}

export function certificateApprovalPlugin(authorize: AuthorizeFn): AdmissionPlugin {
  return {
    name: 'CertificateApproval',
    handles: (req) => req.info.key === CSR_KEY && req.subresource === 'approval' && !!req.user,
    async validate(req) {
      // Checked against the new object, as upstream.
      const signer = String(req.object?.spec?.signerName ?? '');
      if (!(await mayUseSigner(authorize, req.user!, 'approve', signer))) throw forbidden(req, `user not permitted to approve requests with signerName ${JSON.stringify(signer)}`);
    },
  };
}

export function certificateSigningPlugin(authorize: AuthorizeFn): AdmissionPlugin {
  return {
    name: 'CertificateSigning',
    handles: (req) => req.info.key === CSR_KEY && req.subresource === 'status' && !!req.user,
    async validate(req) {
      const old = req.oldObject;
      if (old && bytesOf(old.status?.certificate).equals(bytesOf(req.object?.status?.certificate)) && isDeepStrictEqual(old.status?.conditions ?? [], req.object?.status?.conditions ?? [])) return;
      const signer = String(old?.spec?.signerName ?? req.object?.spec?.signerName ?? '');
      if (!(await mayUseSigner(authorize, req.user!, 'sign', signer))) throw forbidden(req, `user not permitted to sign requests with signerName ${JSON.stringify(signer)}`);
    },
  };
}

export const certificateSubjectRestrictionPlugin: AdmissionPlugin = {
  name: 'CertificateSubjectRestriction',
  handles: (req) => req.info.key === CSR_KEY && req.operation === 'CREATE' && !req.subresource,
  validate(req) {
    if (req.object?.spec?.signerName !== KUBE_APISERVER_CLIENT) return;
    let orgs: string[];
    try {
      orgs = parseCSR(bytesOf(req.object.spec.request)).subjectName.getField('O');
    } catch {
      // Validation reports a request that does not parse (upstream validates before this plugin runs).
      return;
    }
    if (orgs.includes('system:masters')) throw forbidden(req, `use of ${KUBE_APISERVER_CLIENT} signer with system:masters group is not allowed`);
  },
};

/** The three plugins in upstream's order. */
export function certificateAdmissionPlugins(authorize: AuthorizeFn): AdmissionPlugin[] {
  return [certificateApprovalPlugin(authorize), certificateSigningPlugin(authorize), certificateSubjectRestrictionPlugin];
}
