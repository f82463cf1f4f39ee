import { generateKeyPairSync, randomUUID, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from '../../registry.js';
import { REGISTRY_PREFIX } from '../../watchcache.js';
import { StatusError, badRequest, notFound } from '../../status.js';
import type { CacheView } from '../rbac/index.js';
import { serviceAccountGroups, serviceAccountUsername } from '../rbac/rules.js';
import type { UserInfo } from '../types.js';
import { InvalidTokenError, type TokenAuthenticator, type TokenResult } from './bearer.js';
import { algOf, keyId, parseJws, publicJwk, signJws, verifyJws } from './jwt.js';

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const LEEWAY_S = 60;
const MIN_EXPIRATION_S = 600;
const DEFAULT_EXPIRATION_S = 3600;

/**
 * The service-account signing key (PKCS#8 PEM, ECDSA P-256 → ES256; an RSA key there gives RS256),
 * created under the data dir's pki/ on first start.
 */
export function ensureServiceAccountKey(pkiDir: string): KeyObject {
  const path = join(pkiDir, 'sa.key');
  try {
    return createPrivateKey(readFileSync(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
  renameSync(tmp, path);
  writeFileSync(join(pkiDir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }) as string, { mode: 0o644 });
  return privateKey;
}

export interface IssuerOptions {
  key: KeyObject;
  issuer?: string;
  /** Audiences API requests must carry (upstream --api-audiences; default: the issuer). */
  apiAudiences?: string[];
  /** Extra public keys accepted for verification (key rotation). */
  extraPublicKeys?: KeyObject[];
  now?: () => number;
}

interface BoundRef {
  kind: string;
  apiVersion?: string;
  name: string;
  uid?: string;
}

/**
 * Issues and verifies bound service-account tokens (JWTs) as upstream: issuer, audiences, exp/nbf, and
 * the bound service account, pod, secret or node must still exist with the same uid.
 */
export class ServiceAccountTokens {
  readonly issuer: string;
  readonly apiAudiences: string[];
  private readonly key: KeyObject;
  private readonly kid: string;
  private readonly verifyKeys: { key: KeyObject; kid: string }[];
  private readonly now: () => number;
  private cache?: CacheView;

  constructor(o: IssuerOptions) {
    this.key = o.key;
    this.issuer = o.issuer ?? DEFAULT_ISSUER;
    this.apiAudiences = o.apiAudiences?.length ? o.apiAudiences : [this.issuer];
    const pub = createPublicKey(o.key);
    this.kid = keyId(pub);
    this.verifyKeys = [{ key: pub, kid: this.kid }, ...(o.extraPublicKeys ?? []).map((k) => ({ key: k, kid: keyId(k) }))];
    this.now = o.now ?? Date.now;
  }

  attach(cache: CacheView): void {
    this.cache = cache;
  }

  get algorithm(): string {
    return algOf(this.key);
  }

  /** Signs claims for a service account (and optionally a bound object), valid for `seconds`. */
  sign(sa: { namespace: string; name: string; uid: string }, opts: { audiences: string[]; seconds: number; pod?: { name: string; uid: string }; secret?: { name: string; uid: string }; node?: { name: string; uid?: string }; notBefore?: number }): { token: string; exp: number } {
    const iat = Math.floor(this.now() / 1000);
    const exp = iat + opts.seconds;
    const k8s: any = { namespace: sa.namespace, serviceaccount: { name: sa.name, uid: sa.uid } };
    if (opts.pod) k8s.pod = opts.pod;
    if (opts.secret) k8s.secret = opts.secret;
    if (opts.node) k8s.node = opts.node;
    const claims = {
      aud: opts.audiences,
      exp,
      iat,
      iss: this.issuer,
      jti: randomUUID(),
      'kubernetes.io': k8s,
      nbf: opts.notBefore ?? iat,
      sub: serviceAccountUsername(sa.namespace, sa.name),
    };
    return { token: signJws(this.key, claims, this.kid), exp };
  }

  /** Verifies a token; undefined when it is not a JWT from this issuer (another authenticator may know it). */
  verify(token: string, audiences?: string[]): TokenResult | undefined {
    const p = parseJws(token);
    if (!p || p.claims.iss !== this.issuer) return undefined;
    if (!verifyJws(p, this.verifyKeys)) throw new InvalidTokenError('invalid bearer token, square/go-jose: error in cryptographic primitive');
    const c = p.claims;
    const now = this.now() / 1000;
    if (typeof c.exp !== 'number' || now > c.exp + LEEWAY_S) throw new InvalidTokenError('invalid bearer token, service account token has expired');
    if (typeof c.nbf === 'number' && now < c.nbf - LEEWAY_S) throw new InvalidTokenError('invalid bearer token, service account token is not valid yet');
    const tokenAud: string[] = Array.isArray(c.aud) ? c.aud : typeof c.aud === 'string' ? [c.aud] : [];
    const want = audiences?.length ? audiences : this.apiAudiences;
    const matched = want.filter((a) => tokenAud.includes(a));
    if (!matched.length) throw new InvalidTokenError(`invalid bearer token, token audiences ${JSON.stringify(tokenAud)} is invalid for the target audiences ${JSON.stringify(want)}`);
    const k = c['kubernetes.io'];
    if (!k || typeof k.namespace !== 'string' || typeof k.serviceaccount?.name !== 'string') throw new InvalidTokenError('invalid bearer token, token lacks the kubernetes.io claims');
    const ns = k.namespace;
    const extra: Record<string, string[]> = {};
    this.checkBound('serviceaccounts', ns, k.serviceaccount, 'service account');
    if (k.pod) {
      this.checkBound('pods', ns, k.pod, 'pod');
      extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
      extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
    }
    if (k.secret) this.checkBound('secrets', ns, k.secret, 'secret');
    if (k.node) {
      extra['authentication.kubernetes.io/node-name'] = [k.node.name];
      if (k.node.uid) extra['authentication.kubernetes.io/node-uid'] = [k.node.uid];
    }
    if (c.jti) extra['authentication.kubernetes.io/credential-id'] = [`JTI=${c.jti}`];
    const user: UserInfo = {
      name: serviceAccountUsername(ns, k.serviceaccount.name),
      uid: k.serviceaccount.uid,
      groups: serviceAccountGroups(ns),
      extra,
    };
    return { user, audiences: matched };
  }

  /** A bound object that is gone, replaced (other uid) or being deleted revokes the token, as upstream. */
  private checkBound(storageKey: string, ns: string, ref: { name: string; uid?: string }, what: string): void {
    if (!this.cache) throw new InvalidTokenError('invalid bearer token, token validation is not ready');
    const o = this.cache.get(`${REGISTRY_PREFIX}${storageKey}/${ns}/${ref.name}`)?.obj;
    if (!o) throw new InvalidTokenError(`invalid bearer token, ${what} ${ns}/${ref.name} has been deleted`);
    if (ref.uid && o.metadata?.uid !== ref.uid) throw new InvalidTokenError(`invalid bearer token, ${what} UID (${o.metadata?.uid}) does not match claim (${ref.uid})`);
    if (storageKey !== 'serviceaccounts' && o.metadata?.deletionTimestamp && Date.parse(o.metadata.deletionTimestamp) <= this.now()) {
      throw new InvalidTokenError(`invalid bearer token, ${what} ${ns}/${ref.name} is marked for deletion`);
    }
  }

  authenticator(): TokenAuthenticator {
    return { name: 'serviceaccount', authenticateToken: (t, aud) => this.verify(t, aud) };
  }

  /** GET /.well-known/openid-configuration. */
  openidConfiguration(externalIssuer = this.issuer): any {
    return {
      issuer: this.issuer,
      jwks_uri: `${externalIssuer.replace(/\/$/, '')}/openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [...new Set(this.verifyKeys.map((k) => algOf(k.key)))],
    };
  }

  /** GET /openid/v1/jwks (served as application/jwk-set+json). */
  jwks(): any {
    return { keys: this.verifyKeys.map((k) => publicJwk(k.key, k.kid)) };
  }

  /**
   * POST serviceaccounts/NAME/token (TokenRequest): checks the service account and the bound object,
   * and returns the TokenRequest with status.token and status.expirationTimestamp.
   */
  async createToken(reg: Registry, namespace: string, name: string, body: any): Promise<any> {
    if (body?.kind && body.kind !== 'TokenRequest') throw badRequest(`the kind in the data (${body.kind}) does not match the expected kind (TokenRequest)`);
    await reg.cache.sync();
    const sa = reg.cache.get(`${REGISTRY_PREFIX}serviceaccounts/${namespace}/${name}`)?.obj;
    if (!sa) throw notFound('', 'serviceaccounts', name);
    const spec = body?.spec ?? {};
    const seconds = spec.expirationSeconds ?? DEFAULT_EXPIRATION_S;
    const invalid = (field: string, value: unknown, msg: string) =>
      new StatusError(422, 'Invalid', `TokenRequest.authentication.k8s.io "${name}" is invalid: ${field}: Invalid value: ${JSON.stringify(value)}: ${msg}`, {
        name,
        group: 'authentication.k8s.io',
        kind: 'TokenRequest',
        causes: [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(value)}: ${msg}`, field }],
      });
    if (!Number.isInteger(seconds) || seconds < MIN_EXPIRATION_S) throw invalid('spec.expirationSeconds', seconds, 'may not specify a duration less than 10 minutes');
    if (seconds > 2 ** 32) throw invalid('spec.expirationSeconds', seconds, 'may not specify a duration larger than 2^32 seconds');
    const audiences: string[] = spec.audiences?.length ? spec.audiences : this.apiAudiences;
    const opts: Parameters<ServiceAccountTokens['sign']>[1] = { audiences, seconds };
    const ref: BoundRef | undefined = spec.boundObjectRef ?? undefined;
    if (ref) {
      const kinds: Record<string, string> = { Pod: 'pods', Secret: 'secrets', Node: 'nodes' };
      const resource = kinds[ref.kind];
      if (!resource) throw invalid('spec.boundObjectRef.kind', ref.kind, 'supported values: "Pod", "Secret", "Node"');
      const key = resource === 'nodes' ? `${REGISTRY_PREFIX}nodes/${ref.name}` : `${REGISTRY_PREFIX}${resource}/${namespace}/${ref.name}`;
      const obj = reg.cache.get(key)?.obj;
      if (!obj) throw notFound('', resource, ref.name);
      if (ref.uid && ref.uid !== obj.metadata.uid) {
        throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${ref.name}": the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`, { name: ref.name, kind: resource });
      }
      const bound = { name: obj.metadata.name, uid: obj.metadata.uid };
      if (ref.kind === 'Pod') {
        opts.pod = bound;
        const nodeName = obj.spec?.nodeName;
        if (nodeName) opts.node = { name: nodeName, uid: reg.cache.get(`${REGISTRY_PREFIX}nodes/${nodeName}`)?.obj.metadata.uid };
      } else if (ref.kind === 'Secret') opts.secret = bound;
      else opts.node = bound;
    }
    const { token, exp } = this.sign({ namespace, name, uid: sa.metadata.uid }, opts);
    return {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: { name, namespace, creationTimestamp: null },
      spec: { audiences, expirationSeconds: seconds, boundObjectRef: ref ?? null },
      status: { token, expirationTimestamp: new Date(exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') },
    };
  }
}

export { createPrivateKey };
