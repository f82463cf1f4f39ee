import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/** A compact JWS (RFC 7515) with ES256 or RS256, which is all service-account tokens need. */
export type JwsAlg = 'ES256' | 'RS256';

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export function algOf(key: KeyObject): JwsAlg {
  if (key.asymmetricKeyType === 'ec') return 'ES256';
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  throw new Error(`unsupported service-account key type ${key.asymmetricKeyType}`);
}

/** Upstream's key id: base64url of the SHA-256 of the public key's DER (SubjectPublicKeyInfo). */
export function keyId(pub: KeyObject): string {
  return b64url(createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest());
}

export function signJws(key: KeyObject, claims: object, kid: string): string {
  const alg = algOf(key);
  const head = b64url(JSON.stringify({ alg, kid }));
  const body = b64url(JSON.stringify(claims));
  const input = `${head}.${body}`;
  const sig = sign('sha256', Buffer.from(input), alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${input}.${b64url(sig)}`;
}

export interface ParsedJws {
  header: { alg?: string; kid?: string; typ?: string };
  claims: any;
  signingInput: string;
  signature: Buffer;
}

/** Splits and decodes a compact JWS; undefined when the text is not one (so other authenticators may try it). */
export function parseJws(token: string): ParsedJws | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (!header || typeof header !== 'object' || !claims || typeof claims !== 'object') return undefined;
    return { header, claims, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
  } catch {
    return undefined;
  }
}

/** True when one of the keys (matching alg, and kid when both name one) verifies the signature. */
export function verifyJws(p: ParsedJws, keys: readonly { key: KeyObject; kid: string }[]): boolean {
  for (const k of keys) {
    const alg = algOf(k.key);
    if (p.header.alg !== alg) continue;
    if (p.header.kid && p.header.kid !== k.kid) continue;
    const ok = verify('sha256', Buffer.from(p.signingInput), alg === 'ES256' ? { key: k.key, dsaEncoding: 'ieee-p1363' } : k.key, p.signature);
    if (ok) return true;
  }
  return false;
}

/** The public half as a JWK for /openid/v1/jwks. */
export function publicJwk(pub: KeyObject, kid: string): Record<string, string> {
  const jwk = pub.export({ format: 'jwk' }) as Record<string, string>;
  return { use: 'sig', kid, alg: algOf(pub), ...jwk };
}

export { createPrivateKey, createPublicKey };
