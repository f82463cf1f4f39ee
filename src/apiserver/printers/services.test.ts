import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointSlicePrinter, endpointsPrinter, servicePrinter } from './services.js';
import { NOW, meta } from './testutil.js';

const svc = (spec: Record<string, unknown>, status: Record<string, unknown> = {}) => ({
  metadata: meta('s'),
  spec,
  status,
});

test('service columns', () => {
  assert.deepEqual(
    servicePrinter.columns.map((c) => [c.name, c.priority]),
    [
      ['Name', 0],
      ['Type', 0],
      ['Cluster-IP', 0],
      ['External-IP', 0],
      ['Port(s)', 0],
      ['Age', 0],
      ['Selector', 1],
    ],
  );
});

test('service rows', () => {
  const cases: Array<[string, any, unknown[]]> = [
    [
      'cluster IP',
      svc({
        type: 'ClusterIP',
        clusterIP: '10.96.0.10',
        clusterIPs: ['10.96.0.10'],
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ],
        selector: { 'k8s-app': 'kube-dns' },
      }),
      ['s', 'ClusterIP', '10.96.0.10', '<none>', '53/UDP,53/TCP', '5m', 'k8s-app=kube-dns'],
    ],
    [
      'node ports',
      svc({
        type: 'NodePort',
        clusterIP: '10.96.1.1',
        ports: [
          { port: 80, nodePort: 30080, protocol: 'TCP' },
          { port: 443, nodePort: 30001 },
        ],
        selector: { app: 'web', tier: 'fe' },
      }),
      ['s', 'NodePort', '10.96.1.1', '<none>', '80:30080/TCP,443:30001/TCP', '5m', 'app=web,tier=fe'],
    ],
    [
      'cluster IP with external IPs',
      svc({ type: 'ClusterIP', clusterIP: '10.96.1.2', externalIPs: ['1.1.1.1', '2.2.2.2'], ports: [{ port: 80, protocol: 'TCP' }] }),
      ['s', 'ClusterIP', '10.96.1.2', '1.1.1.1,2.2.2.2', '80/TCP', '5m', '<none>'],
    ],
    [
      'load balancer pending',
      svc({ type: 'LoadBalancer', clusterIP: '10.96.1.3', ports: [{ port: 80, nodePort: 31000, protocol: 'TCP' }] }),
      ['s', 'LoadBalancer', '10.96.1.3', '<pending>', '80:31000/TCP', '5m', '<none>'],
    ],
    [
      'load balancer assigned (sorted, de-duplicated, never clipped)',
      svc(
        { type: 'LoadBalancer', clusterIP: '10.96.1.3', ports: [{ port: 80, nodePort: 31000, protocol: 'TCP' }] },
        { loadBalancer: { ingress: [{ hostname: 'lb.example.com' }, { ip: '203.0.113.10' }, { ip: '203.0.113.10' }] } },
      ),
      ['s', 'LoadBalancer', '10.96.1.3', '203.0.113.10,lb.example.com', '80:31000/TCP', '5m', '<none>'],
    ],
    [
      'load balancer plus external IPs',
      svc(
        { type: 'LoadBalancer', clusterIP: '10.96.1.3', externalIPs: ['9.9.9.9'], ports: [] },
        { loadBalancer: { ingress: [{ ip: '203.0.113.10' }] } },
      ),
      ['s', 'LoadBalancer', '10.96.1.3', '203.0.113.10,9.9.9.9', '<none>', '5m', '<none>'],
    ],
    [
      'external name',
      svc({ type: 'ExternalName', externalName: 'db.example.com' }),
      ['s', 'ExternalName', '<none>', 'db.example.com', '<none>', '5m', '<none>'],
    ],
    [
      'headless',
      svc({ type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 5432, protocol: 'TCP' }], selector: { app: 'db' } }),
      ['s', 'ClusterIP', 'None', '<none>', '5432/TCP', '5m', 'app=db'],
    ],
    [
      'dual-stack shows the primary family',
      svc({ type: 'ClusterIP', clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5', 'fd00::5'], ports: [{ port: 80, protocol: 'SCTP' }] }),
      ['s', 'ClusterIP', '10.96.0.5', '<none>', '80/SCTP', '5m', '<none>'],
    ],
  ];
  for (const [name, s, want] of cases) assert.deepEqual(servicePrinter.cells(s, NOW), want, name);
});

test('endpoints rows', () => {
  const ep = (subsets: unknown) => ({ metadata: meta('e'), subsets });
  const cases: Array<[string, any, string]> = [
    ['no subsets', ep(undefined), '<none>'],
    ['one address', ep([{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 8080, protocol: 'TCP' }] }]), '10.0.0.1:8080'],
    [
      'more than three',
      ep([{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ port: 80 }, { port: 443 }] }]),
      '10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...',
    ],
    ['IPv6', ep([{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 80 }] }]), '[fd00::1]:80'],
    ['headless without ports', ep([{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }] }]), '10.0.0.1,10.0.0.2'],
    ['only not-ready addresses', ep([{ notReadyAddresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }]), ''],
  ];
  for (const [name, e, want] of cases) assert.deepEqual(endpointsPrinter.cells(e, NOW), ['e', want, '5m'], name);
});

test('endpointslice rows', () => {
  const es = (ports: unknown, endpoints: unknown) => ({ metadata: meta('es'), addressType: 'IPv4', ports, endpoints });
  const cases: Array<[string, any, string, string]> = [
    ['empty', es(undefined, []), '<unset>', '<unset>'],
    ['simple', es([{ name: 'http', port: 80, protocol: 'TCP' }], [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'] }]), '80', '10.0.0.1,10.0.0.2'],
    ['named port without number, and all ports', es([{ name: 'http' }, {}], [{ addresses: ['10.0.0.1'] }]), 'http,*', '10.0.0.1'],
    [
      'more than three',
      es(
        [{ port: 1 }, { port: 2 }, { port: 3 }, { port: 4 }],
        [{ addresses: ['a', 'b'] }, { addresses: ['c', 'd', 'e'] }],
      ),
      '1,2,3 + 1 more...',
      'a,b,c + 2 more...',
    ],
  ];
  for (const [name, e, ports, endpoints] of cases) {
    assert.deepEqual(endpointSlicePrinter.cells(e, NOW), ['es', 'IPv4', ports, endpoints, '5m'], name);
  }
});
