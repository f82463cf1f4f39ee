/**
 * Registry credentials from the node's docker config, as upstream's kubelet keyring reads them
 * (credentialprovider's ReadDockerConfigFile): `config.json` (its `auths`) is looked for in the
 * kubelet's root dir, the working dir, ~/.docker and /.docker; only if none is found and valid,
 * the legacy `.dockercfg` in the root dir, the working dir, ~ and /. The first valid file wins.
 * The file is re-read at most every 5 minutes (upstream's CachingDockerConfigProvider).
 *
 * Pull credentials are then, as upstream's MakeDockerKeyring: the pod's imagePullSecrets first,
 * the node's after (UnionKeyring), each tried in turn by the image puller.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { AuthConfig } from '../runtime/cri.js';
import { Keyring } from '../kubelet/images.js';

export type DockerConfigAuths = Record<string, { username?: string; password?: string; auth?: string; email?: string; identitytoken?: string; registrytoken?: string }>;

export interface DockerConfigSearch {
  /** The kubelet's root dir (upstream: --root-dir, the preferred path). */
  rootDir?: string;
  /** Defaults to process.cwd(). */
  cwd?: string;
  /** Defaults to $HOME. */
  home?: string;
  /** Reads a file; throws when it is missing (tests inject). */
  read?: (file: string) => string;
}

/** Where config.json is looked for, in order. */
export function dockerConfigJSONPaths(o: DockerConfigSearch = {}): string[] {
  const home = o.home ?? process.env.HOME ?? '';
  return [o.rootDir ?? '', o.cwd ?? process.cwd(), home ? path.join(home, '.docker') : '', '/.docker'].filter((d) => d !== '').map((d) => path.join(d, 'config.json'));
}

/** Where the legacy .dockercfg is looked for, in order. */
export function dockercfgPaths(o: DockerConfigSearch = {}): string[] {
  const home = o.home ?? process.env.HOME ?? '';
  return [o.rootDir ?? '', o.cwd ?? process.cwd(), home, '/'].filter((d) => d !== '').map((d) => path.join(d, '.dockercfg'));
}

/** config.json's `auths`, or undefined when the text is not a docker config.json. */
export function parseDockerConfigJSON(text: string): DockerConfigAuths | undefined {
  try {
    const v = JSON.parse(text);
    if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
    const auths = v.auths ?? {};
    return auths && typeof auths === 'object' && !Array.isArray(auths) ? auths : undefined;
  } catch {
    return undefined;
  }
}

/** A .dockercfg (a map of registry → entry), or undefined when malformed. */
export function parseDockercfg(text: string): DockerConfigAuths | undefined {
  try {
    const v = JSON.parse(text);
    return v && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The node's docker config: the first valid config.json, else the first valid .dockercfg. */
export function readNodeDockerConfig(o: DockerConfigSearch = {}): { file: string; auths: DockerConfigAuths } | undefined {
  const read = o.read ?? ((f: string) => readFileSync(f, 'utf8'));
  const first = (files: string[], parse: (t: string) => DockerConfigAuths | undefined) => {
    for (const file of files) {
      let text: string;
      try {
        text = read(file);
      } catch {
        continue;
      }
      const auths = parse(text);
      if (auths) return { file, auths };
    }
    return undefined;
  };
  return first(dockerConfigJSONPaths(o), parseDockerConfigJSON) ?? first(dockercfgPaths(o), parseDockercfg);
}

/** The node's keyring, re-read at most every `lifetimeMs` (5 minutes, as upstream). */
export class NodeDockerKeyring {
  private cached?: { at: number; keyring: Keyring };

  constructor(
    private readonly search: DockerConfigSearch = {},
    private readonly now: () => number = Date.now,
    private readonly lifetimeMs = 5 * 60_000,
  ) {}

  get(): Keyring {
    const now = this.now();
    if (this.cached && now - this.cached.at < this.lifetimeMs) return this.cached.keyring;
    const keyring = new Keyring();
    const cfg = readNodeDockerConfig(this.search);
    if (cfg) keyring.add(cfg.auths);
    this.cached = { at: now, keyring };
    return keyring;
  }
}

/** upstream's UnionDockerKeyring: every part's matches, in the parts' order (pull secrets, then the node's). */
export class UnionKeyring extends Keyring {
  constructor(private readonly parts: Keyring[]) {
    super();
  }

  override lookup(repo: string): AuthConfig[] {
    return this.parts.flatMap((k) => k.lookup(repo));
  }
}
