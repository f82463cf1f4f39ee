import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import cluster from 'node:cluster';
import { DataPlaneWorkers } from './workers.js';
import { startEcho } from './peers.js';
import { ing } from './fixtures.js';
import { until } from '../testing/wait.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

function get(port: number, path: string, host = 'a.test'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent: false, headers: { host }, timeout: 30_000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within 30 s`)));
    req.on('error', reject);
    req.end();
  });
}

describe('data plane workers', () => {
  it('start, take configurations, serve on one port, merge metrics, log to one file, and stop', async () => {
    const echo = await startEcho('s1');
    const dir = await mkdtemp(path.join(tmpdir(), 'skiff-ingress-'));
    const logFile = path.join(dir, 'access.log');
    const workers = new DataPlaneWorkers({ httpPort: 0, host: '127.0.0.1', workers: 2, metricsPort: 0, accessLogFile: logFile });
    try {
      await workers.start();
      assert.ok(workers.ports.http > 0 && workers.ports.metrics > 0);
      workers.apply({ ingresses: [ing({ name: 'a', host: 'a.test', paths: [{ path: '/', service: 's1' }] })], endpoints: { 'default-s1-80': [{ address: '127.0.0.1', port: echo.port }] } });
      await workers.applied();
      const N = 20;
      for (let i = 0; i < N; i++) assert.equal((await get(workers.ports.http, `/r${i}`)).status, 200);
      // A newer configuration reaches every worker before applied() resolves.
      workers.apply({ ingresses: [ing({ name: 'a', host: 'a.test', paths: [{ path: '/', service: 's1' }, { path: '/new', service: 's1', type: 'Exact' }] })], endpoints: { 'default-s1-80': [{ address: '127.0.0.1', port: echo.port }] } });
      await workers.applied();
      for (let i = 0; i < 4; i++) assert.equal(JSON.parse((await get(workers.ports.http, '/new')).body).url, '/new');
      const page = await get(workers.ports.metrics, '/metrics');
      assert.equal(page.status, 200);
      // Connections spread over both workers; the page counts every request once.
      const count = (path: string) => Number(new RegExp(`skiff_ingress_requests_total\\{ingress="default/a",host="a.test",path="${path}",status="200"\\} (\\d+)`).exec(page.body)?.[1] ?? 0);
      assert.equal(count('/'), N);
      assert.equal(count('/new'), 4);
      assert.match(page.body, /skiff_ingress_config_changes_total 2\n/);
      await workers.stop();
      // Each worker flushes its buffered lines as it stops.
      const lines = (await readFile(logFile, 'utf8')).trim().split('\n');
      assert.equal(lines.length, N + 4);
      assert.ok(lines.every((l) => /^127\.0\.0\.1 - - \[[^\]]+\] "GET \/(r\d+|new) HTTP\/1\.1" 200 \d+ "-" "-" [\d.]+ \[default-s1-80\] 127\.0\.0\.1:\d+ [0-9a-f]{32}$/.test(l)), lines[0]);
    } finally {
      await workers.stop();
      await echo.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reject start on a taken port with its code (as `skiff up` falls back on), and fork no replacement', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve, reject) => taken.once('error', reject).listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    let forks = 0;
    const counted = () => forks++;
    cluster.on('fork', counted);
    const workers = new DataPlaneWorkers({ httpPort: port, host: '127.0.0.1', workers: 2 });
    try {
      await assert.rejects(workers.start(), (e: NodeJS.ErrnoException) => {
        assert.equal(e.code, 'EADDRINUSE');
        assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
        return true;
      });
      // start() settles only once every worker is ready or gone, and a replacement would be forked on
      // exit: so any respawn has been forked by now.
      assert.equal(forks, 2);
      assert.deepEqual(workers.pids(), []);
      assert.equal(Object.keys(cluster.workers ?? {}).length, 0);
    } finally {
      cluster.off('fork', counted);
      await workers.stop();
      await new Promise((r) => taken.close(r));
    }
  });

  it('replace a worker that crashes after it was ready, with the current configuration', async () => {
    const echo = await startEcho('s1');
    const workers = new DataPlaneWorkers({ httpPort: 0, host: '127.0.0.1', workers: 1 });
    try {
      await workers.start();
      workers.apply({ ingresses: [ing({ name: 'a', host: 'a.test', paths: [{ path: '/', service: 's1' }] })], endpoints: { 'default-s1-80': [{ address: '127.0.0.1', port: echo.port }] } });
      await workers.applied();
      const [first] = workers.pids();
      process.kill(first, 'SIGKILL');
      await until('a replacement worker', () => workers.pids().length === 1 && workers.pids()[0] !== first);
      await until('the replacement to serve the configuration', async () => (await get(workers.ports.http, '/x')).status === 200);
    } finally {
      await workers.stop();
      await echo.close();
    }
  });

  it("count rate and connection limits once for all workers, as nginx's shared zones", async () => {
    const echo = await startEcho('s1');
    const workers = new DataPlaneWorkers({ httpPort: 0, host: '127.0.0.1', workers: 2 });
    try {
      await workers.start();
      const eps = { 'default-s1-80': [{ address: '127.0.0.1', port: echo.port }] };
      // limit-rpm 1 with burst multiplier 1: two requests pass, then one a minute; connections spread over both workers.
      workers.apply({ ingresses: [ing({ name: 'a', host: 'a.test', paths: [{ path: '/', service: 's1' }], annotations: { 'limit-rpm': '1', 'limit-burst-multiplier': '1' } })], endpoints: eps });
      await workers.applied();
      const statuses = await Promise.all(Array.from({ length: 10 }, (_, i) => get(workers.ports.http, `/r${i}`).then((r) => r.status)));
      assert.deepEqual([statuses.filter((s) => s === 200).length, statuses.filter((s) => s === 503).length], [2, 8]);
    } finally {
      await workers.stop();
      await echo.close();
    }
  });
});
