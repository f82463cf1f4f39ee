import { it } from 'node:test';
import assert from 'node:assert/strict';
import { SerialQueue } from './serialqueue.js';

it('runs a key queued many times while waiting once, one at a time, reports failures and stops taking work', async () => {
  const ran: string[] = [];
  const errors: string[] = [];
  let inFlight = 0;
  const q = new SerialQueue(
    async (k) => {
      assert.equal(++inFlight, 1, 'one at a time');
      await new Promise((r) => setImmediate(r));
      ran.push(k);
      inFlight--;
      if (k === 'bad') throw new Error('boom');
    },
    (k, e) => errors.push(`${k}: ${(e as Error).message}`),
  );
  for (const k of ['a', 'b', 'a', 'bad', 'b', undefined]) q.add(k);
  await q.idle();
  // 'a' was already running when queued again: it runs once more, after what was waiting.
  assert.deepEqual(ran, ['a', 'b', 'a', 'bad']);
  assert.deepEqual(errors, ['bad: boom']);
  q.stop();
  q.add('c');
  await q.idle();
  assert.deepEqual(ran, ['a', 'b', 'a', 'bad']);
});
