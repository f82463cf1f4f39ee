/**
 * The DNS server on real loopback sockets (UDP and TCP) around a static zone: the wire through
 * dns-packet, AAAA, truncation over UDP and the full answer over TCP, TCP framing with pipelined
 * queries, the answer cache (ID patched, dropped on a zone change), FORMERR, and forwarding.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { ClusterZone, sliceEndpoints, type ZoneData } from './zone.js';
import { createDnsServer, ensureKubeDnsService, type DnsServer } from './server.js';
import { RCODE, TcpDeframer, decodeMessage, encodeQuery, encodeResponse, frameTcp, parseQuery } from './wire.js';

const services = new Map<string, any>([
  ['default/web', { metadata: { namespace: 'default', name: 'web' }, spec: { clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5'], ports: [{ name: 'http', port: 80 }] } }],
  ['default/dual', { metadata: { namespace: 'default', name: 'dual' }, spec: { clusterIP: '10.96.0.6', clusterIPs: ['10.96.0.6', 'fd00:10:96::6'], ports: [{ name: 'http', port: 80 }] } }],
  ['default/ext', { metadata: { namespace: 'default', name: 'ext' }, spec: { type: 'ExternalName', externalName: 'db.example.test' } }],
  ['default/alias', { metadata: { namespace: 'default', name: 'alias' }, spec: { type: 'ExternalName', externalName: 'dual.default.svc.cluster.local' } }],
  ['default/big', { metadata: { namespace: 'default', name: 'big' }, spec: { clusterIP: 'None', ports: [{ name: 'http', port: 80 }] } }],
]);
const bigSlice = {
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  endpoints: Array.from({ length: 60 }, (_, i) => ({ addresses: [`10.244.1.${i + 1}`], conditions: { ready: true } })),
};
let gen = 1;
const data: ZoneData = {
  service: (ns, n) => services.get(`${ns}/${n}`),
  namespaceExists: (ns) => ns === 'default',
  endpoints: (ns, n) => (n === 'big' ? sliceEndpoints([bigSlice]) : []),
  serviceByIP: () => undefined,
  generation: () => gen,
};

function udpQuery(port: number, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const timer = setTimeout(() => (s.close(), reject(new Error('no UDP answer'))), 5000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolve(m);
    });
    s.send(msg, port, '127.0.0.1');
  });
}

/** Sends all messages in one write (pipelined) and collects as many answers. */
function tcpQueries(port: number, msgs: Buffer[]): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const frames = new TcpDeframer();
    const s = net.connect(port, '127.0.0.1', () => {
      // Split the stream at an awkward place to exercise reassembly.
      const all = Buffer.concat(msgs.map(frameTcp));
      s.write(all.subarray(0, 3));
      setImmediate(() => s.write(all.subarray(3)));
    });
    const timer = setTimeout(() => (s.destroy(), reject(new Error('no TCP answer'))), 5000);
    s.on('data', (d) => {
      out.push(...frames.push(d));
      if (out.length === msgs.length) {
        clearTimeout(timer);
        s.end();
        resolve(out);
      }
    });
    s.on('error', reject);
  });
}

/** Resolves when listening, rejects on an error (a bare listen callback would wait forever on EADDRINUSE). */
function listenOn(server: net.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => (server.off('error', reject), resolve()));
  });
}

/**
 * A UDP socket and a TCP server on one port, as a DNS server has. The TCP port is the kernel's choice;
 * the same UDP port may be taken by another process, so a clash means another try with fresh sockets.
 */
async function bindPair(makeUdp: () => dgram.Socket, makeTcp: () => net.Server): Promise<{ udp: dgram.Socket; tcp: net.Server }> {
  for (let attempt = 1; ; attempt++) {
    const tcp = makeTcp();
    await listenOn(tcp, 0);
    const udp = makeUdp();
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind((tcp.address() as net.AddressInfo).port, '127.0.0.1', () => (udp.off('error', reject), resolve()));
      });
      return { udp, tcp };
    } catch (e) {
      udp.close();
      tcp.close();
      if (attempt >= 20) throw e;
    }
  }
}

const answers = (m: Buffer) => (decodeMessage(m).answers ?? []).map((a: any) => `${a.name} ${a.type} ${typeof a.data === 'object' ? JSON.stringify(a.data) : a.data}`);

