import { createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import nacl from 'tweetnacl';
import type { Backend, DeleteResult, GetResult, KeyValue, ListOptions, ListResult, Watch, WatchEvent, WatchOptions, WriteResult } from './backend.js';
import { SkiffError } from '../util/errors.js';

/**
 * Encryption at rest (upstream's EncryptionConfiguration, apiserver.config.k8s.io/v1): values under
 * the configured resources' prefixes are encrypted by the first provider and read by any of them, so
 * keys rotate by adding a new first key and rewriting. Stored form: `k8s:enc:<provider>:v1:<key>:`
 * followed by the payload. Upstream stores the payload as raw bytes; Skiff's backends hold strings, so
 * the payload is base64 (the prefix is upstream's).
 *
 * Providers: aescbc (AES-256/192/128-CBC, PKCS#7, random IV first), aesgcm (random 12-byte nonce, tag
 * appended, the storage key as additional data, as upstream), secretbox (XSalsa20-Poly1305 with a
 * random 24-byte nonce first, via tweetnacl since node:crypto lacks it), identity.
 */
export class EncryptionError extends SkiffError {
  constructor(message: string) {
    super('ENCRYPTION', message);
  }
}

interface Key {
  name: string;
  secret: Buffer;
}

interface Provider {
  kind: 'aescbc' | 'aesgcm' | 'secretbox' | 'identity';
  keys: Key[];
}

interface ResourceConfig {
  /** Storage prefixes such as /registry/secrets/. */
  prefixes: string[];
  providers: Provider[];
}

export interface EncryptionConfig {
  resources: ResourceConfig[];
}

/** `secrets` → /registry/secrets/; `deployments.apps` → /registry/apps/deployments/ (Skiff's layout). */
function prefixFor(resource: string): string {
  const i = resource.indexOf('.');
  if (i < 0) return `/registry/${resource}/`;
  return `/registry/${resource.slice(i + 1)}/${resource.slice(0, i)}/`;
}

function parseKeys(kind: string, keys: any, lengths: number[]): Key[] {
  if (!Array.isArray(keys) || !keys.length) throw new EncryptionError(`${kind}: at least one key is required`);
  return keys.map((k: any, i: number) => {
    if (!k?.name) throw new EncryptionError(`${kind}.keys[${i}].name: Required value`);
    if (k.name.includes(':')) throw new EncryptionError(`${kind}.keys[${i}].name: Invalid value: "${k.name}": should not contain ':'`);
    const secret = Buffer.from(String(k.secret ?? ''), 'base64');
    if (!lengths.includes(secret.length)) throw new EncryptionError(`${kind}.keys[${i}].secret: Invalid value: "REDACTED": secret is not of the expected length, got ${secret.length}, expected one of ${JSON.stringify(lengths)}`);
    return { name: k.name, secret };
  });
}

/** Parses an EncryptionConfiguration document (object or YAML/JSON text). */
export function parseEncryptionConfig(doc: any): EncryptionConfig {
  if (typeof doc === 'string') doc = YAML.parse(doc);
  if (doc?.kind && doc.kind !== 'EncryptionConfiguration') throw new EncryptionError(`expected kind EncryptionConfiguration, got ${doc.kind}`);
  const resources: ResourceConfig[] = [];
  for (const r of doc?.resources ?? []) {
    const providers: Provider[] = [];
    for (const p of r.providers ?? []) {
      if (p.aescbc) providers.push({ kind: 'aescbc', keys: parseKeys('aescbc', p.aescbc.keys, [16, 24, 32]) });
      else if (p.aesgcm) providers.push({ kind: 'aesgcm', keys: parseKeys('aesgcm', p.aesgcm.keys, [16, 24, 32]) });
      else if (p.identity !== undefined) providers.push({ kind: 'identity', keys: [] });
      else if (p.secretbox) providers.push({ kind: 'secretbox', keys: parseKeys('secretbox', p.secretbox.keys, [32]) });
      else if (p.kms) throw new EncryptionError('kms providers are not supported');
      else throw new EncryptionError(`unknown provider ${JSON.stringify(Object.keys(p))}`);
    }
    if (!providers.length) throw new EncryptionError('resources: each entry needs at least one provider');
    resources.push({ prefixes: (r.resources ?? []).map(prefixFor), providers });
  }
  return { resources };
}

export function loadEncryptionConfig(path: string): EncryptionConfig {
  return parseEncryptionConfig(readFileSync(path, 'utf8'));
}

const cbcAlg = (k: Buffer) => `aes-${k.length * 8}-cbc`;
const gcmAlg = (k: Buffer) => `aes-${k.length * 8}-gcm` as CipherGCMTypes;

function encrypt(p: Provider, key: string, plain: string): string {
  if (p.kind === 'identity') return plain;
  const k = p.keys[0];
  const data = Buffer.from(plain, 'utf8');
  let payload: Buffer;
  if (p.kind === 'secretbox') {
    const nonce = randomBytes(nacl.secretbox.nonceLength);
    payload = Buffer.concat([nonce, nacl.secretbox(data, nonce, k.secret)]);
  } else if (p.kind === 'aescbc') {
    const iv = randomBytes(16);
    const c = createCipheriv(cbcAlg(k.secret), k.secret, iv);
    payload = Buffer.concat([iv, c.update(data), c.final()]);
  } else {
    const nonce = randomBytes(12);
    const c = createCipheriv(gcmAlg(k.secret), k.secret, nonce);
    c.setAAD(Buffer.from(key));
    const body = Buffer.concat([c.update(data), c.final()]);
    payload = Buffer.concat([nonce, body, c.getAuthTag()]);
  }
  return `k8s:enc:${p.kind}:v1:${k.name}:${payload.toString('base64')}`;
}

function decrypt(providers: Provider[], key: string, stored: string): string {
  const m = /^k8s:enc:([a-z]+):v1:([^:]+):/.exec(stored);
  if (!m) {
    if (providers.some((p) => p.kind === 'identity')) return stored;
    throw new EncryptionError(`no matching prefix found for ${key}`);
  }
  const [prefix, kind, name] = m;
  const p = providers.find((x) => x.kind === kind && x.keys.some((k) => k.name === name));
  const k = p?.keys.find((x) => x.name === name);
  if (!p || !k) throw new EncryptionError(`no key "${name}" for provider ${kind} to read ${key}`);
  const payload = Buffer.from(stored.slice(prefix.length), 'base64');
  try {
    if (kind === 'secretbox') {
      const open = nacl.secretbox.open(payload.subarray(nacl.secretbox.nonceLength), payload.subarray(0, nacl.secretbox.nonceLength), k.secret);
      if (!open) throw new Error('authentication failed');
      return Buffer.from(open).toString('utf8');
    }
    if (kind === 'aescbc') {
      const d = createDecipheriv(cbcAlg(k.secret), k.secret, payload.subarray(0, 16));
      return Buffer.concat([d.update(payload.subarray(16)), d.final()]).toString('utf8');
    }
    const d = createDecipheriv(gcmAlg(k.secret), k.secret, payload.subarray(0, 12));
    d.setAAD(Buffer.from(key));
    d.setAuthTag(payload.subarray(payload.length - 16));
    return Buffer.concat([d.update(payload.subarray(12, payload.length - 16)), d.final()]).toString('utf8');
  } catch {
    throw new EncryptionError(`failed to decrypt ${key} with ${kind} key "${name}"`);
  }
}

/** A Backend that encrypts configured resources on write and decrypts on every read path. */
export class EncryptedBackend implements Backend {
  readonly name: string;

  constructor(
    private readonly inner: Backend,
    private readonly config: EncryptionConfig,
  ) {
    this.name = inner.name;
  }

  private providersFor(key: string): Provider[] | undefined {
    for (const r of this.config.resources) if (r.prefixes.some((p) => key.startsWith(p))) return r.providers;
    return undefined;
  }

  private seal(key: string, value: string): string {
    const ps = this.providersFor(key);
    return ps ? encrypt(ps[0], key, value) : value;
  }

  private open(kv: KeyValue): KeyValue;
  private open(kv: KeyValue | undefined): KeyValue | undefined;
  private open(kv: KeyValue | undefined): KeyValue | undefined {
    if (!kv) return kv;
    const ps = this.providersFor(kv.key);
    return ps ? { ...kv, value: decrypt(ps, kv.key, kv.value) } : kv;
  }

  private openWrite<T extends WriteResult | DeleteResult>(r: T): T {
    if (r.ok) return ('kv' in r ? { ...r, kv: this.open(r.kv) } : { ...r, prev: this.open((r as any).prev) }) as T;
    return { ...r, current: this.open(r.current) };
  }

  currentRevision(): Promise<number> {
    return this.inner.currentRevision();
  }

  async get(key: string, opts?: { revision?: number }): Promise<GetResult> {
    const r = await this.inner.get(key, opts);
    return { ...r, kv: this.open(r.kv) };
  }

  async list(prefix: string, opts?: ListOptions): Promise<ListResult> {
    const r = await this.inner.list(prefix, opts);
    return { ...r, kvs: r.kvs.map((kv) => this.open(kv)) };
  }

  count(prefix: string): Promise<number> {
    return this.inner.count(prefix);
  }

  async create(key: string, value: string): Promise<WriteResult> {
    return this.openWrite(await this.inner.create(key, this.seal(key, value)));
  }

  async update(key: string, value: string, expectedModRevision: number): Promise<WriteResult> {
    return this.openWrite(await this.inner.update(key, this.seal(key, value), expectedModRevision));
  }

  async delete(key: string, expectedModRevision?: number): Promise<DeleteResult> {
    return this.openWrite(await this.inner.delete(key, expectedModRevision));
  }

  watch(prefix: string, opts: WatchOptions): Watch {
    let failed = false;
    return this.inner.watch(prefix, {
      afterRevision: opts.afterRevision,
      onError: opts.onError,
      onEvents: (events: WatchEvent[]) => {
        if (failed) return;
        try {
          opts.onEvents(events.map((e) => ({ ...e, kv: this.open(e.kv), prevKv: this.open(e.prevKv) })));
        } catch (err) {
          if (!(err instanceof EncryptionError)) throw err;
          failed = true;
          opts.onError(err);
        }
      },
    });
  }

  compact(revision: number): Promise<void> {
    return this.inner.compact(revision);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
