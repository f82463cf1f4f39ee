import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { delta, emptyState, NftablesBackend, ProxyRuleState, render, runNft } from './nftables.js';
import { which } from '../../testing/real.js';
import { buildServicePorts, ServiceChangeTracker, servicePortsOf, type ServicePort } from './model.js';

const svc = (name: string, ip: string, extra: any = {}) => ({ metadata: { namespace: 'default', name }, spec: { clusterIP: ip, ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...extra } });
const slice = (svcName: string, ips: string[], ready = true) => ({
  metadata: { namespace: 'default', name: `${svcName}-x`, labels: { 'kubernetes.io/service-name': svcName } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready, serving: ready, terminating: false } })),
});

describe('service proxy rules', () => {
  it('maps ClusterIPs to a random choice of endpoint DNATs, rejects Services without endpoints', () => {
    const ports = buildServicePorts([svc('a', '10.96.0.20'), svc('b', '10.96.0.21'), svc('h', 'None')], [slice('a', ['10.244.0.2', '10.244.0.3']), slice('b', ['10.244.0.4'], false)]);
    assert.deepEqual(ports.map((p) => [p.id, p.endpoints.length]), [['default/a:http', 2], ['default/b:http', 0]]);
    const st = render(ports);
    const svcChain = st.maps.get('service-ips')!.get('10.96.0.20 . tcp . 80')!.replace('goto ', '');
    assert.match(st.chains.get(svcChain)!.join('\n'), /numgen random mod 2 vmap/);
    assert.equal(st.maps.get('no-endpoint-services')!.get('10.96.0.21 . tcp . 80'), 'goto reject-chain');
    const dnats = [...st.chains.values()].flat().filter((r) => r.includes('dnat to'));
    assert.deepEqual(dnats.sort(), ['meta l4proto tcp dnat to 10.244.0.2:8080', 'meta l4proto tcp dnat to 10.244.0.3:8080']);
  });

  it('an endpoint change rewrites only the chains it touches', () => {
    const before = render(buildServicePorts([svc('a', '10.96.0.20'), svc('c', '10.96.0.22')], [slice('a', ['10.244.0.2', '10.244.0.3']), slice('c', ['10.244.0.9'])]));
    const after = render(buildServicePorts([svc('a', '10.96.0.20'), svc('c', '10.96.0.22')], [slice('a', ['10.244.0.2']), slice('c', ['10.244.0.9'])]));
    const d = delta('t', before, after).split('\n');
    assert.ok(d.some((l) => l.startsWith('flush chain ip t svc-')));
    assert.ok(d.some((l) => l.startsWith('delete chain ip t ep-')));
    assert.ok(!d.some((l) => l.includes('10.244.0.9')), 'service c untouched');
    assert.equal(delta('t', after, after), '');
    assert.ok(delta('t', emptyState(), after).includes('add element ip t service-ips'));
  });

  it('external IPs (spec.externalIPs, a LoadBalancer\'s status IPs) reach the Service through its masquerading ext chain', () => {
    const st = render(
      buildServicePorts(
        [svc('a', '10.96.0.20', { externalIPs: ['192.0.2.77'] }), svc('lb', '10.96.0.21', { type: 'LoadBalancer' }), svc('gone', '10.96.0.22', { externalIPs: ['192.0.2.78'] })],
        [slice('a', ['10.244.0.2']), slice('lb', ['10.244.0.3'])],
      ).map((p) => (p.name === 'lb' ? { ...p, externalIPs: ['198.51.100.5'] } : p)),
    );
    const ips = st.maps.get('service-ips')!;
    const ext = ips.get('192.0.2.77 . tcp . 80')!.replace('goto ', '');
    assert.match(ext, /^ext-/);
    assert.deepEqual(st.chains.get(ext), ['jump mark-for-masquerade', ips.get('10.96.0.20 . tcp . 80')]);
    assert.match(ips.get('198.51.100.5 . tcp . 80')!, /^goto ext-/);
    assert.equal(st.maps.get('no-endpoint-services')!.get('192.0.2.78 . tcp . 80'), 'goto reject-chain', 'no endpoints: rejected there too');
    const lb = buildServicePorts([{ ...svc('lb', '10.96.0.21', { type: 'LoadBalancer' }), status: { loadBalancer: { ingress: [{ ip: '198.51.100.5' }, { hostname: 'lb.example' }] } } }], [slice('lb', ['10.244.0.3'])]);
    assert.deepEqual(lb[0].externalIPs, ['198.51.100.5']);
  });

  it('ClientIP affinity adds a timeout set per endpoint', () => {
    const st = render(buildServicePorts([svc('a', '10.96.0.20', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } })], [slice('a', ['10.244.0.2'])]));
    assert.equal([...st.sets.values()][0], 'type ipv4_addr; flags dynamic,timeout; timeout 60s;');
  });
});

