import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newPodInfo, type PodInfo } from './podinfo.js';
import { newDefaultPreemption } from './plugins/defaultpreemption/defaultpreemption.js';
import { mkNode, mkPod, mkWorld, pick, prng, scheduleIn, type TestWorld } from './testutil.js';
import type { Node, Pod } from './types.js';


/** One scheduling attempt and, when it fails, preemption: what the user would see. */
function attempt(w: TestWorld, preempt: ReturnType<typeof newDefaultPreemption>, pod: Pod): string {
  const r = scheduleIn(w, pod);
  if (r.kind === 'scheduled') return `scheduled ${r.node}`;
  if (r.kind === 'error') return `error ${r.message}`;
  const pf = preempt.postFilter!(r.state, newPodInfo(pod), r.fitError.statuses);
  return `${r.fitError.message()} | ${pf.status?.message ?? 'ok'} -> ${pf.result?.nominatedNodeName}`;
}

test('remembered filter and preemption answers equal fresh ones while the cluster changes under a stream of identical pods', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const r = prng(seed);
    const nodes = new Map<string, Node>();
    for (let i = 0; i < 8; i++) nodes.set(`n${i}`, mkNode(`n${i}`, { cpu: '4', labels: { disk: pick(r, ['ssd', 'hdd']) } }));
    const pods = new Map<string, Pod>();
    let seq = 0;
    const addLow = () => {
      const p = mkPod(`low${seq++}`, { cpu: pick(r, ['500m', '1', '2']), priority: pick(r, [1, 5]), nodeName: pick(r, [...nodes.keys()]), creationTimestamp: `2026-01-01T00:00:0${seq % 10}Z` });
      pods.set(p.metadata!.uid!, p);
      return p;
    };
    for (let i = 0; i < 16; i++) addLow();
    // Nominations follow the queue's contract: a node's list is replaced whenever it changes.
    const nominated = new Map<string, PodInfo[]>();
    const w = mkWorld([...nodes.values()], [...pods.values()]);
    let offset = 0;
    const persistent = newDefaultPreemption({}, w.handle, () => offset);
    w.handle.nominatedPodsFor = (n) => nominated.get(n) ?? [];
    const nominatedNodeOf = (uid: string) => [...nominated].find(([, l]) => l.some((p) => p.uid === uid))?.[0];
    w.handle.nominatedNodeOf = nominatedNodeOf;
    let prev: Pod | undefined;
    const cls = pick(r, [{ cpu: '3', priority: 10 }, { cpu: '2', priority: 10, spec: { nodeSelector: { disk: 'ssd' } } }]);
    for (let step = 0; step < 40; step++) {
      const x = r();
      if (x < 0.3) {
        const p = addLow();
        w.cache.addPod(newPodInfo(p));
      } else if (x < 0.55 && pods.size) {
        const uid = pick(r, [...pods.keys()]);
        pods.delete(uid);
        w.cache.removePod(uid);
      } else if (x < 0.75) {
        const n = pick(r, [...nodes.keys()]);
        const np = newPodInfo(mkPod(`nom${seq++}`, { cpu: '1', priority: pick(r, [1, 10, 20]) }));
        nominated.set(n, [...(nominated.get(n) ?? []), np]);
      } else if (x < 0.85 && nominated.size) {
        nominated.delete(pick(r, [...nominated.keys()]));
      } else {
        const old = nodes.get(pick(r, [...nodes.keys()]))!;
        const n = mkNode(old.metadata!.name!, { cpu: pick(r, ['4', '6']), labels: { disk: pick(r, ['ssd', 'hdd']) } });
        nodes.set(n.metadata!.name!, n);
        w.cache.updateNode(old, n);
      }
      offset = r();
      let pod = mkPod(`high${step}`, cls);
      if (prev && r() < 0.3) {
        // The previous pod comes back nominated somewhere: its own nomination must not count against it.
        pod = prev;
        const n = pick(r, [...nodes.keys()]);
        for (const [k, l] of nominated) if (l.some((p) => p.uid === pod.metadata!.uid)) nominated.set(k, l.filter((p) => p.uid !== pod.metadata!.uid));
        nominated.set(n, [...(nominated.get(n) ?? []), newPodInfo(pod)]);
      }
      prev = pod;
      const fresh = mkWorld([...nodes.values()], [...pods.values()]);
      fresh.handle.nominatedPodsFor = (n) => nominated.get(n) ?? [];
      fresh.handle.nominatedNodeOf = nominatedNodeOf;
      const want = attempt(fresh, newDefaultPreemption({}, fresh.handle, () => offset), pod);
      w.ctx.nextStartNodeIndex = 0;
      assert.equal(attempt(w, persistent, pod), want, `seed ${seed} step ${step}`);
    }
    assert.ok(w.fwk.filterMemo.hits > 0, 'the memo was used');
  }
});
