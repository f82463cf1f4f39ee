/**
 * The kubelet's image manager, as upstream's pkg/kubelet/images: the default imagePullPolicy,
 * pulls with a per pod+image back-off (10 s doubling to 5 min, flowcontrol.Backoff semantics),
 * upstream's events and waiting reasons (ErrImagePull, ImagePullBackOff, ErrImageNeverPull), and
 * pull credentials from imagePullSecrets matched as the credentialprovider keyring does.
 * Pure apart from the injected image service and clock.
 */
import type { Clock } from '../client/workqueue.js';
import type { AuthConfig, Image, ImageSpec, PodSandboxConfig } from '../runtime/cri.js';
import { Backoff } from './podworker/backoff.js';

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export type { AuthConfig };

/** A parsed image reference, normalized as the docker reference library does. */
export interface ImageRef {
  /** `docker.io/library/busybox` */
  repo: string;
  /** Registry host (with port). */
  domain: string;
  tag?: string;
  digest?: string;
}

export class InvalidImageNameError extends Error {}

/** `busybox` → docker.io/library/busybox:latest; `localhost:5000/x` → that registry, no tag. */
export function parseImageName(image: string): ImageRef {
  if (!image || /\s/.test(image) || image !== image.trim()) throw new InvalidImageNameError(`invalid reference format: ${JSON.stringify(image)}`);
  let rest = image;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(digest)) throw new InvalidImageNameError(`invalid reference format: ${JSON.stringify(image)}`);
  }
  // The tag is only after the last '/': a registry's port is not a tag.
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new InvalidImageNameError(`invalid reference format: ${JSON.stringify(image)}`);
  }
  const first = rest.split('/')[0];
  let domain = 'docker.io';
  let path = rest;
  if (rest.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    domain = first;
    path = rest.slice(first.length + 1);
  }
  if (domain === 'index.docker.io') domain = 'docker.io';
  if (domain === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (!path || !/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(path)) throw new InvalidImageNameError(`invalid reference format: ${JSON.stringify(image)}`);
  if (!tag && !digest) tag = 'latest';
  return { repo: `${domain}/${path}`, domain, tag, digest };
}

/** Upstream's defaulting: the `latest` tag (explicit or implied) pulls Always, anything else IfNotPresent. */
export function defaultPullPolicy(image: string): PullPolicy {
  try {
    return parseImageName(image).tag === 'latest' ? 'Always' : 'IfNotPresent';
  } catch {
    return 'IfNotPresent';
  }
}

export function pullPolicyOf(spec: { image?: string; imagePullPolicy?: string }): PullPolicy {
  const p = spec.imagePullPolicy;
  return p === 'Always' || p === 'IfNotPresent' || p === 'Never' ? p : defaultPullPolicy(spec.image ?? '');
}

// ---------------------------------------------------------------- keyring

/** One `auths` entry of a dockerconfigjson (or a dockercfg top-level entry). */
interface DockerConfigEntry {
  username?: string;
  password?: string;
  auth?: string;
  identitytoken?: string;
  registrytoken?: string;
}

function entryCreds(e: DockerConfigEntry): AuthConfig {
  let { username, password } = e;
  // `auth` is base64(user:pass) and wins over the separate fields, as upstream's decoding.
  if (e.auth) {
    const dec = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = dec.indexOf(':');
    if (i > 0) {
      username = dec.slice(0, i);
      password = dec.slice(i + 1);
    }
  }
  const out: AuthConfig = {};
  if (username) out.username = username;
  if (password) out.password = password;
  if (e.identitytoken) out.identityToken = e.identitytoken;
  if (e.registrytoken) out.registryToken = e.registrytoken;
  return out;
}

/** `https://host:port/path` without the scheme → { host, port, path } (upstream's ParseSchemelessURL). */
function schemeless(s: string): { hostParts: string[]; port: string; path: string } | undefined {
  try {
    const u = new URL(/^https?:\/\//.test(s) ? s : `https://${s}`);
    return { hostParts: u.hostname.split('.'), port: u.port, path: decodeURIComponent(u.pathname) };
  } catch {
    return undefined;
  }
}

/** filepath.Match for one host label (only `*`, `?`, and literal characters). */
function globMatch(glob: string, s: string): boolean {
  const re = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^.]*').replace(/\?/g, '[^.]')}$`);
  return re.test(s);
}

