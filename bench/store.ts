/**
 * Storage benchmark: the embedded SQLite backend against a real etcd, measured in one run on this machine.
 *   node dist/bench/store.js [--seconds 2]
 * Puts are `create`s of fresh keys (what the API server does for a new object); watch delivery is the
 * time from issuing a write to its event reaching a watcher, one write in flight at a time.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../src/storage/backend.js';
import { SqliteBackend } from '../src/storage/sqlite.js';
import { EtcdBackend } from '../src/storage/etcd.js';
import { etcdMissing, startEtcd } from '../src/testing/etcd.js';

const argSeconds = process.argv.indexOf('--seconds');
const SECONDS = argSeconds > 0 ? Number(process.argv[argSeconds + 1]) : 2;
const CONCURRENCY = 64;
const VALUE = JSON.stringify({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'bench', namespace: 'default', labels: { app: 'bench' } },
  data: { key: 'x'.repeat(200) },
});

interface Result {
  sequential: number;
  concurrent: number;
  watchP50: number;
  watchP99: number;
}

async function putsPerSecond(b: Backend, workers: number, tag: string): Promise<number> {
  const deadline = performance.now() + SECONDS * 1000;
  let n = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const r = await b.create(`/bench/${tag}/${w}/${i}`, VALUE);
        if (!r.ok) throw new Error('unexpected conflict');
        n++;
      }
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

async function watchLatency(b: Backend): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  let waiting: ((t: number) => void) | undefined;
  const w = b.watch('/bench/watch/', {
    afterRevision: await b.currentRevision(),
    onEvents: () => waiting?.(performance.now()),
    onError: (err) => {
      throw err;
    },
  });
  try {
    const deadline = performance.now() + SECONDS * 1000;
    for (let i = 0; performance.now() < deadline || samples.length < 100; i++) {
      const arrived = new Promise<number>((resolve) => (waiting = resolve));
      const t0 = performance.now();
      await b.create(`/bench/watch/${i}`, VALUE);
      samples.push((await arrived) - t0);
    }
  } finally {
    w.close();
  }
  samples.sort((x, y) => x - y);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!;
  return { p50: q(0.5), p99: q(0.99) };
}

async function measure(b: Backend): Promise<Result> {
  const sequential = await putsPerSecond(b, 1, 'seq');
  const concurrent = await putsPerSecond(b, CONCURRENCY, 'conc');
  const { p50, p99 } = await watchLatency(b);
  return { sequential, concurrent, watchP50: p50, watchP99: p99 };
}

const fmtRate = (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`;
const fmtMs = (n: number) => `${n.toFixed(3)} ms`;

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-store-'));
  let sqlite: Result;
  let etcd: Result | undefined;
  try {
    const s = SqliteBackend.open(join(dir, 'state.db'));
    try {
      sqlite = await measure(s);
    } finally {
      await s.close();
    }
    const missing = etcdMissing();
    if (missing) {
      console.log(`etcd: skipped (${missing})`);
    } else {
      const inst = await startEtcd();
      try {
        const e = await EtcdBackend.connect(inst.endpoints, { prefix: '/skiff-bench' });
        try {
          etcd = await measure(e);
        } finally {
          await e.close();
        }
      } finally {
        await inst.stop();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  console.log(`storage benchmark (${SECONDS}s per measurement, ${VALUE.length}-byte values, ${CONCURRENCY}-way concurrency)`);
  const rows: Array<[string, (r: Result) => number, (n: number) => string]> = [
    ['sequential puts', (r) => r.sequential, fmtRate],
    [`${CONCURRENCY}-way concurrent puts`, (r) => r.concurrent, fmtRate],
    ['watch delivery p50', (r) => r.watchP50, fmtMs],
    ['watch delivery p99', (r) => r.watchP99, fmtMs],
  ];
  console.log(`${'metric'.padEnd(26)}${'sqlite'.padStart(14)}${'etcd'.padStart(14)}${'sqlite/etcd'.padStart(14)}`);
  for (const [label, get, fmt] of rows) {
    const sv = get(sqlite);
    const ev = etcd && get(etcd);
    const ratio = ev ? `${(sv / ev).toFixed(2)}x` : '-';
    console.log(`${label.padEnd(26)}${fmt(sv).padStart(14)}${(ev === undefined ? '-' : fmt(ev)).padStart(14)}${ratio.padStart(14)}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
