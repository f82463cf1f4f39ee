import { it } from 'node:test';
import assert from 'node:assert/strict';
import { SerialQueue } from './serialqueue.js';

it('runs each queued key once, one at a time, reports failures and stops taking work', async () => {
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
  assert.deepEqual(ran, ['a', 'b', 'bad']);
  assert.deepEqual(errors, ['bad: boom']);
  q.stop();
  q.add('c');
  await q.idle();
  assert.deepEqual(ran, ['a', 'b', 'bad']);
});
