import type { IncomingMessage } from 'node:http';
import type { Attributes, Authenticator, Authorizer, Decision, UserInfo } from './types.js';

export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

/** First authenticator that recognises the request wins; none → anonymous, as upstream with anonymous auth on. */
export async function authenticate(authenticators: Authenticator[], req: IncomingMessage): Promise<UserInfo> {
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
