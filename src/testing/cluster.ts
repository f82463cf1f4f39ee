import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheHintMismatches } from '../apiserver/watchcache.js';
import { sharedMutationErrors } from '../apiserver/registry.js';
import { up, type RunningCluster, type ComponentSelection, type UpOptions } from '../cluster/up.js';

/** Repository root, found from this compiled file (dist/src/testing/cluster.js). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SKIFF_BIN = path.join(REPO_ROOT, 'bin/skiff.js');

export interface TestCluster {
  dataDir: string;
  kubeconfig: string;
  server: string;
  cluster: RunningCluster;
  /** Runs the real kubectl against the cluster. */
  kubectl(args: string[], opts?: { input?: string; env?: Record<string, string>; bin?: string }): Promise<KubectlResult>;
  /** Runs kubectl, which must succeed; its stdout. A failure throws with kubectl's stderr. */
  run(args: string[], input?: string): Promise<string>;
  stop(): Promise<void>;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A cluster in this process on a free port, with its own data dir and kubectl cache dir. */
export async function startTestCluster(opts: { datastore?: string; components?: ComponentSelection; up?: Partial<UpOptions> } = {}): Promise<TestCluster> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'skiff-test-'));
  // Tests get a bare API server unless they ask for components, so they see only their own objects.
  const components: ComponentSelection = { controllers: false, scheduler: false, kubelet: false, ingress: false, proxy: false, dns: false, networkPolicy: false, ...opts.components };
  // Without the controller manager nobody creates `default` ServiceAccounts, which the ServiceAccount
  // admission plugin requires for pods (as upstream): leave it out unless controllers run.
  const disableAdmissionPlugins = components.controllers ? [] : ['ServiceAccount'];
  const cluster = await up({ dataDir, apiPort: 0, datastore: opts.datastore ?? 'sqlite', host: '127.0.0.1', components, disableAdmissionPlugins, ...opts.up });
  const cacheDir = path.join(dataDir, 'kube-cache');
  return {
    dataDir,
    kubeconfig: cluster.kubeconfigPath,
    server: cluster.server,
    cluster,
    kubectl: (args, o = {}) => runKubectl(args, { kubeconfig: cluster.kubeconfigPath, cacheDir, ...o }),
    async run(args, input) {
      const r = await runKubectl(args, { kubeconfig: cluster.kubeconfigPath, cacheDir, input });
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    },
    async stop() {
      await cluster.stop();
      await rm(dataDir, { recursive: true, force: true });
      // The suite runs with SKIFF_VERIFY_CACHE_HINTS=1: a registry write whose object differs from
      // the JSON it stored (the watch cache would serve the wrong one) fails the test that made it.
      if (cacheHintMismatches() > 0) throw new Error(`${cacheHintMismatches()} written object(s) differed from their stored JSON: see "watch cache:" on stderr`);
      if (sharedMutationErrors() > 0) throw new Error(`${sharedMutationErrors()} shared mutation(s) changed a cached object in place: see "registry:" on stderr`);
    },
  };
}

export function runKubectl(args: string[], o: { kubeconfig: string; cacheDir: string; input?: string; env?: Record<string, string>; bin?: string }): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile(
      o.bin ?? 'kubectl',
      args,
      { env: { ...process.env, KUBECONFIG: o.kubeconfig, KUBECACHEDIR: o.cacheDir, HOME: path.dirname(o.cacheDir), ...o.env }, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (o.input !== undefined) child.stdin!.end(o.input);
  });
}

const UP_DEADLINE_MS = 120_000;

/** `skiff up` as its own process (for signal and restart tests). Resolves once it prints that it is up. */
export async function spawnSkiffUp(args: string[], opts: { waitForUp?: boolean } = {}): Promise<{ child: ChildProcess; server: string; output: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [SKIFF_BIN, 'up', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SKIFF_QUIET: '1' } });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  if (opts.waitForUp === false) {
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    return { child, server: '', output: () => out, exited };
  }
  const server = await new Promise<string>((resolve, reject) => {
    // A cluster that never says it is up fails the test rather than hanging it, and is not left running.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`skiff up did not report its API server within ${UP_DEADLINE_MS / 1000} s: ${out}`));
    }, UP_DEADLINE_MS);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /API server at (https:\/\/\S+?)\s/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`skiff up exited with ${code}: ${out}`));
    });
  });
  return { child, server, output: () => out, exited };
}
