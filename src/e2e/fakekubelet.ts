/**
 * A stand-in for scheduler + kubelets in controller tests and benchmarks, talking only through the
 * API server: it registers Ready nodes, binds unscheduled pods round-robin (pods/binding), reports
 * bound pods Running and Ready (pods/status), and finishes gracefully deleted pods (delete with
 * gracePeriodSeconds=0), as a kubelet does once containers stopped.
 */
import { Informer, keyOf, splitKey } from '../client/informer.js';
import type { RestClient } from '../client/rest.js';
import { WorkQueue, runWorkers } from '../client/workqueue.js';

export interface FakeKubeletOptions {
  nodes: string[];
  /** Bind pods that have no spec.nodeName (default true: no scheduler runs in these tests). */
  bind?: boolean;
  /** Leave pods Pending instead of Running (to test not-ready pods). */
  holdRunning?: (pod: any) => boolean;
  concurrency?: number;
}

export interface FakeKubelet {
  stop(): Promise<void>;
}

const nowTime = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function startFakeKubelet(client: RestClient, o: FakeKubeletOptions): Promise<FakeKubelet> {
  for (const name of o.nodes) {
    try {
      await client.create('/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } });
    } catch (e) {
      if ((e as any).status !== 409) throw e;
    }
    const t = nowTime();
    await client.patch(`/api/v1/nodes/${name}/status`, {
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'fake kubelet is posting ready status', lastHeartbeatTime: t, lastTransitionTime: t }],
        capacity: { cpu: '64', memory: '256Gi', pods: '1000' },
        allocatable: { cpu: '64', memory: '256Gi', pods: '1000' },
      },
    });
  }
  const pods = new Informer(client, { group: '', version: 'v1', resource: 'pods' });
  const queue = new WorkQueue<string>({ baseMs: 10, maxMs: 2000 });
  pods.addHandlers({ add: (p) => queue.add(keyOf(p)), update: (_o, p) => queue.add(keyOf(p)) });
  let rr = 0;
  let podIP = 1;
  const reconcile = async (key: string) => {
    const p = pods.get(key);
    if (!p) return;
    const { namespace, name } = splitKey(key);
    const base = `/api/v1/namespaces/${namespace}/pods/${name}`;
    try {
      if (p.metadata.deletionTimestamp) {
        if (p.spec.nodeName) await client.delete(base, { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid: p.metadata.uid } });
        return;
      }
      if (!p.spec.nodeName) {
        if (o.bind === false) return;
        const node = o.nodes[rr++ % o.nodes.length];
        await client.create(`${base}/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace, uid: p.metadata.uid }, target: { apiVersion: 'v1', kind: 'Node', name: node } });
        return;
      }
      if (p.status?.phase === 'Running' || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') return;
      if (o.holdRunning?.(p)) return;
      const t = nowTime();
      const n = podIP++;
      const ip = `10.244.${(n >> 8) & 255}.${n & 255}`;
      const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: t });
      await client.patch(`${base}/status`, {
        metadata: { resourceVersion: p.metadata.resourceVersion },
        status: {
          phase: 'Running',
          conditions: [cond('PodReadyToStartContainers'), cond('Initialized'), cond('Ready'), cond('ContainersReady'), cond('PodScheduled')],
          hostIP: '10.0.0.1',
          podIP: ip,
          podIPs: [{ ip }],
          startTime: t,
          containerStatuses: (p.spec.containers ?? []).map((c: any) => ({ name: c.name, image: c.image, imageID: '', ready: true, restartCount: 0, started: true, state: { running: { startedAt: t } } })),
        },
      });
    } catch (e) {
      const s = (e as any).status;
      if (s === 404 || s === 409) return; // gone, or changed: a newer event brings it back
      throw e;
    }
  };
  await pods.start();
  const done = runWorkers(queue, o.concurrency ?? 16, reconcile);
  return {
    async stop() {
      pods.stop();
      queue.shutDown();
      await done;
    },
  };
}