const port = (ns: string, name: string, ip: string, eps: string[], extra: Partial<ServicePort> = {}): ServicePort => ({
  id: `${ns}/${name}:http`,
  namespace: ns,
  name,
  portName: 'http',
  clusterIP: ip,
  port: 80,
  protocol: 'TCP',
  endpoints: eps.map((e) => ({ ip: e, port: 8080, ready: true, serving: true, terminating: false })),
  ...extra,
});
const lines = (s: string) => s.split('\n').filter(Boolean);

describe('incremental service proxy rules (ProxyRuleState)', () => {
  const start = () => {
    const st = new ProxyRuleState('t');
    const all = new Map([
      ['default/a', [port('default', 'a', '10.96.0.20', ['10.244.0.2', '10.244.0.3'])]],
      ['default/c', [port('default', 'c', '10.96.0.22', ['10.244.0.9'], { nodePort: 30001 })]],
    ]);
    const p = st.full(all, true, 0);
    assert.match(p.script, /^add table ip t\ndelete table ip t\n/);
    assert.ok(p.script.includes('add element ip t service-nodeports { tcp . 30001 : goto ext-'));
    p.commit();
    return st;
  };

  it('an endpoint change deletes nothing: new Service chain rules go first, the rest waits for cleanup', () => {
    const st = start();
    const before = new Set(st.chainNames());
    const p = st.update(new Map([['default/a', [port('default', 'a', '10.96.0.20', ['10.244.0.2'])]]]), 1000);
    const l = lines(p.script);
    assert.equal(l.length, 1, p.script);
    assert.match(l[0], /^insert rule ip t svc-\w+ goto ep-\w+$/, 'one endpoint left: a plain goto, shadowing the old rules');
    assert.ok(before.has(l[0].split(' ').pop()!), 'to the endpoint chain that was there');
    p.commit();
    assert.equal(st.staleCount, 1, 'the removed endpoint chain');
    assert.equal(st.deadCount, 1, 'the Service chain');
    assert.equal(st.update(new Map([['default/a', [port('default', 'a', '10.96.0.20', ['10.244.0.2'])]]]), 1500).script, '', 'nothing changed, nothing to do');
    assert.equal(st.cleanup(1500, 2000).script, '', 'too young');
    const c = st.cleanup(3000, 2000);
    const cl = lines(c.script);
    assert.deepEqual(cl.map((x) => x.split(' ').slice(0, 2).join(' ')), ['flush chain', 'flush chain', 'add rule', 'delete chain']);
    assert.equal(cl[2], l[0].replace('insert', 'add'), 'the Service chain rewritten with its live rule only');
    c.commit();
    assert.equal(st.staleCount + st.deadCount, 0);
    assert.equal(st.cleanup(1e9, 0).script, '');
  });

  it('adding an endpoint adds its chain and inserts the new choice; one that comes back before cleanup reuses its chain', () => {
    const st = start();
    const p = st.update(new Map([['default/a', [port('default', 'a', '10.96.0.20', ['10.244.0.2', '10.244.0.3', '10.244.0.4'])]]]), 0);
    const l = lines(p.script);
    assert.deepEqual(l.map((x) => x.split(' ').slice(0, 2).join(' ')).sort(), ['add chain', 'add rule', 'add rule', 'insert rule']);
    assert.ok(l.some((x) => x.startsWith('add rule') && x.endsWith('dnat to 10.244.0.4:8080')));
    assert.match(l.find((x) => x.startsWith('insert'))!, /numgen random mod 3 vmap/);
    p.commit();
    st.update(new Map([['default/a', [port('default', 'a', '10.96.0.20', ['10.244.0.2'])]]]), 10).commit();
    assert.equal(st.staleCount, 2);
    const back = st.update(new Map([['default/a', [port('default', 'a', '10.96.0.20', ['10.244.0.2', '10.244.0.3'])]]]), 20);
    assert.deepEqual(lines(back.script).map((x) => x.split(' ').slice(0, 2).join(' ')), ['insert rule'], 'the .3 chain is still there, unchanged');
    back.commit();
    assert.equal(st.staleCount, 1);
  });

  it('off-cluster traffic is masqueraded in the endpoint chains, so Service chains hold only verdicts', () => {
    const st = new ProxyRuleState('t', { clusterCIDR: '10.244.0.0/16' });
    st.full(new Map([['default/a', [port('default', 'a', '10.96.0.20', ['10.244.0.2'])]]]), true, 0).commit();
    const ep = st.chainNames().find((n) => n.startsWith('ep-'))!;
    assert.deepEqual(st.rulesOf(ep), ['ip saddr != 10.244.0.0/16 jump mark-for-masquerade', 'ip saddr 10.244.0.2 jump mark-for-masquerade', 'meta l4proto tcp dnat to 10.244.0.2:8080']);
    const svcChain = st.chainNames().find((n) => n.startsWith('svc-'))!;
    assert.deepEqual(st.rulesOf(svcChain), [`goto ${ep}`]);
  });

  it('no endpoints moves the ClusterIP and NodePort to the reject maps; deleting the Service removes its elements, chains later', () => {
    const st = start();
    const p = st.update(new Map([['default/c', [port('default', 'c', '10.96.0.22', [], { nodePort: 30001 })]]]), 0);
    const l = lines(p.script);
    assert.deepEqual(l.sort(), [
      'add element ip t no-endpoint-nodeports { tcp . 30001 : goto reject-chain }',
      'add element ip t no-endpoint-services { 10.96.0.22 . tcp . 80 : goto reject-chain }',
      'delete element ip t service-ips { 10.96.0.22 . tcp . 80 }',
      'delete element ip t service-nodeports { tcp . 30001 }',
    ]);
    p.commit();
    assert.equal(st.staleCount, 3, 'svc, ext and ep chains');
    assert.equal(st.element('no-endpoint-services', '10.96.0.22 . tcp . 80'), 'goto reject-chain');
    const d = st.update(new Map([['default/c', []]]), 0);
    assert.deepEqual(lines(d.script).sort(), ['delete element ip t no-endpoint-nodeports { tcp . 30001 }', 'delete element ip t no-endpoint-services { 10.96.0.22 . tcp . 80 }']);
    d.commit();
    assert.equal(st.chainNames().length, 3, 'only a’s chains are in use');
    const c = st.cleanup(1e9, 0);
    assert.equal(lines(c.script).filter((x) => x.startsWith('delete chain')).length, 3);
    c.commit();
    assert.equal(st.kernelChainNames().length, 3);
  });

  it('cleanup never deletes a chain something still points at: dead rules and unused chains are emptied with it', () => {
    const st = start();
    // c loses its endpoint (its chains go unused), then gets another one back (its Service chain
    // is reused: the new rule shadows the old one, which still points at the old endpoint chain).
    st.update(new Map([['default/c', [port('default', 'c', '10.96.0.22', [], { nodePort: 30001 })]]]), 0).commit();
    st.update(new Map([['default/c', [port('default', 'c', '10.96.0.22', ['10.244.0.8'], { nodePort: 30001 })]]]), 1500).commit();
    const c = st.cleanup(2500, 2000);
    const l = lines(c.script);
    const gone = l.filter((x) => x.startsWith('delete chain')).map((x) => x.split(' ').pop()!);
    assert.equal(gone.length, 1, 'the old endpoint chain');
    const svcChain = st.element('service-ips', '10.96.0.22 . tcp . 80')!.replace('goto ', '');
    const flushSvc = l.indexOf(`flush chain ip t ${svcChain}`);
    assert.ok(flushSvc >= 0 && flushSvc < l.indexOf(`delete chain ip t ${gone[0]}`), c.script);
    c.commit();
    assert.deepEqual(st.rulesOf(svcChain), [`goto ${st.chainNames().find((n) => n.startsWith('ep-') && st.rulesOf(n)!.some((r) => r.includes('10.244.0.8')))}`]);
  });

  it('a map key two Services claim goes to the first; when it leaves, the other takes it over', () => {
    const st = start();
    // b gets a's ClusterIP (a recreated under another name, say): a keeps it meanwhile.
    const pb = st.update(new Map([['default/b', [port('default', 'b', '10.96.0.20', ['10.244.0.7'])]]]), 0);
    assert.ok(!pb.script.includes('element'), pb.script);
    pb.commit();
    const pa = st.update(new Map([['default/a', []]]), 0);
    const l = lines(pa.script);
    const i = l.indexOf('delete element ip t service-ips { 10.96.0.20 . tcp . 80 }');
    const j = l.findIndex((x) => x.startsWith('add element ip t service-ips { 10.96.0.20 . tcp . 80 : goto svc-'));
    assert.ok(i >= 0 && j > i, pa.script);
    pa.commit();
    const bChain = st.element('service-ips', '10.96.0.20 . tcp . 80')!.replace('goto ', '');
    assert.ok(st.chainNames().includes(bChain));
  });

  it('ClientIP affinity: a timeout change means new sets (a set timeout cannot change); old ones go with cleanup', () => {
    const st = new ProxyRuleState('t');
    const aff = (s: number) => new Map([['default/a', [port('default', 'a', '10.96.0.20', ['10.244.0.2'], { affinitySeconds: s })]]]);
    st.full(aff(60), true, 0).commit();
    const p = st.update(aff(120), 0);
    assert.match(p.script, /add set ip t aff-\w+ \{ type ipv4_addr; flags dynamic,timeout; timeout 120s; \}/);
    p.commit();
    const c = st.cleanup(10_000, 0);
    const l = lines(c.script);
    assert.ok(l.findIndex((x) => x.startsWith('delete set')) > l.findIndex((x) => x.startsWith('delete chain')), 'chains before the sets they use');
    assert.equal(l.filter((x) => x.startsWith('delete set')).length, 1);
  });

  it('a periodic full resync rewrites the table in place (affinity sets keep their entries)', () => {
    const st = start();
    st.update(new Map([['default/a', [port('default', 'a', '10.96.0.20', ['10.244.0.2'])]]]), 0).commit();
    const p = st.full(new Map([['default/a', [port('default', 'a', '10.96.0.20', ['10.244.0.2'])]]]), false, 5);
    assert.ok(!p.script.includes('delete table'));
    assert.ok(p.script.includes('flush map ip t service-ips'));
    assert.equal(lines(p.script).filter((x) => x.startsWith('add element')).length, 1);
    p.commit();
    assert.equal(st.staleCount, 4, 'c’s three chains and a’s old endpoint chain await deletion');
    assert.equal(st.deadCount, 0, 'rewritten chains have no dead rules');
  });

  it('the backend falls back to replacing the table after a failed transaction', async () => {
    const scripts: string[] = [];
    let fail = false;
    const b = new NftablesBackend('t', { run: async (s) => (scripts.push(s), fail ? Promise.reject(new Error('boom')) : undefined), staleDeleteMs: 1e9 });
    await b.update(new Map([['default/a', [port('default', 'a', '10.96.0.20', ['10.244.0.2'])]]]));
    assert.equal(b.lastKind, 'replace');
    await b.update(new Map([['default/b', [port('default', 'b', '10.96.0.21', ['10.244.0.3'])]]]));
    assert.equal(b.lastKind, 'update');
    assert.ok(!scripts[1].includes('10.244.0.2'), 'only b');
    fail = true;
    await assert.rejects(b.update(new Map([['default/b', []]])));
    assert.ok(b.needsFullSync);
    fail = false;
    await b.update(new Map());
    assert.equal(b.lastKind, 'replace');
    assert.ok(scripts[3].includes('dnat to 10.244.0.2:8080') && !scripts[3].includes('10.244.0.3'), 'the replacement holds a and not the deleted b');
    await b.close().catch(() => undefined);
  });
});