describe('DNS server (loopback sockets)', () => {
  let dns: DnsServer;
  let upstream: dgram.Socket;
  let upstreamTcp: net.Server;
  const asked = new Map<string, number>();
  before(async () => {
    // A stub upstream: answers every name with 192.0.2.99.
    // Over UDP `big.example.test` comes back truncated; over TCP (same port) it comes in full.
    ({ udp: upstream, tcp: upstreamTcp } = await bindPair(
      () => {
        const u = dgram.createSocket('udp4');
        u.on('message', (m, r) => {
          const q = parseQuery(m);
          asked.set(q.questions[0].name, (asked.get(q.questions[0].name) ?? 0) + 1);
          const big = q.questions[0].name === 'big.example.test';
          u.send(encodeResponse({ id: q.id, rd: q.rd, aa: false, ra: true, rcode: RCODE.NOERROR, tc: big, questions: q.questions, answers: big ? [] : [{ name: q.questions[0].name, type: 'A', ttl: 60, class: 'IN', data: '192.0.2.99' }], authority: [], additional: [] }), r.port, r.address);
        });
        return u;
      },
      () =>
        net.createServer((sock) => {
          const frames = new TcpDeframer();
          sock.on('data', (d) => {
            for (const m of frames.push(d)) {
              const q = parseQuery(m);
              const answers = Array.from({ length: 40 }, (_, i) => ({ name: q.questions[0].name, type: 'A' as const, ttl: 60, class: 'IN' as const, data: `192.0.2.${i + 1}` }));
              sock.write(frameTcp(encodeResponse({ id: q.id, rd: q.rd, aa: false, ra: true, rcode: RCODE.NOERROR, questions: q.questions, answers, authority: [], additional: [] })));
            }
          });
        }),
    ));
    dns = createDnsServer(new ClusterZone(data, { domain: 'cluster.local', ttl: 5 }), { host: '127.0.0.1', port: 0, upstreams: [`127.0.0.1:${upstream.address().port}`] });
    await dns.start();
  });
  after(async () => {
    await dns?.stop();
    upstream?.close();
    upstreamTcp?.close();
  });

  it('answers A and AAAA over UDP, authoritative, ID and question echoed', async () => {
    const r = decodeMessage(await udpQuery(dns.port, encodeQuery(4242, 'Dual.Default.svc.cluster.local', 'AAAA')));
    assert.equal(r.id, 4242);
    assert.equal(r.rcode, 'NOERROR');
    assert.equal(r.flag_aa, true);
    assert.equal(r.flag_rd, true);
    assert.deepEqual(r.questions, [{ name: 'Dual.Default.svc.cluster.local', type: 'AAAA', class: 'IN' }]);
    assert.deepEqual(answers(await udpQuery(dns.port, encodeQuery(1, 'dual.default.svc.cluster.local', 'AAAA'))), ['dual.default.svc.cluster.local AAAA fd00:10:96::6']);
    assert.deepEqual(answers(await udpQuery(dns.port, encodeQuery(2, 'dual.default.svc.cluster.local', 'A'))), ['dual.default.svc.cluster.local A 10.96.0.6']);
    const nodata = decodeMessage(await udpQuery(dns.port, encodeQuery(3, 'web.default.svc.cluster.local', 'AAAA')));
    assert.equal(nodata.rcode, 'NOERROR');
    assert.equal(nodata.answers!.length, 0);
    assert.equal(nodata.authorities![0].type, 'SOA');
    // HTTPS (type 65, which dns-packet does not name) round-trips: NODATA for an existing name.
    const https = decodeMessage(await udpQuery(dns.port, encodeQuery(5, 'dual.default.svc.cluster.local', 'UNKNOWN_65')));
    assert.equal(https.rcode, 'NOERROR');
    assert.equal(https.questions![0].type, 'UNKNOWN_65');
    assert.equal(https.answers!.length, 0);
    const nx = decodeMessage(await udpQuery(dns.port, encodeQuery(4, 'nope.default.svc.cluster.local', 'AAAA')));
    assert.equal(nx.rcode, 'NXDOMAIN');
  });

  it('serves a repeated query from the cache with its own ID, and drops the cache on a zone change', async () => {
    const a = await udpQuery(dns.port, encodeQuery(100, 'web.default.svc.cluster.local', 'A'));
    const b = await udpQuery(dns.port, encodeQuery(200, 'web.default.svc.cluster.local', 'A'));
    assert.equal(a.readUInt16BE(0), 100);
    assert.equal(b.readUInt16BE(0), 200);
    assert.deepEqual(a.subarray(2), b.subarray(2));
    services.get('default/web').spec = { clusterIP: '10.96.0.50', clusterIPs: ['10.96.0.50'], ports: [{ name: 'http', port: 80 }] };
    gen++;
    assert.deepEqual(answers(await udpQuery(dns.port, encodeQuery(300, 'web.default.svc.cluster.local', 'A'))), ['web.default.svc.cluster.local A 10.96.0.50']);
  });

  it('truncates over UDP (TC, what fits), answers in full over TCP and within an EDNS0 buffer', async () => {
    const raw = await udpQuery(dns.port, encodeQuery(7, 'big.default.svc.cluster.local', 'A'));
    assert.ok(raw.length <= 512, `${raw.length} bytes fit a plain UDP answer`);
    const udp = decodeMessage(raw);
    assert.equal(udp.flag_tc, true);
    assert.ok(udp.answers!.length > 0 && udp.answers!.length < 60, `partial answer (${udp.answers!.length})`);
    const [tcp] = await tcpQueries(dns.port, [encodeQuery(8, 'big.default.svc.cluster.local', 'A')]);
    const t = decodeMessage(tcp);
    assert.equal(t.flag_tc, false);
    assert.equal(t.answers!.length, 60);
    const edns = decodeMessage(await udpQuery(dns.port, encodeQuery(9, 'big.default.svc.cluster.local', 'A', true, 4096)));
    assert.equal(edns.flag_tc, false);
    assert.equal(edns.answers!.length, 60);
    assert.ok(edns.additionals!.some((r) => r.type === 'OPT'), 'OPT echoed');
  });

  it('answers pipelined TCP queries in one stream, each framed', async () => {
    const rs = await tcpQueries(dns.port, [encodeQuery(11, 'dual.default.svc.cluster.local', 'A'), encodeQuery(12, 'dual.default.svc.cluster.local', 'AAAA'), encodeQuery(13, 'www.example.test', 'A')]);
    const byId = new Map(rs.map((m) => [m.readUInt16BE(0), answers(m)]));
    assert.deepEqual(byId.get(11), ['dual.default.svc.cluster.local A 10.96.0.6']);
    assert.deepEqual(byId.get(12), ['dual.default.svc.cluster.local AAAA fd00:10:96::6']);
    assert.deepEqual(byId.get(13), ['www.example.test A 192.0.2.99']);
  });

  it('forwards other names and keeps the client ID', async () => {
    const r = await udpQuery(dns.port, encodeQuery(31337, 'www.example.test', 'A'));
    assert.equal(r.readUInt16BE(0), 31337);
    assert.deepEqual(answers(r), ['www.example.test A 192.0.2.99']);
  });

  it('answers a repeated outside name from the forward cache', async () => {
    const first = await udpQuery(dns.port, encodeQuery(81, 'cached.example.test', 'A'));
    const again = await udpQuery(dns.port, encodeQuery(82, 'cached.example.test', 'A'));
    assert.equal(again.readUInt16BE(0), 82);
    assert.deepEqual(answers(again), answers(first));
    assert.equal(asked.get('cached.example.test'), 1, 'the upstream was asked once');
  });

  it('follows ExternalName CNAMEs: upstream for other names, in the zone for its own', async () => {
    assert.deepEqual(answers(await udpQuery(dns.port, encodeQuery(41, 'ext.default.svc.cluster.local', 'A'))), ['ext.default.svc.cluster.local CNAME db.example.test', 'db.example.test A 192.0.2.99']);
    assert.deepEqual(answers(await udpQuery(dns.port, encodeQuery(42, 'ext.default.svc.cluster.local', 'CNAME'))), ['ext.default.svc.cluster.local CNAME db.example.test']);
    const [tcp] = await tcpQueries(dns.port, [encodeQuery(43, 'alias.default.svc.cluster.local', 'AAAA')]);
    assert.deepEqual(answers(tcp), ['alias.default.svc.cluster.local CNAME dual.default.svc.cluster.local', 'dual.default.svc.cluster.local AAAA fd00:10:96::6']);
  });

  it('re-asks the upstream over TCP when its UDP answer is truncated and the client asked over TCP', async () => {
    const udp = decodeMessage(await udpQuery(dns.port, encodeQuery(51, 'big.example.test', 'A')));
    assert.equal(udp.flag_tc, true, 'UDP clients get the truncated answer and retry over TCP themselves');
    const [tcp] = await tcpQueries(dns.port, [encodeQuery(52, 'big.example.test', 'A')]);
    assert.equal(tcp.readUInt16BE(0), 52);
    assert.equal(decodeMessage(tcp).answers!.length, 40);
  });

  it('tries the next upstream when the first does not answer', async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
    const d = createDnsServer(new ClusterZone(data, { domain: 'cluster.local', ttl: 5 }), { host: '127.0.0.1', port: 0, upstreams: [`127.0.0.1:${silent.address().port}`, `127.0.0.1:${upstream.address().port}`] });
    await d.start();
    try {
      assert.deepEqual(answers(await udpQuery(d.port, encodeQuery(61, 'www.example.test', 'A'))), ['www.example.test A 192.0.2.99']);
    } finally {
      await d.stop();
      silent.close();
    }
  });

  it('never forwards to itself: SERVFAIL at once instead of a loop', async () => {
    const logs: string[] = [];
    // The server is told to forward to its own port, so the port must be known before it starts: a free
    // one is probed, and another is tried if someone takes it in between.
    let d: DnsServer | undefined;
    for (let attempt = 1; !d; attempt++) {
      const probe = net.createServer();
      await listenOn(probe, 0);
      const p = (probe.address() as net.AddressInfo).port;
      await new Promise<void>((r) => probe.close(() => r()));
      const candidate = createDnsServer(new ClusterZone(data, { domain: 'cluster.local', ttl: 5 }), { host: '127.0.0.1', port: p, upstreams: [`127.0.0.1:${p}`], log: (m) => logs.push(m) });
      try {
        await candidate.start();
        d = candidate;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw e;
      }
    }
    try {
      assert.equal(decodeMessage(await udpQuery(d.port, encodeQuery(71, 'www.example.test', 'A'))).rcode, 'SERVFAIL');
      assert.ok(logs.some((l) => l.includes('not forwarding')), logs.join('\n'));
    } finally {
      await d.stop();
    }
  });

  it('on 0.0.0.0, answers over UDP from the address asked (a DNATed ClusterIP query from the node)', async () => {
    // 127.0.0.2 stands for the pod gateway: a reply to a client on 127.0.0.1 would leave from 127.0.0.1
    // through a wildcard socket, and a connected client (or conntrack undoing DNAT) drops it.
    const d = createDnsServer(new ClusterZone(data, { domain: 'cluster.local', ttl: 5 }), { host: '0.0.0.0', port: 0, upstreams: [], localAddresses: () => ['127.0.0.1', '127.0.0.2'] });
    await d.start();
    const c = dgram.createSocket('udp4');
    try {
      await new Promise<void>((r) => c.bind(0, '127.0.0.1', () => r()));
      await new Promise<void>((r) => c.connect(d.port, '127.0.0.2', () => r()));
      const got = new Promise<Buffer>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no UDP answer from 127.0.0.2')), 3000);
        c.once('message', (m) => (clearTimeout(timer), resolve(m)));
      });
      c.send(encodeQuery(71, 'dual.default.svc.cluster.local', 'A'));
      assert.deepEqual(answers(await got), ['dual.default.svc.cluster.local A 10.96.0.6']);
    } finally {
      c.close();
      await d.stop();
    }
  });

  it('FORMERR for a malformed query; responses are ignored', async () => {
    const junk = Buffer.concat([encodeQuery(77, 'web.default.svc.cluster.local', 'A').subarray(0, 20)]);
    const r = decodeMessage(await udpQuery(dns.port, junk));
    assert.equal(r.id, 77);
    assert.equal(r.rcode, 'FORMERR');
    assert.equal(await dns.handle(encodeResponse({ id: 1, rd: false, aa: false, ra: false, rcode: 0, questions: [], answers: [], authority: [], additional: [] }), false), undefined);
  });
});

