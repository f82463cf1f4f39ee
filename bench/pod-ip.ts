/**
 * Time from pod create to IP assigned, per network mode, through the whole path: API server,
 * scheduler, kubelet, process runtime, pod network (CNI plugins, iproute2 or loopback), status
 * written back. Measured client-side, from the create call to the watch event carrying
 * status.podIP, pods created one at a time. Printed beside the goal for the network part alone
 * (CNI setup p99 ≤ 50 ms): the difference is the rest of the pod's path.
 *
 *   node dist/bench/pod-ip.js [--pods N]
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startTestCluster } from '../src/testing/cluster.js';
import { RestClient, configFromKubeconfig } from '../src/client/rest.js';
import { Informer } from '../src/client/informer.js';
import { R } from '../src/client/factory.js';
import { detectNetworkMode } from '../src/network/pod/select.js';
import type { NetworkMode } from '../src/network/pod/types.js';

const i = process.argv.indexOf('--pods');
const N = i >= 0 ? Number(process.argv[i + 1]) : 20;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

function routed(): boolean {
  try {
    return /10\.244\.0\.0\/24/.test(execFileSync('ip', ['-4', 'route'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
}

async function run(mode: NetworkMode): Promise<void> {
  const id = randomBytes(2).toString('hex');
  const c = await startTestCluster({
    components: { controllers: true, scheduler: true, kubelet: true },
    up: { networkMode: mode, networkPrefix: `skb${id}`, nodeName: `bench-${id}`, runtime: 'process' },
  });
  const client = new RestClient(configFromKubeconfig(c.kubeconfig, 'bench'));
  const seen = new Map<string, (t: number) => void>();
  const inf = new Informer(client, R.pods);
  const check = (p: any) => p.status?.podIP && seen.get(p.metadata.name)?.(performance.now());
  inf.addHandlers({ add: check, update: (_o, p) => check(p) });
  await inf.start();
  const times: number[] = [];
  try {
    // The default ServiceAccount must exist before pods are admitted.
    for (let t = Date.now(); Date.now() - t < 10_000; ) {
      if (await client.get('/api/v1/namespaces/default/serviceaccounts/default').catch(() => undefined)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    for (let n = 0; n < N + 2; n++) {
      const name = `p${n}`;
      const got = new Promise<number>((r) => seen.set(name, r));
      const t0 = performance.now();
      await client.create('/api/v1/namespaces/default/pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox', command: ['sleep', '600'] }] },
      });
      const t1 = await got;
      if (n >= 2) times.push(t1 - t0); // the first two warm up the path
    }
  } finally {
    inf.stop();
    client.close();
    await c.stop();
  }
  console.log(`pod create → IP (${mode}, ${N} pods, one at a time): p50 ${pct(times, 50).toFixed(1)} ms  p99 ${pct(times, 99).toFixed(1)} ms   goal (network setup alone): p99 ≤ 50 ms`);
}

const root = process.getuid?.() === 0;
for (const mode of ['loopback', 'netns', 'cni'] as NetworkMode[]) {
  if (mode !== 'loopback' && (!root || routed())) {
    console.log(`pod create → IP (${mode}): skipped (${!root ? 'needs root' : '10.244.0.0/24 is in use here'})`);
    continue;
  }
  if (mode === 'cni' && detectNetworkMode() !== 'cni') {
    console.log('pod create → IP (cni): skipped (CNI plugins not installed)');
    continue;
  }
  await run(mode);
}
