import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ResourceScraper, parseResourceMetrics, usageBetween } from './scraper.js';
import { nodeMetrics, podMetrics } from './api.js';

const page = (t: number, node: number, ctr: number, mem = 2 * 1024 * 1024) => `# TYPE node_cpu_usage_seconds_total counter
node_cpu_usage_seconds_total ${node} ${t}
node_memory_working_set_bytes 1073741824 ${t}
container_cpu_usage_seconds_total{container="c",namespace="default",pod="p"} ${ctr} ${t}
container_memory_working_set_bytes{container="c",namespace="default",pod="p"} ${mem} ${t}
container_start_time_seconds{container="c",namespace="default",pod="p"} 1000 1000000
resource_scrape_error 0
`;

describe('resource metrics pipeline', () => {
  it('rates CPU between two samples, as metrics-server', () => {
    const a = parseResourceMetrics(page(1_000_000, 100, 1));
    const b = parseResourceMetrics(page(1_015_000, 101.5, 1.15));
    const n = usageBetween(a.node, b.node)!;
    assert.equal(n.cpuNanoCores, 100_000_000);
    assert.equal(n.windowMs, 15_000);
    const c = usageBetween(a.pods.get('default/p')!.get('c'), b.pods.get('default/p')!.get('c')!)!;
    assert.equal(c.cpuNanoCores, 10_000_000);
    assert.equal(usageBetween(b.node, a.node), undefined, 'time going backwards gives nothing');
    assert.equal(usageBetween(undefined, b.node), undefined);
  });

  it('formats NodeMetrics and PodMetrics like metrics-server', () => {
    const u = { cpuNanoCores: 123456, memoryBytes: 12345 * 1024, timestamp: Date.parse('2026-01-02T03:04:05.678Z'), windowMs: 15020 };
    const nm = nodeMetrics({ metadata: { name: 'n', labels: { a: 'b' } } }, u, 0);
    assert.deepEqual(nm, { kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name: 'n', creationTimestamp: '1970-01-01T00:00:00Z', labels: { a: 'b' } }, timestamp: '2026-01-02T03:04:05Z', window: '15.02s', usage: { cpu: '123456n', memory: '12345Ki' } });
    const pm = podMetrics({ metadata: { name: 'p', namespace: 'd' } }, { timestamp: u.timestamp, windowMs: 15000, containers: [{ name: 'c', usage: u }] }, 0);
    assert.deepEqual(pm.containers, [{ name: 'c', usage: { cpu: '123456n', memory: '12345Ki' } }]);
    assert.equal(pm.metadata.namespace, 'd');
  });

  it('scrapes a pair at first, then at most once per resolution', async () => {
    let now = 1_000_000;
    let cpu = 10;
    let fetches = 0;
    let extra = false;
    const s = new ResourceScraper({
      nodes: async () => [{ metadata: { name: 'n1' } }],
      fetch: async () => {
        fetches++;
        cpu += 0.5;
        now += 1000;
        const q = extra ? `container_cpu_usage_seconds_total{container="c",namespace="default",pod="q"} ${cpu} ${now}\ncontainer_memory_working_set_bytes{container="c",namespace="default",pod="q"} 4096 ${now}\n` : '';
        return page(now, 100 + cpu, cpu) + q;
      },
      now: () => now,
      pairGapMs: 0,
    });
    const first = await s.get();
    assert.equal(fetches, 2);
    assert.equal(first.nodes.get('n1')!.cpuNanoCores, 500_000_000);
    assert.equal(first.pods.get('default/p')!.containers[0].usage.cpuNanoCores, 500_000_000);
    await s.get();
    assert.equal(fetches, 2, 'cached within the resolution');
    now += 20_000;
    await s.get();
    assert.equal(fetches, 3, 'one scrape once the last pair is recent');
    extra = true;
    now += 20_000;
    const withNew = await s.get();
    assert.equal(fetches, 5, 'a new pod: a second sample at once');
    assert.ok(withNew.pods.has('default/q'));
  });
});

describe('metrics API tables (kubectl get pods.metrics.k8s.io)', () => {
  it('Name, cpu, memory, Window; a pod sums its containers', async () => {
    const { metricsTable } = await import('./api.js');
    const pod = { metadata: { name: 'p', namespace: 'd' }, window: '15s', containers: [{ name: 'a', usage: { cpu: '1m', memory: '1Mi' } }, { name: 'b', usage: { cpu: '500u', memory: '1Ki' } }] };
    const t = metricsTable([pod], undefined);
    assert.deepEqual(t.columnDefinitions.map((c) => c.name), ['Name', 'cpu', 'memory', 'Window']);
    assert.deepEqual(t.rows[0].cells, ['p', '1500u', '1025Ki', '15s']);
    assert.equal(t.rows[0].object.kind, 'PartialObjectMetadata');
  });
});