describe('incremental service proxy rules against the real nft (root)', () => {
  it('replace, updates, cleanup and an in-place resync leave exactly the chains and elements the state names', async (t) => {
    if (process.getuid?.() !== 0 || !which('nft')) return t.skip('needs root and nft');
    const table = `skiff-proxy-u${randomBytes(3).toString('hex')}`;
    const b = new NftablesBackend(table, { clusterCIDR: '10.244.0.0/16', staleDeleteMs: 1e9 });
    const kernel = () => {
      const j = JSON.parse(execFileSync('nft', ['-j', 'list', 'table', 'ip', table], { encoding: 'utf8' })).nftables;
      const chains = j.filter((x: any) => x.chain).map((x: any) => x.chain.name).filter((n: string) => /^(svc|ep|ext)-/.test(n));
      const elems = (m: string) => (j.find((x: any) => x.map?.name === m)?.map.elem ?? []).length;
      return { chains: chains.sort(), elems: ['service-ips', 'service-nodeports', 'no-endpoint-services'].map(elems), sets: j.filter((x: any) => x.set).length };
    };
    try {
      await b.update(new Map([
        ['default/a', [port('default', 'a', '10.96.0.20', ['10.244.0.2', '10.244.0.3'], { affinitySeconds: 60 })]],
        ['default/c', [port('default', 'c', '10.96.0.22', ['10.244.0.9'], { nodePort: 30001 })]],
      ]));
      assert.deepEqual(kernel().elems, [2, 1, 0]);
      await b.update(new Map([['default/a', [port('default', 'a', '10.96.0.20', ['10.244.0.2'], { affinitySeconds: 60 })]]]));
      await b.update(new Map([['default/c', [port('default', 'c', '10.96.0.22', [], { nodePort: 30001 })]], ['default/d', [port('default', 'd', '10.96.0.23', ['10.244.0.5'])]]]));
      assert.equal(b.lastKind, 'update');
      // c comes back with another endpoint and goes again: its chains are reused, then unused.
      await b.update(new Map([['default/c', [port('default', 'c', '10.96.0.22', ['10.244.0.8'], { nodePort: 30001 })]]]));
      await b.update(new Map([['default/c', [port('default', 'c', '10.96.0.22', [], { nodePort: 30001 })]]]));
      let k = kernel();
      assert.deepEqual(k.elems, [2, 0, 1]);
      assert.deepEqual(k.chains, b.rules.kernelChainNames().sort());
      assert.ok(b.rules.staleCount > 0 && b.rules.deadCount > 0);
      await b.cleanupNow(0);
      assert.equal(b.rules.staleCount + b.rules.deadCount, 0);
      k = kernel();
      assert.deepEqual(k.chains, b.rules.chainNames().sort());
      assert.equal(k.sets, 1);
      // In place: the same content again.
      const full = b.rules.full(new Map([['default/a', [port('default', 'a', '10.96.0.20', ['10.244.0.2'], { affinitySeconds: 60 })]], ['default/c', [port('default', 'c', '10.96.0.22', [], { nodePort: 30001 })]], ['default/d', [port('default', 'd', '10.96.0.23', ['10.244.0.5'])]]]), false, Date.now());
      await runNft(full.script);
      full.commit();
      assert.deepEqual(kernel(), k);
    } finally {
      await b.close();
    }
    assert.throws(() => execFileSync('nft', ['list', 'table', 'ip', table], { stdio: 'pipe' }));
  });
});

