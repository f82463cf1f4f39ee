import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue, runWorkers, type Clock } from './workqueue.js';

function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  let timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => now,
    setTimeout(fn, ms) {
      const t = { at: now + ms, fn };
      timers.push(t);
      return t;
    },
    clearTimeout(h) {
      timers = timers.filter((t) => t !== h);
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.at <= now).sort((a, b) => a.at - b.at);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.fn();
    },
  };
}

describe('WorkQueue', () => {
  it('de-duplicates queued keys and never hands one key to two workers', async () => {
    const q = new WorkQueue<string>();
    q.add('a');
    q.add('a');
    q.add('b');
    assert.equal(q.length, 2);
    const k = await q.get();
    assert.equal(k, 'a');
    q.add('a'); // while processing: held back until done()
    assert.equal(await q.get(), 'b');
    assert.equal(q.length, 0);
    q.done('a');
    assert.equal(await q.get(), 'a');
  });

  it('backs off failed keys exponentially and forgets on success', () => {
    const clock = fakeClock();
    const q = new WorkQueue<string>({ baseMs: 10, maxMs: 1000 }, clock);
    q.addRateLimited('x');
    q.addRateLimited('x');
    assert.equal(q.numRequeues('x'), 2);
    clock.advance(9);
    assert.equal(q.length, 0);
    clock.advance(1);
    assert.equal(q.length, 1);
    q.forget('x');
    assert.equal(q.numRequeues('x'), 0);
  });

  it('runs workers until shutdown, requeueing errors', async () => {
    const q = new WorkQueue<string>({ baseMs: 1, maxMs: 5 });
    const seen: string[] = [];
    let failOnce = true;
    const done = runWorkers(q, 2, async (k) => {
      if (k === 'bad' && failOnce) {
        failOnce = false;
        throw new Error('transient');
      }
      seen.push(k);
      if (seen.length === 2) q.shutDown();
    });
    q.add('ok');
    q.add('bad');
    await done;
    assert.deepEqual(seen.sort(), ['bad', 'ok']);
  });
});
