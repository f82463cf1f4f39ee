import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NodeStatsCollector, parseBootTime, parseMeminfo, parseProcStatCpu } from './nodestats.js';

const stat = (user: number) => `cpu  ${user} 0 100 5000 7 0 0 0 0 0\ncpu0 ${user} 0 100 5000 7 0 0 0 0 0\nbtime 1700000000\n`;
const meminfo = 'MemTotal:       1000 kB\nMemFree:         200 kB\nInactive(file):  300 kB\nAnonPages:       250 kB\n';

describe('node stats', () => {
  it('parses /proc/stat and /proc/meminfo as upstream reports the node', () => {
    assert.equal(parseProcStatCpu(stat(900)), 1000 * 1e7);
    assert.equal(parseBootTime(stat(0)), 1700000000);
    assert.deepEqual(parseMeminfo(meminfo, 't'), { time: 't', usageBytes: 800 * 1024, workingSetBytes: 500 * 1024, availableBytes: 500 * 1024, rssBytes: 250 * 1024 });
  });

  it('gives CPU usageNanoCores from two samples, and the data dir filesystem', async () => {
    let at = 1_000_000;
    let user = 900;
    const files: Record<string, () => string> = { '/proc/stat': () => stat(user), '/proc/meminfo': () => meminfo };
    const c = new NodeStatsCollector('/', (f) => files[f](), () => at);
    const first = await c.collect();
    assert.equal(first.nodeCpu?.usageNanoCores, undefined);
    assert.equal(first.nodeStartTime, new Date(1700000000 * 1000).toISOString());
    assert.ok(first.nodeFs && first.nodeFs.capacityBytes! > 0);
    at += 1000;
    user += 50; // 0.5 s of CPU in 1 s
    const second = await c.collect();
    assert.equal(second.nodeCpu?.usageNanoCores, 500_000_000);
  });
});