describe('random updates and cleanups against the real nft (root)', () => {
  it('nft accepts every transaction, and the table holds exactly what the state says', async (t) => {
    if (process.getuid?.() !== 0 || !which('nft')) return t.skip('needs root and nft');
    for (const s0 of [42, 7, 1234]) await randomRun(s0);
  });
});

async function randomRun(s0: number): Promise<void> {
  {
    const table = `skiff-proxy-r${randomBytes(3).toString('hex')}`;
    let now = 0;
    const b = new NftablesBackend(table, { clusterCIDR: '10.244.0.0/16', staleDeleteMs: 1e12, now: () => now });
    let seed = s0;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const svcPorts = (i: number): ServicePort[] => {
      if (rnd(6) === 0) return [];
      const eps = Array.from({ length: rnd(4) }, () => `10.244.1.${1 + rnd(6)}`);
      return [port('default', `s${i}`, `10.96.1.${i}`, [...new Set(eps)], { nodePort: rnd(2) ? 30100 + i : undefined, affinitySeconds: rnd(3) === 0 ? 60 + rnd(2) : undefined })];
    };
    try {
      await b.update(new Map(Array.from({ length: 6 }, (_, i) => [`default/s${i}`, svcPorts(i)])));
      for (let step = 0; step < 60; step++) {
        now += 500;
        if (rnd(4) === 0) await b.cleanupNow(1000);
        else await b.update(new Map(Array.from({ length: 1 + rnd(2) }, () => rnd(6)).map((i) => [`default/s${i}`, svcPorts(i)])));
      }
      now += 10_000;
      await b.cleanupNow(0);
      const j = JSON.parse(execFileSync('nft', ['-j', 'list', 'table', 'ip', table], { encoding: 'utf8' })).nftables;
      const chains = j.filter((x: any) => x.chain && /^(svc|ep|ext)-/.test(x.chain.name)).map((x: any) => x.chain.name).sort();
      assert.deepEqual(chains, b.rules.chainNames().sort());
      const elems = j.filter((x: any) => x.map).flatMap((x: any) => (x.map.elem ?? []).map(() => x.map.name));
      assert.ok(elems.length >= 1);
    } finally {
      await b.close();
    }
  }
}

