import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Executor, type Component } from './component.js';

/** A component whose start resolves when the test says so; records what happened, in order. */
function gated(name: string, trace: string[], after?: string[]) {
  let open!: () => void;
  let fail!: (e: Error) => void;
  const gate = new Promise<void>((res, rej) => ((open = res), (fail = rej)));
  const c: Component = {
    name,
    after,
    start: async () => {
      trace.push(`start ${name}`);
      await gate;
    },
    stop: async () => void trace.push(`stop ${name}`),
  };
  return { c, open, fail };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Executor', () => {
  it('starts components one after another by default', async () => {
    const trace: string[] = [];
    const a = gated('a', trace);
    const b = gated('b', trace);
    const ex = new Executor();
    const run = ex.run([a.c, b.c]);
    await tick();
    assert.deepEqual(trace, ['start a']);
    a.open();
    await tick();
    assert.deepEqual(trace, ['start a', 'start b']);
    b.open();
    await run;
  });

  it('starts side by side what needs only an earlier component, and stops in reverse order of readiness', async () => {
    const trace: string[] = [];
    const api = gated('api', trace);
    const ex = new Executor();
    const first = ex.run([api.c]);
    api.open();
    await first;
    const sched = gated('sched', trace, ['api']);
    const kubelet = gated('kubelet', trace, ['api']);
    const dns = gated('dns', trace, ['kubelet']);
    const run = ex.run([sched.c, kubelet.c, dns.c]);
    await tick();
    assert.deepEqual(trace, ['start api', 'start sched', 'start kubelet']);
    kubelet.open();
    await tick();
    assert.deepEqual(trace.slice(3), ['start dns']);
    dns.open();
    sched.open();
    await run;
    trace.length = 0;
    await ex.stop();
    assert.deepEqual(trace, ['stop sched', 'stop dns', 'stop kubelet', 'stop api']);
  });

  it('fails with the first failure once the others settled, and does not start what needed the failed one', async () => {
    const trace: string[] = [];
    const a = gated('a', trace, []);
    const b = gated('b', trace, []);
    const c = gated('c', trace, ['a']);
    const ex = new Executor();
    const run = ex.run([a.c, b.c, c.c]);
    await tick();
    a.fail(new Error('a broke'));
    await tick();
    b.open();
    await assert.rejects(run, /a broke/);
    assert.ok(!trace.includes('start c'));
    trace.length = 0;
    await ex.stop();
    assert.deepEqual(trace, ['stop b']);
  });

  it('refuses a dependency that is not started before', async () => {
    const ex = new Executor();
    const x = gated('x', [], ['nope']);
    await assert.rejects(ex.run([x.c]), /needs nope/);
  });
});
