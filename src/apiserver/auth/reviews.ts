import type { ReviewHandler } from '../handler.js';
import { authorize } from './chain.js';
import type { Attributes, Authorizer, UserInfo } from './types.js';
import { badRequest } from '../status.js';
import { authenticateToken, type TokenAuthenticator } from './tokens/bearer.js';

/** authentication.k8s.io SelfSubjectReview: `kubectl auth whoami`. */
export const selfSubjectReview: ReviewHandler = (_body, { user }) => ({
  metadata: { creationTimestamp: null },
  status: { userInfo: { username: user.name, uid: user.uid, groups: user.groups, extra: user.extra } },
});

function attributesFromSpec(spec: any, user: UserInfo, path = ''): Attributes {
  const ra = spec?.resourceAttributes;
  const na = spec?.nonResourceAttributes;
  if (ra) {
    return {
      user,
      verb: ra.verb ?? '',
      resourceRequest: true,
      path,
      namespace: ra.namespace || undefined,
      apiGroup: ra.group ?? '',
      apiVersion: ra.version,
      resource: ra.resource ?? '',
      subresource: ra.subresource || undefined,
      name: ra.name || undefined,
    };
  }
  if (na) return { user, verb: na.verb ?? '', resourceRequest: false, path: na.path ?? '' };
  throw badRequest('exactly one of nonResourceAttributes or resourceAttributes must be specified');
}

async function decide(authorizers: Authorizer[], attrs: Attributes) {
  const d = await authorize(authorizers, attrs);
  const status: any = { allowed: d.decision === 'allow' };
  if (d.decision === 'deny') status.denied = true;
  if (d.reason) status.reason = d.reason;
  return status;
}

/** authorization.k8s.io SelfSubjectAccessReview (`kubectl auth can-i`) and SubjectAccessReview. */
export function accessReviews(authorizers: Authorizer[]): Map<string, ReviewHandler> {
  return new Map<string, ReviewHandler>([
    ['authentication.k8s.io/selfsubjectreviews', selfSubjectReview],
    [
      'authorization.k8s.io/selfsubjectaccessreviews',
      async (body, { user }) => ({ metadata: { creationTimestamp: null }, spec: body.spec, status: await decide(authorizers, attributesFromSpec(body.spec, user)) }),
    ],
    [
      'authorization.k8s.io/subjectaccessreviews',
      async (body) => {
        const s = body.spec ?? {};
        if (!s.user && !(s.groups?.length)) throw badRequest('at least one of user or group must be specified');
        const subject: UserInfo = { name: s.user ?? '', uid: s.uid, groups: s.groups ?? [], extra: s.extra };
        return { metadata: { creationTimestamp: null }, spec: body.spec, status: await decide(authorizers, attributesFromSpec(s, subject)) };
      },
    ],
    [
      'authorization.k8s.io/localsubjectaccessreviews',
      async (body, { namespace }) => {
        const s = body.spec ?? {};
        if (s.resourceAttributes && s.resourceAttributes.namespace !== namespace) {
          throw badRequest(`spec.resourceAttributes.namespace must match namespace: ${namespace}`);
        }
        const subject: UserInfo = { name: s.user ?? '', uid: s.uid, groups: s.groups ?? [], extra: s.extra };
        return { metadata: { namespace, creationTimestamp: null }, spec: body.spec, status: await decide(authorizers, attributesFromSpec(s, subject)) };
      },
    ],
  ]);
}

/**
 * authentication.k8s.io TokenReview: runs the bearer-token authenticators on spec.token, as upstream
 * (status.error carries why a token was refused; audiences default to the API's).
 */
export function tokenReview(auths: readonly TokenAuthenticator[]): ReviewHandler {
  return async (body) => {
    const token = body?.spec?.token;
    if (typeof token !== 'string' || !token) throw badRequest('spec.token: Required value: token must be provided');
    const audiences: string[] | undefined = Array.isArray(body.spec.audiences) && body.spec.audiences.length ? body.spec.audiences : undefined;
    const { result, errors } = await authenticateToken(auths, token, audiences);
    const status: any = { user: {} };
    if (result) {
      status.authenticated = true;
      const u = result.user;
      const groups = u.groups.includes('system:authenticated') ? u.groups : [...u.groups, 'system:authenticated'];
      status.user = { username: u.name, uid: u.uid, groups, extra: u.extra };
      if (result.audiences) status.audiences = result.audiences;
    } else {
      status.error = `[${errors.join(', ')}]`;
    }
    return { metadata: { creationTimestamp: null }, spec: body.spec, status };
  };
}
