/**
 * CNI per the spec (v1.0): a network configuration list run plugin by plugin, ADD in order and
 * DEL in reverse, each plugin getting the previous plugin's result as `prevResult`, with the
 * CNI_* environment; the final ADD result is cached (as libcni does under /var/lib/cni/results)
 * so DEL and CHECK get the same prevResult even after a restart.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, NetworkSetupError } from '../pod/netnsutil.js';

export interface ConfList {
  cniVersion: string;
  name: string;
  plugins: Record<string, any>[];
}

export interface Attachment {
  containerId: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs (K8S_POD_NAMESPACE, K8S_POD_NAME, …). */
  args?: Record<string, string>;
  capabilityArgs?: Record<string, unknown>;
}

export interface CniOptions {
  binDirs: string[];
  cacheDir: string;
}

export class CniRunner {
  constructor(private readonly o: CniOptions) {}

  private cacheFile(net: string, a: Attachment): string {
    return path.join(this.o.cacheDir, 'results', `${net}-${a.containerId}-${a.ifName}`);
  }

  private plugin(type: string): string {
    for (const d of this.o.binDirs) if (existsSync(path.join(d, type))) return path.join(d, type);
    throw new NetworkSetupError(`CNI plugin "${type}" not found in ${this.o.binDirs.join(':')}`);
  }

  private async exec(command: 'ADD' | 'DEL' | 'CHECK', list: ConfList, conf: Record<string, any>, a: Attachment, prevResult?: unknown): Promise<any> {
    const stdin: Record<string, any> = { ...conf, cniVersion: list.cniVersion, name: list.name };
    if (prevResult) stdin.prevResult = prevResult;
    if (a.capabilityArgs && conf.capabilities) {
      const rc: Record<string, unknown> = {};
      for (const [k, on] of Object.entries(conf.capabilities)) if (on && a.capabilityArgs[k] !== undefined) rc[k] = a.capabilityArgs[k];
      if (Object.keys(rc).length) stdin.runtimeConfig = rc;
    }
    const env = {
      ...process.env,
      CNI_COMMAND: command,
      CNI_CONTAINERID: a.containerId,
      CNI_NETNS: a.netns,
      CNI_IFNAME: a.ifName,
      CNI_PATH: this.o.binDirs.join(':'),
      CNI_ARGS: Object.entries(a.args ?? {}).map(([k, v]) => `${k}=${v}`).join(';'),
    };
    let out: string;
    try {
      out = await run(this.plugin(conf.type), [], { env, input: JSON.stringify(stdin) });
    } catch (e) {
      // Plugins report errors as JSON on stdout: {code, msg, details}.
      const m = /\{.*\}/s.exec((e as Error).message)?.[0];
      let msg = (e as Error).message;
      try {
        const j = JSON.parse(m ?? '');
        msg = `${conf.type} ${command}: ${j.msg}${j.details ? ` (${j.details})` : ''}`;
      } catch {
        /* not JSON */
      }
      throw new NetworkSetupError(msg);
    }
    return out.trim() ? JSON.parse(out) : undefined;
  }

  async add(list: ConfList, a: Attachment): Promise<any> {
    let prev: any;
    for (const p of list.plugins) prev = (await this.exec('ADD', list, p, a, prev)) ?? prev;
    const f = this.cacheFile(list.name, a);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, JSON.stringify({ kind: 'cniCacheV1', containerId: a.containerId, ifName: a.ifName, networkName: list.name, config: list, result: prev }), { mode: 0o600 });
    return prev;
  }

  cached(list: ConfList, a: Attachment): any | undefined {
    try {
      return JSON.parse(readFileSync(this.cacheFile(list.name, a), 'utf8')).result;
    } catch {
      return undefined;
    }
  }

  async check(list: ConfList, a: Attachment): Promise<void> {
    const prev = this.cached(list, a);
    if (!prev) throw new NetworkSetupError(`no cached result for ${a.containerId}/${a.ifName}`);
    for (const p of list.plugins) await this.exec('CHECK', list, p, a, prev);
  }

  async del(list: ConfList, a: Attachment): Promise<void> {
    const prev = this.cached(list, a);
    for (const p of [...list.plugins].reverse()) await this.exec('DEL', list, p, a, prev);
    rmSync(this.cacheFile(list.name, a), { force: true });
  }
}

/** The node's conflist, written from its podCIDR (bridge + host-local + portmap). */
export function nodeConfList(o: { podCIDR: string; bridge: string; ipamDataDir: string; name?: string }): ConfList {
  return {
    cniVersion: '1.0.0',
    name: o.name ?? 'skiff',
    plugins: [
      { type: 'bridge', bridge: o.bridge, isGateway: true, ipMasq: true, hairpinMode: true, ipam: { type: 'host-local', ranges: [[{ subnet: o.podCIDR }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: o.ipamDataDir } },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

export const LOOPBACK_CONF: ConfList = { cniVersion: '1.0.0', name: 'cni-loopback', plugins: [{ type: 'loopback' }] };
