/**
 * Controller benchmark: a Deployment scaled from 0 to 1,000 replicas on 100 nodes; time until all
 * pods are Running and the Deployment reports 1,000 available. `skiff up` runs in its own process
 * (API server and controller manager, as shipped); a fake kubelet here stands in for 100 nodes
 * (binds pods round-robin, reports them Running and Ready). kube-controller-manager's default client limits (20 QPS,
 * burst 30) are printed as context: at that rate the 1,000 pod creates alone take ~50 s.
 *
 *   node dist/bench/deployment.js [--replicas N] [--nodes N]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RestClient, configFromKubeconfig } from '../src/client/rest.js';
import { Informer } from '../src/client/informer.js';
import { startFakeKubelet } from '../src/e2e/fakekubelet.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

const replicas = arg('replicas', 1000);
const nodes = arg('nodes', 100);
const GOAL_S = 10;

/** `skiff up` from this build (wherever it was compiled to) in its own process. */
async function skiffUp(args: string[]) {
  const mainJs = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js')).href;
  const code = `import(${JSON.stringify(mainJs)}).then((m) => m.main(process.argv)).catch((e) => { console.error(e); process.exit(1); });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code, 'skiff', 'up', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SKIFF_QUIET: '1' } });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/API server at https:\/\/\S+\s/.test(out)) resolve();
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (c) => reject(new Error(`skiff up exited with ${c}: ${out}`)));
  });
  return { child, exited };
}

async function main() {
  const dir = await mkdtemp(path.join(tmpdir(), 'skiff-bench-deploy-'));
  const s = await skiffUp(['--data-dir', dir, '--api-port', '0']);
  const kubeconfig = path.join(dir, 'kubeconfig');
  const client = new RestClient(configFromKubeconfig(kubeconfig, 'bench'));
  try {
    const kubelet = await startFakeKubelet(client, { nodes: Array.from({ length: nodes }, (_, i) => `node-${String(i).padStart(3, '0')}`), concurrency: 32 });
    // The controller manager of `skiff up` must lead before the clock starts.
    const leaseHeld = async () => {
      try {
        return !!(await client.get('/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager')).spec?.holderIdentity;
      } catch {
        return false;
      }
    };
    for (let i = 0; !(await leaseHeld()); i++) {
      if (i > 200) throw new Error('no controller manager leads: does `skiff up` run one?');
      await new Promise((r) => setTimeout(r, 50));
    }
    await client.create('/apis/apps/v1/namespaces/default/deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'bench' },
      spec: { replicas: 0, selector: { matchLabels: { app: 'bench' } }, template: { metadata: { labels: { app: 'bench' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } } },
    });
    const deployments = new Informer(client, { group: 'apps', version: 'v1', resource: 'deployments', namespace: 'default' });
    const pods = new Informer(client, { group: '', version: 'v1', resource: 'pods', namespace: 'default', labelSelector: 'app=bench' });
    await Promise.all([deployments.start(), pods.start()]);
    const waitFor = (what: string, ok: () => boolean, ms = 120_000) =>
      new Promise<void>((resolve, reject) => {
        const t0 = Date.now();
        const tick = () => {
          if (ok()) return resolve();
          if (Date.now() - t0 > ms) return reject(new Error(`timed out waiting for ${what}`));
          setTimeout(tick, 5);
        };
        tick();
      });
    await waitFor('observed replicas 0', () => deployments.get('default/bench')?.status?.observedGeneration === 1);
    let running = 0;
    const t0 = performance.now();
    let podsRunningAt = 0;
    await client.patch('/apis/apps/v1/namespaces/default/deployments/bench/scale', { spec: { replicas } });
    await waitFor('all running', () => {
      running = pods.list().filter((p) => p.status?.phase === 'Running').length;
      if (running >= replicas && !podsRunningAt) podsRunningAt = performance.now();
      return running >= replicas;
    });
    await waitFor('deployment available', () => {
      const st = deployments.get('default/bench')?.status;
      return st?.availableReplicas === replicas && st?.updatedReplicas === replicas;
    });
    const total = (performance.now() - t0) / 1000;
    const runningS = (podsRunningAt - t0) / 1000;
    const qpsFloor = (replicas - 30) / 20 + 1; // pod creates alone at 20 QPS after a 30-request burst
    console.log(`deployment 0 → ${replicas} replicas on ${nodes} nodes (API server: skiff up, sqlite)`);
    console.log(`  skiff:   all pods Running ${runningS.toFixed(2)} s, Deployment Available ${total.toFixed(2)} s   (goal ≤ ${GOAL_S} s: ${total <= GOAL_S ? 'met' : 'NOT met'})`);
    console.log(`  context: kube-controller-manager defaults --kube-api-qps=20 --kube-api-burst=30 → ≥ ${qpsFloor.toFixed(1)} s for the ${replicas} pod creates alone`);
    deployments.stop();
    pods.stop();
    await kubelet.stop();
  } finally {
    client.close();
    s.child.kill('SIGTERM');
    await s.exited;
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
