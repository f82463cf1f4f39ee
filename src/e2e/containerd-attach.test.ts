/**
 * kubectl attach and exec with stdin on the containerd runtime, end to end with the real kubectl:
 * API server → kubelet → CRI Attach/Exec → containerd's streaming server over SPDY/3.1, where the
 * end of kubectl's stdin becomes the end of the container's (stdinOnce) or the process's.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { createKubelet } from '../kubelet/agent.js';
import { needs, which } from '../testing/real.js';
import { until } from '../testing/wait.js';
import { startTestRegistry, type TestRegistry } from '../images/distribution.js';
import { busyboxImage } from '../images/testimages.js';
import { containerdFixtureMissing } from '../runtime/containerd/testing.js';

describe('kubectl attach and exec -i (containerd runtime)', () => {
  const NODE = 'skiff-ctr-attach';
  let tc: TestCluster | undefined;
  let registry: TestRegistry | undefined;
  let stopKubelet: (() => Promise<void>) | undefined;
  let dir = '';
  // 10.244.20-39: apart from the other containerd tests' ranges.
  const third = randomInt(20, 40);
  const onNode = JSON.stringify({ apiVersion: 'v1', spec: { nodeName: NODE, terminationGracePeriodSeconds: 1 } });

  before(async (t) => {
    if (!needs(t as any, which('kubectl') ? containerdFixtureMissing() : 'kubectl not on PATH')) return;
    registry = await startTestRegistry();
    await registry.publish(busyboxImage('docker.io/library/busybox:latest'), 'library/busybox', 'latest');
    dir = mkdtempSync('/tmp/ska-'); // short: containerd's socket lives under it
    tc = await startTestCluster();
    const client = new RestClient(configFromKubeconfig(tc.kubeconfig, 'containerd-attach-e2e'));
    const comp = createKubelet(client, { nodeName: NODE, dataDir: dir, runtime: 'containerd', registryMirrors: { 'docker.io': [`http://${registry.host}`] }, podCIDR: `10.244.${third}.0/24`, port: 0, resyncMs: 2000 });
    await comp.start();
    stopKubelet = () => comp.stop();
    await until('node registered', async () => ((await tc!.kubectl(['get', 'node', NODE])).code === 0 ? true : undefined), 30_000);
  });

  after(async () => {
    await stopKubelet?.();
    await tc?.stop();
    await registry?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl run -i with piped stdin: the container reads it to its end, and the pod succeeds', async (t) => {
    if (!tc) return void needs(t, containerdFixtureMissing() ?? 'no cluster');
    const r = await tc.kubectl(
      ['run', 'piped', '-i', '--restart=Never', '--image=busybox', '--image-pull-policy=IfNotPresent', `--overrides=${onNode}`, '--pod-running-timeout=50s', '--', 'sh', '-c', 'cat; echo done'],
      { input: 'line one\nline two\n' },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /falling back to streaming logs/);
    assert.match(r.stdout, /line one\nline two\ndone/);
    const phase = await until('pod Succeeded', async () => {
      const p = JSON.parse((await tc!.run(['get', 'pod', 'piped', '-o', 'json'])));
      return p.status.phase === 'Succeeded' || p.status.phase === 'Failed' ? p.status.phase : undefined;
    }, 30_000);
    assert.equal(phase, 'Succeeded');
  });

  it('kubectl exec -i with piped stdin ends when the input does', async (t) => {
    if (!tc) return void needs(t, containerdFixtureMissing() ?? 'no cluster');
    await tc.run(['run', 'sleeper', '--restart=Never', '--image=busybox', '--image-pull-policy=IfNotPresent', `--overrides=${onNode}`, '--', 'sleep', '600']);
    await tc.run(['wait', '--for=jsonpath={.status.phase}=Running', 'pod/sleeper', '--timeout=50s']);
    const input = 'x'.repeat(100 * 1024) + '\n';
    const r = await tc.kubectl(['exec', '-i', 'sleeper', '--', 'sh', '-c', 'wc -c; echo done'], { input });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^\\s*${input.length}\\s*\\ndone\\n$`));
  });
});
