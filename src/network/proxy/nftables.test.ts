import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { delta, emptyState, render } from './nftables.js';
import { buildServicePorts } from './model.js';

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

  it('ClientIP affinity adds a timeout set per endpoint', () => {
    const st = render(buildServicePorts([svc('a', '10.96.0.20', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } })], [slice('a', ['10.244.0.2'])]));
    assert.equal([...st.sets.values()][0], 'type ipv4_addr; flags dynamic,timeout; timeout 60s;');
  });
});
