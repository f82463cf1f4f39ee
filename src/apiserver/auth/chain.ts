import type { IncomingMessage } from 'node:http';
import type { Attributes, Authenticator, Authorizer, Decision, UserInfo } from './types.js';
import { StatusError } from '../status.js';
import { serviceAccountGroups, splitServiceAccountUsername } from './rbac/rules.js';

export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

/** A request's identity, once per request: audit names the user before the handler asks again. */
const identities = new WeakMap<IncomingMessage, { chain: Authenticator[]; user: Promise<UserInfo> }>();

/** First authenticator that recognises the request wins; none → anonymous, as upstream with anonymous auth on. */
export function authenticate(authenticators: Authenticator[], req: IncomingMessage): Promise<UserInfo> {
  const known = identities.get(req);
  // A webhook or token lookup asked twice would cost twice (and could answer differently).
  if (known && known.chain === authenticators) return known.user;
  const user = authenticateOnce(authenticators, req);
  identities.set(req, { chain: authenticators, user });
  return user;
}

async function authenticateOnce(authenticators: Authenticator[], req: IncomingMessage): Promise<UserInfo> {
  for (const a of authenticators) {
    const u = await a.authenticate(req);
    if (u) {
      const groups = u.groups.includes('system:authenticated') ? u.groups : [...u.groups, 'system:authenticated'];
      return { ...u, groups };
    }
  }
  return ANONYMOUS;
}

/** Authorizers in order; the first allow or deny decides, as upstream's union authorizer. */
export async function authorize(authorizers: Authorizer[], attrs: Attributes): Promise<Decision> {
  const reasons: string[] = [];
  for (const a of authorizers) {
    const d = await a.authorize(attrs);
    if (d.decision !== 'noopinion') return d;
    if (d.reason) reasons.push(d.reason);
  }
  return { decision: 'noopinion', reason: reasons.join(', ') };
}

/** Upstream's Forbidden message for a decision that did not allow. */
export function forbiddenMessage(a: Attributes, reason?: string): string {
  const who = `User "${a.user.name}"`;
  let msg: string;
  if (!a.resourceRequest) {
    msg = `forbidden: ${who} cannot ${a.verb} path "${a.path}"`;
  } else {
    const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : `${a.resource}`;
    const subject = a.name ? `${qualified} "${a.name}"` : qualified;
    const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
    msg = `${subject} is forbidden: ${who} cannot ${a.verb} resource "${res}" in API group "${a.apiGroup ?? ''}" ${scope}`;
  }
  return reason ? `${msg}: ${reason}` : msg;
}

/** One thing a request asks to act as, with the resource an `impersonate` permission must name. */
interface ImpersonationRequest {
  resource: 'users' | 'serviceaccounts' | 'groups' | 'uids' | 'userextras';
  apiGroup: '' | 'authentication.k8s.io';
  name: string;
  namespace?: string;
  subresource?: string;
}

const IMPERSONATE_HEADER = /^impersonate-/i;

/**
 * User impersonation (`kubectl --as`, `--as-group`, `--as-uid`; the Impersonate-* headers), as
 * upstream's WithImpersonation filter: the authenticated requester must be allowed to `impersonate`
 * each user (or service account), group, uid and extra value it names; the request then runs as
 * the impersonated user. Without those headers the requester is returned unchanged.
 */
export async function impersonate(authorizers: Authorizer[], req: IncomingMessage, requester: UserInfo): Promise<UserInfo> {
  // Every request passes here: look at the raw header names before building anything.
  let any = false;
  for (let i = 0; i < req.rawHeaders.length && !any; i += 2) any = IMPERSONATE_HEADER.test(req.rawHeaders[i]);
  if (!any) return requester;
  // headersDistinct keeps repeated headers apart (`headers` would join them with commas).
  const headers = req.headersDistinct;
  const userName = headers['impersonate-user']?.[0] ?? '';
  const groups = headers['impersonate-group'] ?? [];
  const uid = headers['impersonate-uid']?.[0] ?? '';
  const extras: [string, string[]][] = [];
  for (const [h, v] of Object.entries(headers)) {
    if (!h.startsWith('impersonate-extra-') || v === undefined) continue;
    let key = h.slice('impersonate-extra-'.length);
    try {
      key = decodeURIComponent(key).toLowerCase();
    } catch {
      /* not percent-encoded: the key as sent */
    }
    extras.push([key, v]);
  }
  if (!userName) {
    const what = [...groups.map((g) => `group ${g}`), ...(uid ? [`uid ${uid}`] : []), ...extras.map(([k]) => `extra ${k}`)].join(', ');
    throw new StatusError(500, 'InternalError', `Internal error occurred: requested ${what} without impersonating a user`);
  }
  const sa = splitServiceAccountUsername(userName);
  const asked: ImpersonationRequest[] = [sa ? { resource: 'serviceaccounts', apiGroup: '', name: sa.name, namespace: sa.namespace } : { resource: 'users', apiGroup: '', name: userName }];
  for (const g of groups) asked.push({ resource: 'groups', apiGroup: '', name: g });
  if (uid) asked.push({ resource: 'uids', apiGroup: 'authentication.k8s.io', name: uid });
  for (const [key, values] of extras) for (const v of values) asked.push({ resource: 'userextras', apiGroup: 'authentication.k8s.io', name: v, subresource: key });
  for (const a of asked) {
    const attrs: Attributes = { user: requester, verb: 'impersonate', resourceRequest: true, path: '', apiGroup: a.apiGroup, resource: a.resource, subresource: a.subresource, name: a.name, namespace: a.namespace };
    const d = await authorize(authorizers, attrs);
    if (d.decision !== 'allow') throw new StatusError(403, 'Forbidden', forbiddenMessage(attrs, d.reason), { name: a.name, group: a.apiGroup, kind: a.resource });
  }
  // The groups asked for (else a service account's own), and then, as upstream, system:authenticated
  // for a user (system:unauthenticated for anonymous) unless either is among them: `--as=jane
  // --as-group=dev` is in [dev system:authenticated], so system:basic-user's reviews stay allowed.
  const effectiveGroups = groups.length ? [...groups] : sa ? serviceAccountGroups(sa.namespace) : [];
  if (userName !== ANONYMOUS.name) {
    if (!effectiveGroups.includes('system:authenticated') && !effectiveGroups.includes('system:unauthenticated')) effectiveGroups.push('system:authenticated');
  } else if (!effectiveGroups.includes('system:unauthenticated')) effectiveGroups.push('system:unauthenticated');
  const user: UserInfo = { name: userName, groups: effectiveGroups };
  if (uid) user.uid = uid;
  if (extras.length) user.extra = Object.fromEntries(extras);
  return user;
}