describe('service change tracker', () => {
  it('names the Services whose Service or slices changed, and indexes slices by Service', () => {
    const t = new ServiceChangeTracker();
    t.service({ metadata: { namespace: 'default', name: 'a' } });
    t.slice(undefined, slice('a', ['10.244.0.2']));
    assert.deepEqual(t.take(), ['default/a']);
    assert.deepEqual(t.take(), []);
    const moved = { ...slice('a', []), metadata: { ...slice('a', []).metadata, labels: { 'kubernetes.io/service-name': 'b' } } };
    t.slice(slice('a', ['10.244.0.2']), moved);
    assert.deepEqual(t.take().sort(), ['default/a', 'default/b']);
    assert.deepEqual(t.slicesOf('default/a'), []);
    assert.deepEqual(t.slicesOf('default/b'), ['default/a-x']);
    t.slice(moved, undefined);
    assert.deepEqual(t.take(), ['default/b']);
    assert.deepEqual(t.slicesOf('default/b'), []);
  });

  it('servicePortsOf gives what buildServicePorts gives for one Service', () => {
    const s = svc('a', '10.96.0.20');
    const sl = [slice('a', ['10.244.0.3', '10.244.0.2'])];
    assert.deepEqual(servicePortsOf(s, sl), buildServicePorts([s], sl));
    assert.deepEqual(servicePortsOf(undefined, sl), []);
    assert.deepEqual(servicePortsOf(svc('h', 'None'), []), []);
  });
});
