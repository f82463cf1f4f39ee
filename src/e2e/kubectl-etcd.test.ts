import { test } from 'node:test';
import { kubectlSuite } from './kubectl-suite.js';
import { startTestCluster } from '../testing/cluster.js';
import { etcdMissing, startEtcd, type EtcdInstance } from '../testing/etcd.js';
import { needs } from '../testing/real.js';

/** The same acceptance suite with a real etcd as the datastore. */
const missing = etcdMissing();
if (missing) {
  test('kubectl against skiff (etcd)', (t) => {
    needs(t, missing);
  });
} else {
  let etcd: EtcdInstance | undefined;
  kubectlSuite('etcd', async () => {
    etcd = await startEtcd();
    const datastore = `etcd://${etcd.endpoints.map((e) => e.replace(/^https?:\/\//, '')).join(',')}`;
    const c = await startTestCluster({ datastore });
    const stop = c.stop;
    c.stop = async () => {
      await stop();
      await etcd?.stop();
    };
    return c;
  });
}
