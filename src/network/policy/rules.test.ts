import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cidrContains, computeRules, renderTable } from './rules.js';
import { which } from '../../testing/real.js';

const pod = (ns: string, name: string, ip: string, labels: Record<string, string>, node = 'n1', ports: any[] = []) => ({
  metadata: { namespace: ns, name, uid: `${ns}-${name}`, labels },
  spec: { nodeName: node, containers: [{ name: 'c', ports }] },
  status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
});
const ns = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } });
const pol = (namespace: string, name: string, spec: any) => ({ metadata: { namespace, name }, spec });

const pods = [
  pod('default', 'web', '10.244.0.2', { app: 'web' }, 'n1', [{ name: 'http', containerPort: 8080 }]),
  pod('default', 'client', '10.244.0.3', { role: 'client' }),
  pod('other', 'x', '10.244.1.4', { role: 'client' }, 'n2'),
  pod('default', 'db', '10.244.0.5', { app: 'db' }),
];
const namespaces = [ns('default'), ns('other', { team: 'a' }), ns('kube-system')];
// Cluster DNS as skiff publishes it: the node gateway, on the server's own port.
const dnsSlices = [
  {
    metadata: { namespace: 'kube-system', name: 'kube-dns-skiff', labels: { 'kubernetes.io/service-name': 'kube-dns' } },
    addressType: 'IPv4',
    ports: [{ name: 'dns', port: 40053, protocol: 'UDP' }, { name: 'dns-tcp', port: 40053, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.244.0.1'], conditions: { ready: true } }],
  },
];
const rules = (policies: any[]) => computeRules({ policies, pods, namespaces, nodeName: 'n1' });

describe('network policy rules', () => {
  it('no policy: no pod is isolated', () => {
    const r = rules([]);
    assert.equal(r.chains.size, 0);
  });

  it('default deny ingress isolates selected pods only, rejecting everything', () => {
    const r = rules([pol('default', 'deny', { podSelector: { matchLabels: { app: 'web' } } })]);
    assert.deepEqual([...r.ingress.keys()], ['10.244.0.2']);
    assert.equal(r.egress.size, 0);
    assert.deepEqual(r.chains.get(r.ingress.get('10.244.0.2')!), ['reject with icmp type admin-prohibited']);
  });

  it('allow rules: podSelector in the namespace, namespaceSelector across, named port resolved on the destination', () => {
    const r = rules([
      pol('default', 'allow', {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 'http' }] }, { from: [{ namespaceSelector: { matchLabels: { team: 'a' } } }] }],
      }),
    ]);
    const chain = r.chains.get(r.ingress.get('10.244.0.2')!)!;
    assert.deepEqual(chain, ['ip saddr { 10.244.0.3 } meta l4proto tcp th dport 8080 return', 'ip saddr { 10.244.1.4 } return', 'reject with icmp type admin-prohibited']);
  });

  it('egress with ipBlock/except and ports; policyTypes decide the directions', () => {
    const r = rules([
      pol('default', 'eg', {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.244.0.5/32'] } }], ports: [{ protocol: 'UDP', port: 53 }, { port: 80, endPort: 90 }] }],
      }),
    ]);
    assert.equal(r.ingress.size, 0);
    assert.deepEqual([...r.egress.keys()].sort(), ['10.244.0.2', '10.244.0.3', '10.244.0.5']);
    assert.deepEqual(r.chains.get(r.egress.get('10.244.0.3')!), [
      'ip daddr 10.0.0.0/8 ip daddr != { 10.244.0.5/32 } meta l4proto udp th dport 53 return',
      'ip daddr 10.0.0.0/8 ip daddr != { 10.244.0.5/32 } meta l4proto tcp th dport 80-90 return',
      'reject with icmp type admin-prohibited',
    ]);
  });

  it('DNS egress as users write it (kube-dns pods in kube-system, port 53) reaches the node-local server on its real port', () => {
    const r = computeRules({
      policies: [
        pol('default', 'dns', {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [
            {
              to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
              ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
            },
          ],
        }),
      ],
      pods,
      namespaces,
      nodeName: 'n1',
      dnsSlices,
    });
    const chain = r.chains.get(r.egress.get('10.244.0.3')!)!;
    assert.ok(chain.includes('ip daddr 10.244.0.1 meta l4proto udp th dport 40053 return'), chain.join('\n'));
    assert.ok(chain.includes('ip daddr 10.244.0.1 meta l4proto tcp th dport 40053 return'));
    assert.equal(chain[chain.length - 1], 'reject with icmp type admin-prohibited');
    // Other ports to it stay closed; a selector that does not name DNS does not open it.
    assert.ok(!chain.some((l) => l.includes('dport 80')));
    const other = computeRules({ policies: [pol('default', 'x', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'db' } } }], ports: [{ protocol: 'UDP', port: 53 }] }] })], pods, namespaces, nodeName: 'n1', dnsSlices });
    assert.ok(!other.chains.get(other.egress.get('10.244.0.3')!)!.some((l) => l.includes('40053')));
    // Port-only rules (any destination) and ipBlocks covering the server count too, except-ed ones not.
    const portOnly = computeRules({ policies: [pol('default', 'p', { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ protocol: 'UDP', port: 53 }] }] })], pods, namespaces, nodeName: 'n1', dnsSlices });
    assert.ok(portOnly.chains.get(portOnly.egress.get('10.244.0.3')!)!.includes('ip daddr 10.244.0.1 meta l4proto udp th dport 40053 return'));
    const except = computeRules({ policies: [pol('default', 'b', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.0.1/32'] } }], ports: [{ protocol: 'UDP', port: 53 }] }] })], pods, namespaces, nodeName: 'n1', dnsSlices });
    assert.ok(!except.chains.get(except.egress.get('10.244.0.3')!)!.some((l) => l.includes('40053')));
  });

  it('policyTypes: an Egress-only policy leaves ingress open; no policyTypes means Ingress (plus Egress with egress rules), as upstream defaulting', () => {
    const egressOnly = rules([pol('default', 'e', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: {} }] }] })]);
    assert.equal(egressOnly.ingress.size, 0);
    assert.deepEqual([...egressOnly.egress.keys()], ['10.244.0.2']);
    const unspecified = rules([pol('default', 'u', { podSelector: { matchLabels: { app: 'web' } }, egress: [{ to: [{ podSelector: {} }] }] })]);
    assert.deepEqual([...unspecified.ingress.keys()], ['10.244.0.2']);
    assert.deepEqual([...unspecified.egress.keys()], ['10.244.0.2']);
  });

  it('cidrContains', () => {
    assert.ok(cidrContains('10.244.0.0/16', '10.244.3.4'));
    assert.ok(!cidrContains('10.244.0.0/24', '10.244.1.4'));
    assert.ok(cidrContains('10.244.0.5/32', '10.244.0.5') && cidrContains('10.244.0.5', '10.244.0.5'));
    assert.ok(cidrContains('0.0.0.0/0', '192.0.2.1'));
  });

  it('renders a table nft accepts (checked without applying, as root)', (t) => {
    if (process.getuid?.() !== 0 || !which('nft')) return t.skip('needs root and nft');
    const r = rules([
      pol('default', 'a', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }, { ipBlock: { cidr: '192.0.2.0/24', except: ['192.0.2.8/29'] } }], ports: [{ port: 'http' }] }] }),
      pol('default', 'b', { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ protocol: 'UDP', port: 53 }] }] }),
    ]);
    execFileSync('nft', ['-c', '-f', '-'], { input: renderTable('skiff-policy-check', r) + '\n', stdio: ['pipe', 'pipe', 'pipe'] });
  });
});
