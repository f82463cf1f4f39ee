/** iproute2 from TypeScript: network namespaces, links, addresses, routes. */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { SkiffError } from '../../util/errors.js';

export class NetworkSetupError extends SkiffError {
  constructor(message: string) {
    super('NetworkSetupFailed', message);
  }
}

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env: opts.env ?? process.env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new NetworkSetupError(`${cmd} ${args.join(' ')}: ${String(stderr || stdout || err.message).trim()}`));
      else resolve(String(stdout));
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
  });
}

export const ip = (...args: string[]) => run('ip', args);

/** `skiff-<first 12 of the sandbox id>`: short enough for interface-derived names. */
export function netnsName(sandboxId: string): string {
  return `skiff-${sandboxId.slice(0, 12)}`;
}

export async function addNetns(name: string): Promise<string> {
  await ip('netns', 'add', name).catch((e) => {
    if (!/File exists/.test(String(e.message))) throw e;
  });
  await ip('-n', name, 'link', 'set', 'lo', 'up');
  return `/var/run/netns/${name}`;
}

export async function delNetns(name: string): Promise<void> {
  await ip('netns', 'del', name).catch(() => undefined);
}

export async function linkExists(name: string): Promise<boolean> {
  return ip('link', 'show', name).then(
    () => true,
    () => false,
  );
}

/** Deletes a bridge that has no ports left (pods still attached keep it). */
export async function removeBridgeIfUnused(bridge: string): Promise<void> {
  const ports = await ip('-o', 'link', 'show', 'master', bridge).catch(() => undefined);
  if (ports === undefined || ports.trim()) return;
  await ip('link', 'del', bridge).catch(() => undefined);
}

/**
 * Bridged pod-to-pod traffic must pass netfilter for Service DNAT replies and NetworkPolicy (what
 * kube-proxy requires of bridge CNIs): best effort, as the module may be absent.
 */
export function enableBridgeNetfilter(): void {
  const f = '/proc/sys/net/bridge/bridge-nf-call-iptables';
  try {
    if (existsSync(f)) writeFileSync(f, '1');
  } catch {
    /* not permitted here: Services between pods of one bridge may then fail */
  }
}
