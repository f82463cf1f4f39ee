import type { IncomingMessage } from 'node:http';

/** Who made a request (upstream's user.Info). */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/**
 * One way of proving identity (client certificate, bearer token, …). Returns undefined when the
 * request carries no credentials of this kind; throws a 401 StatusError when they are present but
 * invalid, so the chain stops.
 */
export interface Authenticator {
  readonly name: string;
  authenticate(req: IncomingMessage): Promise<UserInfo | undefined> | UserInfo | undefined;
}

/** What is being asked, in upstream's authorizer.Attributes terms. */
export interface Attributes {
  user: UserInfo;
  /** get, list, watch, create, update, patch, delete, deletecollection; or the HTTP verb lower-cased for non-resource paths. */
  verb: string;
  resourceRequest: boolean;
  path: string;
  namespace?: string;
  apiGroup?: string;
  apiVersion?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

export type Decision = { decision: 'allow' | 'deny' | 'noopinion'; reason?: string };

export interface Authorizer {
  readonly name: string;
  authorize(attrs: Attributes): Promise<Decision> | Decision;
}