/** credentialprovider.URLsMatchStr: same number of host labels, each glob-matched, same port, path prefix. */
export function urlsMatch(glob: string, target: string): boolean {
  const g = schemeless(glob);
  const t = schemeless(target);
  if (!g || !t) return false;
  if (g.hostParts.length !== t.hostParts.length || g.port !== t.port) return false;
  if (!g.hostParts.every((p, i) => globMatch(p, t.hostParts[i]))) return false;
  return t.path.startsWith(g.path === '/' ? '' : g.path);
}

const DEFAULT_REGISTRY_KEY = 'index.docker.io';

/** Does an image without a registry (or on docker.io) use the default registry's credentials? */
function isDefaultRegistryMatch(image: string): boolean {
  const parts = image.split('/');
  if (parts[0] === 'docker.io') return true;
  if (parts.length < 2) return true;
  return !/[.:]/.test(parts[0]);
}

/** The credentialprovider BasicDockerKeyring: entries keyed by host+path, longest key first. */
export class Keyring {
  private readonly creds = new Map<string, AuthConfig[]>();
  private index: string[] = [];

  add(config: Record<string, DockerConfigEntry>): void {
    for (const [loc, entry] of Object.entries(config ?? {})) {
      const value = /^https?:\/\//.test(loc) ? loc : `https://${loc}`;
      let u: URL;
      try {
        u = new URL(value);
      } catch {
        continue;
      }
      let p = decodeURIComponent(u.pathname);
      if (p.startsWith('/v2/') || p.startsWith('/v1/')) p = p.slice(3);
      let key = p && p !== '/' ? u.host + p : u.host;
      // docker.io and its aliases share the default registry's credentials.
      if (key === 'docker.io' || key === 'registry-1.docker.io' || key === 'index.docker.io/') key = DEFAULT_REGISTRY_KEY;
      const list = this.creds.get(key) ?? [];
      list.push(entryCreds(entry));
      this.creds.set(key, list);
      if (!this.index.includes(key)) this.index.push(key);
    }
    // Reverse lexical order puts longer (more specific) keys of a host first, as upstream.
    this.index.sort().reverse();
  }

  /** Credentials for an image's normalized repository (`docker.io/library/busybox`), most specific first. */
  lookup(repo: string): AuthConfig[] {
    const out: AuthConfig[] = [];
    for (const k of this.index) if (urlsMatch(k, repo)) out.push(...this.creds.get(k)!);
    if (out.length) return out;
    if (isDefaultRegistryMatch(repo)) return this.creds.get(DEFAULT_REGISTRY_KEY) ?? [];
    return [];
  }
}

/** A keyring from kubernetes.io/dockerconfigjson and kubernetes.io/dockercfg Secrets (others are ignored). */
export function keyringFromSecrets(secrets: any[]): Keyring {
  const k = new Keyring();
  for (const s of secrets) {
    try {
      if (s?.type === 'kubernetes.io/dockerconfigjson' && s.data?.['.dockerconfigjson']) {
        const cfg = JSON.parse(Buffer.from(s.data['.dockerconfigjson'], 'base64').toString('utf8'));
        k.add(cfg.auths ?? {});
      } else if (s?.type === 'kubernetes.io/dockercfg' && s.data?.['.dockercfg']) {
        k.add(JSON.parse(Buffer.from(s.data['.dockercfg'], 'base64').toString('utf8')));
      }
    } catch {
      // malformed config: upstream skips the secret too
    }
  }
  return k;
}

/** The pod's imagePullSecrets that exist; names that could not be read are returned for the event. */
export async function pullSecretsForPod(pod: any, get: (namespace: string, name: string) => Promise<any | undefined>): Promise<{ secrets: any[]; missing: string[] }> {
  const secrets: any[] = [];
  const missing: string[] = [];
  for (const ref of pod.spec?.imagePullSecrets ?? []) {
    if (!ref?.name) continue;
    const s = await get(pod.metadata.namespace, ref.name).catch(() => undefined);
    if (s) secrets.push(s);
    else missing.push(ref.name);
  }
  return { secrets, missing };
}

// ---------------------------------------------------------------- manager

export interface ImageServiceLike {
  pullImage(image: ImageSpec, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig): Promise<string>;
  imageStatus(image: ImageSpec): Promise<Image | undefined>;
}

export type ImageEvent = (type: 'Normal' | 'Warning', reason: string, message: string) => void;

