import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LimitServer, LocalGate, RemoteGate, type LimitReply, type LimitRequest } from './limitgate.js';
import type { LimitConfig } from './annotations/limits.js';

const cfg = (o: Partial<LimitConfig>): LimitConfig => ({ rps: 0, rpm: 0, connections: 0, burstMultiplier: 5, exempt: null, ...o });

/** Workers wired to one LimitServer with a queue in between, as IPC delivers later. */
function wired(server: LimitServer) {
  const queue: (() => void)[] = [];
  const gate = (name: string) => {
    const g: RemoteGate = new RemoteGate((m: LimitRequest) =>
      queue.push(() => {
        const reply: LimitReply | undefined = server.handle(name, m);
        if (reply) queue.push(() => g.onReply(reply));
      }),
    );
    return g;
  };
  const flush = () => {
    while (queue.length) queue.shift()!();
  };
  return { gate, flush };
}

describe('limit gates', () => {
  it('a LocalGate answers at once; unlimited locations never ask', () => {
    const g = new LocalGate();
    const got: boolean[] = [];
    for (let i = 0; i < 3; i++) g.check(cfg({ connections: 2 }), 'z', '1.1.1.1', (ok) => got.push(ok));
    assert.deepEqual(got, [true, true, false]);
    const sent: LimitRequest[] = [];
    new RemoteGate((m) => sent.push(m)).check(cfg({}), 'z', '1.1.1.1', (ok) => assert.equal(ok, true));
    assert.equal(sent.length, 0);
  });

  it('workers share the primary\'s counters: rate and connections count once for all', () => {
    const now = 0;
    const server = new LimitServer(() => now);
    const { gate, flush } = wired(server);
    const [a, b] = [gate('w1'), gate('w2')];
    const oks: boolean[] = [];
    // limit-rps 1, multiplier 1: burst 1, so two at once, across both workers.
    for (const g of [a, b, a, b]) g.check(cfg({ rps: 1, burstMultiplier: 1 }), 'ns/a', '2.2.2.2', (ok) => oks.push(ok));
    flush();
    assert.deepEqual(oks, [true, true, false, false]);
    // limit-connections 2: a third connection waits for a release.
    const releases: (() => void)[] = [];
    const conn = (g: RemoteGate) => g.check(cfg({ connections: 2 }), 'ns/b', '3.3.3.3', (ok, release) => (oks.push(ok), ok && releases.push(release)));
    oks.length = 0;
    conn(a);
    conn(b);
    conn(b);
    flush();
    assert.deepEqual(oks, [true, true, false]);
    releases[0]();
    releases[0](); // twice is once
    flush();
    conn(a);
    conn(a);
    flush();
    assert.deepEqual(oks, [true, true, false, true, false]);
  });

  it('a worker that exits gives its connection slots back', () => {
    const server = new LimitServer(() => 0);
    const { gate, flush } = wired(server);
    const oks: boolean[] = [];
    const c = cfg({ connections: 1 });
    gate('w1').check(c, 'z', '4.4.4.4', (ok) => oks.push(ok));
    flush();
    gate('w2').check(c, 'z', '4.4.4.4', (ok) => oks.push(ok));
    flush();
    server.workerGone('w1');
    gate('w2').check(c, 'z', '4.4.4.4', (ok) => oks.push(ok));
    flush();
    assert.deepEqual(oks, [true, false, true]);
  });
});
