import { after, before, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdBackend } from './etcd.js';
import { backendContract } from './contract.js';
import { BackendUnavailableError } from './errors.js';
import { etcdMissing, startEtcd, type EtcdInstance } from '../testing/etcd.js';
import { needs } from '../testing/real.js';

const missing = etcdMissing();

if (missing) {
  test('etcd backend', (t) => {
    needs(t, missing);
  });
} else {
  // One etcd for the whole file; each test gets its own key prefix.
  let etcd: EtcdInstance;
  let n = 0;
  before(async () => {
    etcd = await startEtcd();
  });
  after(async () => {
    await etcd?.stop();
  });

  backendContract('etcd', async () => {
    const backend = await EtcdBackend.connect(etcd.endpoints, { prefix: `/contract-${n++}` });
    return { backend, cleanup: () => backend.close() };
  });

  describe('etcd backend', () => {
    it('keeps prefixed stores apart', async () => {
      const a = await EtcdBackend.connect(etcd.endpoints, { prefix: '/iso-a' });
      const b = await EtcdBackend.connect(etcd.endpoints, { prefix: '/iso-b' });
      try {
        assert.ok((await a.create('/k', 'from a')).ok);
        assert.equal((await b.get('/k')).kv, undefined);
        assert.equal(await b.count(''), 0);
        assert.deepEqual((await a.list('')).kvs.map((kv) => kv.key), ['/k']);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('fails clearly when etcd is unreachable', async () => {
      // Port 9 (discard) on loopback: nothing listens there.
      await assert.rejects(EtcdBackend.connect(['http://127.0.0.1:9']), BackendUnavailableError);
    });
  });
}
