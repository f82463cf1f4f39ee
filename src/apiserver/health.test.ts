import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { answerHealth, healthChecks, type HealthCheck } from './health.js';

const q = (s = '') => new URLSearchParams(s);
const ok = (name: string): HealthCheck => ({ name, run: () => undefined });
const failing = (name: string, why = 'connection refused'): HealthCheck => ({
  name,
  run: async () => {
    throw new Error(why);
  },
});

describe('health endpoints', () => {
  it('answers "ok" when every check passes, and lists them with ?verbose', async () => {
    const checks = [ok('ping'), ok('etcd')];
    assert.deepEqual(await answerHealth('livez', checks, undefined, q()), { code: 200, body: 'ok' });
    assert.deepEqual(await answerHealth('livez', checks, undefined, q('verbose')), { code: 200, body: '[+]ping ok\n[+]etcd ok\nlivez check passed\n' });
  });

  it('fails with 500 and the list, withholding the reason, when a check fails', async () => {
    const a = await answerHealth('readyz', [ok('ping'), failing('etcd')], undefined, q());
    assert.deepEqual(a, { code: 500, body: '[+]ping ok\n[-]etcd failed: reason withheld\nreadyz check failed\n' });
  });

  it('skips excluded checks and warns about names that match none', async () => {
    const a = await answerHealth('readyz', [ok('ping'), failing('etcd')], undefined, q('exclude=etcd&exclude=nope&verbose'));
    assert.equal(a?.code, 200);
    assert.equal(a?.body, '[+]ping ok\n[+]etcd excluded: ok\nwarn: some health checks cannot be excluded: no matches for "nope"\nreadyz check passed\n');
  });

  it('serves one check by name with its reason, and nothing for an unknown name', async () => {
    const checks = [ok('ping'), failing('etcd', 'database is locked')];
    assert.deepEqual(await answerHealth('livez', checks, 'ping', q()), { code: 200, body: 'ok' });
    assert.deepEqual(await answerHealth('livez', checks, 'etcd', q()), { code: 500, body: 'internal server error: database is locked\n' });
    assert.equal(await answerHealth('livez', checks, 'nope', q()), undefined);
  });

  it('names the checks as kube-apiserver does; readiness waits for the cache and startup', async () => {
    let ready = false;
    const live = healthChecks('livez', { storage: async () => 1, ready: () => ready });
    const readyz = healthChecks('readyz', { storage: async () => 1, ready: () => ready });
    assert.deepEqual(live.slice(0, 3).map((c) => c.name), ['ping', 'log', 'etcd']);
    assert.deepEqual(readyz.slice(0, 5).map((c) => c.name), ['ping', 'log', 'etcd', 'etcd-readiness', 'informer-sync']);
    assert.equal(readyz.at(-1)!.name, 'shutdown');
    assert.equal((await answerHealth('readyz', readyz, undefined, q()))?.code, 500);
    ready = true;
    assert.deepEqual(await answerHealth('readyz', readyz, undefined, q()), { code: 200, body: 'ok' });
    // Stopping: only readiness's `shutdown` fails; liveness and the start-up checks stay healthy.
    const stopping = { storage: async () => 1, ready: () => true, shuttingDown: () => true };
    assert.deepEqual(await answerHealth('livez', healthChecks('livez', stopping), undefined, q()), { code: 200, body: 'ok' });
    const draining = await answerHealth('readyz', healthChecks('readyz', stopping), undefined, q());
    assert.equal(draining?.code, 500);
    assert.deepEqual(draining?.body.split('\n').filter((l) => l.startsWith('[-]')), ['[-]shutdown failed: reason withheld']);
    const down = healthChecks('livez', { storage: () => Promise.reject(new Error('disk I/O error')), ready: () => true });
    assert.deepEqual(await answerHealth('livez', down, 'etcd', q()), { code: 500, body: 'internal server error: disk I/O error\n' });
  });
});
