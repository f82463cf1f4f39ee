import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WriteLanes } from './lanes.js';
import { KubeletEvents } from './events.js';
import { until } from '../testing/wait.js';

const deferred = () => {
  let resolve!: () => void;
  const p = new Promise<void>((r) => (resolve = r));
  return { p, resolve };
};

describe('write lanes', () => {
  it('holds low-priority writes while a status write or a sync is under way', async () => {
    const lanes = new WriteLanes({ quietMs: 0, maxLowDelayMs: 60_000 });
    const order: string[] = [];
    const status = deferred();
    const done = lanes.busy();
    const high = lanes.high(async () => {
      await status.p;
      order.push('status');
    });
    lanes.low(async () => void order.push('event'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, [], 'nothing low while the status is in flight');
    status.resolve();
    await high;
    assert.deepEqual(order, ['status'], 'still busy: a sync is running');
    done();
    await until('event sent', () => order.length === 2);
    assert.deepEqual(order, ['status', 'event']);
    lanes.close();
  });

  it('bounds status writes in flight', async () => {
    const lanes = new WriteLanes({ highConcurrency: 2 });
    let inFlight = 0;
    let max = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        lanes.high(async () => {
          max = Math.max(max, ++inFlight);
          await new Promise((r) => setImmediate(r));
          inFlight--;
        }),
      ),
    );
    assert.equal(max, 2);
    lanes.close();
  });

  it('never starves low-priority writes past maxLowDelayMs', async () => {
    const lanes = new WriteLanes({ quietMs: 0, maxLowDelayMs: 20 });
    lanes.busy(); // a node that never goes quiet
    let sent = false;
    lanes.low(async () => void (sent = true));
    await until('event sent despite a busy node', () => sent);
    lanes.close();
  });
});

describe('kubelet events', () => {
  const fakeClient = () => {
    const calls: { method: string; path: string; body: any }[] = [];
    return {
      calls,
      client: {
        create: async (path: string, body: any) => void calls.push({ method: 'POST', path, body }),
        patch: async (path: string, body: any) => void calls.push({ method: 'PATCH', path, body }),
      } as any,
    };
  };
  const ref = { apiVersion: 'v1', kind: 'Pod', name: 'p', namespace: 'ns', uid: 'u1' };

  it('keeps the time of the step, folds repeats that are still waiting, and patches the count later', async () => {
    const { client, calls } = fakeClient();
    const lanes = new WriteLanes({ quietMs: 0, maxLowDelayMs: 60_000 });
    const ev = new KubeletEvents(client, { component: 'kubelet', host: 'n1' }, lanes);
    const done = lanes.busy();
    const before = Date.now();
    ev.event(ref, 'Warning', 'BackOff', 'Back-off restarting failed container');
    ev.event(ref, 'Warning', 'BackOff', 'Back-off restarting failed container');
    ev.event(ref, 'Normal', 'Started', 'Started container c');
    assert.equal(calls.length, 0, 'held while the node is busy');
    done();
    await until('sent', () => calls.length === 2);
    const backoff = calls.find((c) => c.body.reason === 'BackOff')!;
    assert.equal(backoff.method, 'POST');
    assert.equal(backoff.path, '/api/v1/namespaces/ns/events');
    assert.equal(backoff.body.count, 2);
    assert.equal(backoff.body.involvedObject.uid, 'u1');
    assert.equal(backoff.body.source.host, 'n1');
    assert.ok(Date.parse(backoff.body.eventTime) >= before - 1 && Date.parse(backoff.body.eventTime) <= Date.now());
    ev.event(ref, 'Warning', 'BackOff', 'Back-off restarting failed container');
    await until('count patched', () => calls.length === 3);
    assert.equal(calls[2].method, 'PATCH');
    assert.equal(calls[2].path, `/api/v1/namespaces/ns/events/${backoff.body.metadata.name}`);
    assert.equal(calls[2].body.count, 3);
    lanes.close();
  });

  it('counts every repeat when the lane is idle (the write starts at once)', async () => {
    const { client, calls } = fakeClient();
    const lanes = new WriteLanes({ quietMs: 0, maxLowDelayMs: 60_000 });
    const ev = new KubeletEvents(client, { component: 'kubelet', host: 'n1' }, lanes);
    for (let i = 1; i <= 4; i++) {
      ev.event(ref, 'Warning', 'Unhealthy', 'Liveness probe failed: probing');
      await until(`occurrence ${i} written`, () => calls.length === i);
      assert.equal(calls[i - 1].body.count, i);
    }
    lanes.close();
  });
});
