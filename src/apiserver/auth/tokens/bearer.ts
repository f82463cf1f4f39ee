import type { IncomingMessage } from 'node:http';
import { StatusError } from '../../status.js';
import type { Authenticator, UserInfo } from '../types.js';

/** A token was recognised as this authenticator's but is not valid (expired, wrong audience, …). */
export class InvalidTokenError extends Error {}

export interface TokenResult {
  user: UserInfo;
  /** Audiences the token is valid for (TokenReview status.audiences). */
  audiences?: string[];
}

/**
 * One kind of bearer token. Returns undefined when the token is not of this kind; throws
 * InvalidTokenError when it is but fails a check.
 */
export interface TokenAuthenticator {
  readonly name: string;
  authenticateToken(token: string, audiences?: string[]): Promise<TokenResult | undefined> | TokenResult | undefined;
}

/** Runs token authenticators in order; the reasons when none accepts (TokenReview shows them). */
export async function authenticateToken(auths: readonly TokenAuthenticator[], token: string, audiences?: string[]): Promise<{ result?: TokenResult; errors: string[] }> {
  const errors: string[] = [];
  for (const a of auths) {
    try {
      const r = await a.authenticateToken(token, audiences);
      if (r) return { result: r, errors };
    } catch (e) {
      errors.push(e instanceof InvalidTokenError ? e.message : String((e as Error)?.message ?? e));
    }
  }
  if (!errors.length) errors.push('invalid bearer token');
  return { errors };
}

const unauthorized = () => new StatusError(401, 'Unauthorized', 'Unauthorized');

/**
 * `Authorization: Bearer …`, as upstream's bearertoken request authenticator: no such header means
 * "not mine"; a bearer token nobody accepts is a 401 (anonymous does not apply).
 */
export function bearerTokenAuthenticator(auths: readonly TokenAuthenticator[]): Authenticator {
  return {
    name: 'bearer-token',
    async authenticate(req: IncomingMessage) {
      const h = req.headers.authorization;
      if (!h) return undefined;
      const sp = h.indexOf(' ');
      if (sp < 0 || h.slice(0, sp).toLowerCase() !== 'bearer') return undefined;
      const token = h.slice(sp + 1).trim();
      if (!token) throw unauthorized();
      const { result } = await authenticateToken(auths, token);
      if (!result) throw unauthorized();
      return result.user;
    },
  };
}