describe('kube-dns Service', () => {
  /** An in-memory API: create answers 409 for an existing path, update replaces. */
  const fakeApi = () => {
    const store = new Map<string, any>();
    let rv = 0;
    const client = {
      async create(collection: string, obj: any) {
        const p = `${collection}/${obj.metadata.name}`;
        if (store.has(p)) throw Object.assign(new Error('exists'), { status: 409 });
        store.set(p, { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++rv) } });
        return store.get(p);
      },
      async get(p: string) {
        return structuredClone(store.get(p));
      },
      async update(p: string, obj: any) {
        store.set(p, { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++rv) } });
        return store.get(p);
      },
    };
    return { store, client: client as any };
  };

  it('keeps the Service, its Endpoints (skip-mirror) and its slice on the port the server has now', async () => {
    const { store, client } = fakeApi();
    await ensureKubeDnsService(client, { clusterIP: '10.96.0.10', endpointIP: '10.244.0.1', port: 40001 });
    await ensureKubeDnsService(client, { clusterIP: '10.96.0.10', endpointIP: '10.244.0.1', port: 40002 });
    const svc = store.get('/api/v1/namespaces/kube-system/services/kube-dns');
    assert.deepEqual(svc.spec.ports.map((p: any) => p.targetPort), [40002, 40002]);
    assert.equal(svc.spec.clusterIP, '10.96.0.10');
    const ep = store.get('/api/v1/namespaces/kube-system/endpoints/kube-dns');
    assert.equal(ep.metadata.labels['endpointslice.kubernetes.io/skip-mirror'], 'true');
    assert.deepEqual(ep.subsets, [{ addresses: [{ ip: '10.244.0.1' }], ports: [{ name: 'dns', port: 40002, protocol: 'UDP' }, { name: 'dns-tcp', port: 40002, protocol: 'TCP' }] }]);
    const slice = store.get('/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices/kube-dns-skiff');
    assert.deepEqual(slice.ports.map((p: any) => p.port), [40002, 40002]);
  });
});
