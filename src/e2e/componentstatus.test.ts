/** `kubectl get cs` (v1 ComponentStatus, deprecated upstream but still served) on a cluster with its control plane running. */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { which } from '../testing/real.js';
import { until } from '../testing/wait.js';

describe('kubectl get componentstatuses', () => {
  let c: TestCluster | undefined;
  const skip = which('kubectl') ? undefined : 'kubectl is not on PATH';
  before(async () => {
    if (!skip) c = await startTestCluster({ components: { controllers: true, scheduler: true } });
  });
  after(async () => {
    await c?.stop();
  });

  it('lists the scheduler, the controller manager and the datastore as healthy, with the deprecation warning', { skip }, async () => {
    const r = await until('every component healthy', async () => {
      const x = await c!.kubectl(['get', 'cs']);
      return x.code === 0 && (x.stdout.match(/ Healthy /g) ?? []).length === 3 ? x : undefined;
    });
    assert.match(r.stdout, /^NAME +STATUS +MESSAGE +ERROR\nscheduler +Healthy +ok +\ncontroller-manager +Healthy +ok +\netcd-0 +Healthy +\{"health":"true"\} +\n$/);
    assert.match(r.stderr, /Warning: v1 ComponentStatus is deprecated in v1\.19\+/);
    const del = await c!.kubectl(['delete', 'cs', 'etcd-0']);
    assert.match(del.stderr, /MethodNotAllowed/);
    assert.match((await c!.kubectl(['get', 'cs', 'nope'])).stderr, /componentstatuses "nope" not found/);
  });
});
