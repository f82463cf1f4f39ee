import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterZone, DEFAULT_TTL, sliceEndpoints, type Answer, type ZoneData } from './zone.js';
import { RCODE, type Record_ } from './wire.js';
import { reverseName } from './ip.js';

const svc = (name: string, spec: any, ns = 'default') => ({ metadata: { namespace: ns, name }, spec });
const slice = (service: string, addressType: string, endpoints: any[], ports = [{ name: 'pg', port: 5432, protocol: 'TCP' }]) => ({
  metadata: { namespace: 'default', name: `${service}-${addressType}`, labels: { 'kubernetes.io/service-name': service } },
  addressType,
  ports,
  endpoints,
});

const services = [
  svc('web', { clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5'], ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 9090 }] }),
  svc('dual', { clusterIP: '10.96.0.6', clusterIPs: ['10.96.0.6', 'fd00:10:96::6'], ipFamilies: ['IPv4', 'IPv6'], ports: [{ name: 'http', port: 80 }] }),
  svc('six', { clusterIP: 'fd00:10:96::7', clusterIPs: ['fd00:10:96:0::7'], ipFamilies: ['IPv6'], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
  svc('hl', { clusterIP: 'None', clusterIPs: ['None'], ports: [{ name: 'pg', port: 5432 }] }),
  svc('ext', { type: 'ExternalName', externalName: 'db.example.test.' }),
  svc('empty', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }),
  svc('kube-dns', { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }, 'kube-system'),
];
const slices = [
  slice('hl', 'IPv4', [
    { addresses: ['10.244.0.11'], hostname: 'db-0', conditions: { ready: true } },
    { addresses: ['10.244.0.12'], conditions: {} },
    { addresses: ['10.244.0.13'], conditions: { ready: false } },
  ]),
  slice('hl', 'IPv6', [
    { addresses: ['fd00:244::b'], hostname: 'db-0', conditions: { ready: true } },
    { addresses: ['fd00:244:0:0::c'], conditions: { ready: true } },
  ]),
  slice('hl', 'FQDN', [{ addresses: ['x.example.test'] }]),
];

function data(): ZoneData {
  const byKey = new Map(services.map((s) => [`${s.metadata.namespace}/${s.metadata.name}`, s]));
  const eps = (ns: string, name: string) => sliceEndpoints(slices.filter((s) => s.metadata.namespace === ns && s.metadata.labels['kubernetes.io/service-name'] === name));
  return {
    service: (ns, name) => byKey.get(`${ns}/${name}`),
    namespaceExists: (ns) => ns === 'default' || ns === 'kube-system',
    endpoints: eps,
    serviceByIP: (ip) => services.find((s) => (s.spec.clusterIPs ?? []).map((x: string) => x.replace(':0::', '::')).includes(ip)),
    endpointsByIP: (ip) => services.flatMap((s) => eps(s.metadata.namespace, s.metadata.name).filter((e) => e.ip === ip).map((ep) => ({ namespace: s.metadata.namespace, service: s.metadata.name, ep }))),
    generation: () => 1,
    modified: () => 1700000000,
  };
}

const zone = new ClusterZone(data(), { domain: 'cluster.local', ttl: DEFAULT_TTL });

/** One record as text: `name TYPE data` (SRV: `priority weight port target`). */
function text(r: Record_): string {
  const d: any = (r as any).data;
  const v = r.type === 'SRV' ? `${d.priority} ${d.weight} ${d.port} ${d.target}` : r.type === 'SOA' ? `${d.mname} ${d.rname}` : String(d);
  return `${r.name} ${r.type} ${v}`;
}
const rcodeName = (a: Answer) => Object.entries(RCODE).find(([, v]) => v === a.rcode)![0];

const D = 'default.svc.cluster.local';
// [name, type, rcode, answers (sorted), additional (sorted)?]
const cases: [string, string, string, string[], string[]?][] = [
  // ClusterIP Services by family: AAAA of an IPv4-only Service is NODATA, never NXDOMAIN.
  [`web.${D}`, 'A', 'NOERROR', [`web.${D} A 10.96.0.5`]],
  [`web.${D}`, 'AAAA', 'NOERROR', []],
  [`dual.${D}`, 'A', 'NOERROR', [`dual.${D} A 10.96.0.6`]],
  [`dual.${D}`, 'AAAA', 'NOERROR', [`dual.${D} AAAA fd00:10:96::6`]],
  [`six.${D}`, 'A', 'NOERROR', []],
  [`six.${D}`, 'AAAA', 'NOERROR', [`six.${D} AAAA fd00:10:96:0::7`]],
  [`web.${D}`, 'TXT', 'NOERROR', []],
  // Headless: ready endpoints of both slices, by family; endpoint names (hostname or dashed IP).
  [`hl.${D}`, 'A', 'NOERROR', [`hl.${D} A 10.244.0.11`, `hl.${D} A 10.244.0.12`]],
  [`hl.${D}`, 'AAAA', 'NOERROR', [`hl.${D} AAAA fd00:244::b`, `hl.${D} AAAA fd00:244::c`]],
  [`db-0.hl.${D}`, 'A', 'NOERROR', [`db-0.hl.${D} A 10.244.0.11`]],
  [`db-0.hl.${D}`, 'AAAA', 'NOERROR', [`db-0.hl.${D} AAAA fd00:244::b`]],
  [`fd00-244--c.hl.${D}`, 'AAAA', 'NOERROR', [`fd00-244--c.hl.${D} AAAA fd00:244::c`]],
  [`fd00-244--c.hl.${D}`, 'A', 'NOERROR', []],
  [`10-244-0-12.hl.${D}`, 'A', 'NOERROR', [`10-244-0-12.hl.${D} A 10.244.0.12`]],
  [`10-244-0-13.hl.${D}`, 'A', 'NXDOMAIN', []],
  // SRV: `_port._proto.svc`, weights split evenly, targets' addresses as additional records.
  [`_http._tcp.web.${D}`, 'SRV', 'NOERROR', [`_http._tcp.web.${D} SRV 0 100 80 web.${D}`], [`web.${D} A 10.96.0.5`]],
  [`_http._tcp.dual.${D}`, 'SRV', 'NOERROR', [`_http._tcp.dual.${D} SRV 0 100 80 dual.${D}`], [`dual.${D} A 10.96.0.6`, `dual.${D} AAAA fd00:10:96::6`]],
  [`_dns._udp.six.${D}`, 'SRV', 'NOERROR', [`_dns._udp.six.${D} SRV 0 100 53 six.${D}`], [`six.${D} AAAA fd00:10:96:0::7`]],
  [`_dns._tcp.six.${D}`, 'SRV', 'NXDOMAIN', []],
  [`_http._tcp.web.${D}`, 'A', 'NOERROR', [`_http._tcp.web.${D} A 10.96.0.5`]],
  [`web.${D}`, 'SRV', 'NOERROR', [`web.${D} SRV 0 50 80 web.${D}`, `web.${D} SRV 0 50 9090 web.${D}`], [`web.${D} A 10.96.0.5`]],
  [
    `_pg._tcp.hl.${D}`,
    'SRV',
    'NOERROR',
    [`_pg._tcp.hl.${D} SRV 0 33 5432 10-244-0-12.hl.${D}`, `_pg._tcp.hl.${D} SRV 0 33 5432 db-0.hl.${D}`, `_pg._tcp.hl.${D} SRV 0 33 5432 fd00-244--c.hl.${D}`],
    [`10-244-0-12.hl.${D} A 10.244.0.12`, `db-0.hl.${D} A 10.244.0.11`, `fd00-244--c.hl.${D} AAAA fd00:244::c`],
  ],
  [`_nope._tcp.hl.${D}`, 'SRV', 'NXDOMAIN', []],
  // ExternalName.
  [`ext.${D}`, 'A', 'NOERROR', [`ext.${D} CNAME db.example.test`]],
  [`ext.${D}`, 'CNAME', 'NOERROR', [`ext.${D} CNAME db.example.test`]],
  // Pods: a-b-c-d and IPv6 with dashes, when the namespace exists.
  ['10-244-0-5.default.pod.cluster.local', 'A', 'NOERROR', ['10-244-0-5.default.pod.cluster.local A 10.244.0.5']],
  ['10-244-0-5.default.pod.cluster.local', 'AAAA', 'NOERROR', []],
  ['fd00--1.default.pod.cluster.local', 'AAAA', 'NOERROR', ['fd00--1.default.pod.cluster.local AAAA fd00::1']],
  ['fd00-0-0-0-0-0-0-2.default.pod.cluster.local', 'AAAA', 'NOERROR', ['fd00-0-0-0-0-0-0-2.default.pod.cluster.local AAAA fd00::2']],
  ['fd00--1.default.pod.cluster.local', 'A', 'NOERROR', []],
  ['10-244-0-5.nons.pod.cluster.local', 'A', 'NXDOMAIN', []],
  ['10-244-0-500.default.pod.cluster.local', 'A', 'NXDOMAIN', []],
  ['not-an-ip.default.pod.cluster.local', 'A', 'NXDOMAIN', []],
  ['default.pod.cluster.local', 'A', 'NOERROR', []],
  // Existence: NXDOMAIN vs NODATA; wildcards (deprecated upstream) are NXDOMAIN.
  [`nope.${D}`, 'A', 'NXDOMAIN', []],
  [`nope.${D}`, 'AAAA', 'NXDOMAIN', []],
  ['web.nons.svc.cluster.local', 'A', 'NXDOMAIN', []],
  [D, 'A', 'NOERROR', []],
  ['nons.svc.cluster.local', 'A', 'NXDOMAIN', []],
  [`*.${D}`, 'A', 'NXDOMAIN', []],
  ['web.*.svc.cluster.local', 'A', 'NXDOMAIN', []],
  ['x.web.other.cluster.local', 'A', 'NXDOMAIN', []],
  ['cluster.local', 'SOA', 'NOERROR', ['cluster.local SOA ns.dns.cluster.local hostmaster.cluster.local']],
  ['cluster.local', 'NS', 'NOERROR', ['cluster.local NS ns.dns.cluster.local'], ['ns.dns.cluster.local A 10.96.0.10']],
  ['ns.dns.cluster.local', 'A', 'NOERROR', ['ns.dns.cluster.local A 10.96.0.10']],
  // A headless Service with no ready endpoint has no name (CoreDNS); ANY gets NODATA for existing names.
  [`empty.${D}`, 'A', 'NXDOMAIN', []],
  [`web.${D}`, 'ANY', 'NOERROR', []],
  [`nope.${D}`, 'ANY', 'NXDOMAIN', []],
  ['cluster.local', 'ANY', 'NOERROR', []],
  // PTR: ClusterIPs (both families), then endpoints.
  [reverseName('10.96.0.5'), 'PTR', 'NOERROR', [`${reverseName('10.96.0.5')} PTR web.${D}`]],
  [reverseName('fd00:10:96::6'), 'PTR', 'NOERROR', [`${reverseName('fd00:10:96::6')} PTR dual.${D}`]],
  [reverseName('fd00:10:96::7'), 'PTR', 'NOERROR', [`${reverseName('fd00:10:96::7')} PTR six.${D}`]],
  [reverseName('fd00:244::b'), 'PTR', 'NOERROR', [`${reverseName('fd00:244::b')} PTR db-0.hl.${D}`]],
  [reverseName('10.244.0.12'), 'PTR', 'NOERROR', [`${reverseName('10.244.0.12')} PTR 10-244-0-12.hl.${D}`]],
  [reverseName('fd00:244::c'), 'PTR', 'NOERROR', [`${reverseName('fd00:244::c')} PTR fd00-244--c.hl.${D}`]],
  [reverseName('10.96.0.5'), 'A', 'NOERROR', []],
  // Case: matched case-insensitively, answered in the question's spelling (zone part of targets too).
  ['WeB.DeFault.SVC.Cluster.Local', 'A', 'NOERROR', ['WeB.DeFault.SVC.Cluster.Local A 10.96.0.5']],
  ['_HTTP._Tcp.web.default.svc.CLUSTER.local', 'SRV', 'NOERROR', ['_HTTP._Tcp.web.default.svc.CLUSTER.local SRV 0 100 80 web.default.svc.CLUSTER.local'], ['web.default.svc.CLUSTER.local A 10.96.0.5']],
  ['DB-0.HL.default.svc.cluster.local.', 'A', 'NOERROR', ['DB-0.HL.default.svc.cluster.local A 10.244.0.11']],
];

describe('ClusterZone', () => {
  for (const [name, type, rcode, answers, additional] of cases) {
    it(`${type} ${name} → ${rcode} ${answers.length ? answers.length + ' answers' : '(no answers)'}`, () => {
      const a = zone.resolve({ name, type })!;
      assert.ok(a, 'the zone answers');
      assert.equal(rcodeName(a), rcode);
      assert.deepEqual(a.answers.map(text).sort(), [...answers].sort());
      if (additional) assert.deepEqual(a.additional.map(text).sort(), [...additional].sort());
      // Negative answers carry the zone's SOA, positive ones do not.
      assert.equal(a.authority.length, a.answers.length ? 0 : 1);
      for (const r of [...a.answers, ...a.authority, ...a.additional]) assert.equal((r as any).ttl, 5, 'CoreDNS kubernetes default ttl');
    });
  }

  it('keeps the question spelling of the zone in the SOA of a negative answer', () => {
    const a = zone.resolve({ name: 'nope.default.svc.ClUsTeR.lOcAl', type: 'A' })!;
    assert.equal(a.rcode, RCODE.NXDOMAIN);
    assert.equal(text(a.authority[0]), 'ClUsTeR.lOcAl SOA ns.dns.ClUsTeR.lOcAl hostmaster.ClUsTeR.lOcAl');
    assert.equal((a.authority[0] as any).data.serial, 1700000000);
  });

  it('answers the schema version at dns-version.<zone> (TXT only)', () => {
    const a = zone.resolve({ name: 'dns-version.cluster.local', type: 'TXT' })!;
    assert.deepEqual(a.answers.map((r: any) => [r.name, r.type, r.data]), [['dns-version.cluster.local', 'TXT', ['1.1.0']]]);
    assert.equal(zone.resolve({ name: 'dns-version.cluster.local', type: 'A' })!.rcode, RCODE.NXDOMAIN);
  });

  it('leaves other names and unknown reverse names to the forwarder', () => {
    for (const name of ['www.example.test', 'cluster.local.example.test', reverseName('192.0.2.1'), reverseName('2001:db8::1'), '1.2.in-addr.arpa']) assert.equal(zone.resolve({ name, type: 'A' }), undefined, name);
  });

  it('answers 127 aliases in loopback mode (mapAddress), IPv6 unchanged', () => {
    const z = new ClusterZone(data(), { domain: 'cluster.local', ttl: 5, mapAddress: (ip) => ip.replace(/^10\./, '127.') });
    assert.deepEqual(z.resolve({ name: `dual.${D}`, type: 'A' })!.answers.map(text), [`dual.${D} A 127.96.0.6`]);
    assert.deepEqual(z.resolve({ name: `dual.${D}`, type: 'AAAA' })!.answers.map(text), [`dual.${D} AAAA fd00:10:96::6`]);
  });
});