export type EnsureResult =
  | { ok: true; imageRef: string; image?: Image }
  | { ok: false; reason: 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName'; message: string; retryAt?: number };

/** Go's time.Duration String, for pull times (`523ms`, `1.234s`, `1m2.5s`). */
export function goDurationMs(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  const fmt = (x: number) => String(Number(x.toFixed(3)));
  if (s < 60) return `${fmt(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${fmt(s - m * 60)}s`;
  return `${Math.floor(m / 60)}h${m % 60}m${fmt(s - m * 60)}s`;
}

export class ImageManager {
  readonly backoff: Backoff;
  /** The last pull error per back-off key, shown in the ImagePullBackOff message (upstream since 1.31). */
  private readonly prevPullErr = new Map<string, string>();

  constructor(
    private readonly images: ImageServiceLike,
    private readonly clock: Clock,
  ) {
    this.backoff = new Backoff(clock);
  }

  /**
   * EnsureImageExists: presence and policy, back-off, then a pull trying each matching credential
   * in turn (the first success wins; all failing report every error).
   */
  async ensure(pod: any, spec: any, o: { events: ImageEvent; keyring?: Keyring; sandboxConfig?: PodSandboxConfig; quietPresent?: boolean }): Promise<EnsureResult> {
    const image: string = spec.image ?? '';
    let ref: ImageRef;
    try {
      ref = parseImageName(image);
    } catch (e) {
      const msg = `Failed to apply default image tag "${image}": couldn't parse image name "${image}": ${(e as Error).message}`;
      o.events('Warning', 'InspectFailed', msg);
      return { ok: false, reason: 'InvalidImageName', message: msg };
    }
    const policy = pullPolicyOf(spec);
    // The CRI gets the default tag spelled out (`busybox` → `busybox:latest`); events keep the name as written.
    const criImage = !ref.digest && ref.tag && !image.endsWith(`:${ref.tag}`) ? `${image}:${ref.tag}` : image;
    const present = await this.images.imageStatus({ image: criImage }).catch(() => undefined);
    if (policy !== 'Always' && present) {
      if (!o.quietPresent) o.events('Normal', 'Pulled', `Container image "${image}" already present on machine`);
      return { ok: true, imageRef: present.id, image: present };
    }
    if (policy === 'Never') {
      const msg = `Container image "${image}" is not present with pull policy of Never`;
      o.events('Warning', 'ErrImageNeverPull', msg);
      return { ok: false, reason: 'ErrImageNeverPull', message: msg };
    }
    const key = `${pod.metadata.uid}_${image}`;
    const until = this.backoff.inBackoffSinceUpdate(key);
    if (until !== undefined) {
      const msg = `Back-off pulling image "${image}"`;
      o.events('Normal', 'BackOff', msg);
      const prev = this.prevPullErr.get(key);
      return { ok: false, reason: 'ImagePullBackOff', message: prev ? `${msg}: ${prev}` : msg, retryAt: until };
    }
    o.events('Normal', 'Pulling', `Pulling image "${image}"`);
    const t0 = this.clock.now();
    const creds = o.keyring?.lookup(ref.repo) ?? [];
    const errors: string[] = [];
    let imageRef: string | undefined;
    for (const auth of creds.length ? creds : [undefined]) {
      try {
        imageRef = await this.images.pullImage({ image: criImage }, auth, o.sandboxConfig);
        break;
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    if (imageRef === undefined) {
      const err = errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
      o.events('Warning', 'Failed', `Failed to pull image "${image}": ${err}`);
      const wait = this.backoff.next(key);
      this.prevPullErr.set(key, `ErrImagePull: ${err}`);
      return { ok: false, reason: 'ErrImagePull', message: err, retryAt: this.clock.now() + wait };
    }
    this.prevPullErr.delete(key);
    const d = goDurationMs(this.clock.now() - t0);
    const st = await this.images.imageStatus({ image: criImage }).catch(() => undefined);
    o.events('Normal', 'Pulled', `Successfully pulled image "${image}" in ${d} (${d} including waiting). Image size: ${st?.size ?? 0} bytes.`);
    return { ok: true, imageRef, image: st };
  }

  forget(podUid: string): void {
    this.backoff.forget(`${podUid}_`);
    for (const k of this.prevPullErr.keys()) if (k.startsWith(`${podUid}_`)) this.prevPullErr.delete(k);
  }
}
