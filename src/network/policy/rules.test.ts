import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { computeRules, renderTable } from './rules.js';
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
const namespaces = [ns('default'), ns('other', { team: 'a' })];
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

  it('renders a table nft accepts (checked without applying, as root)', (t) => {
    if (process.getuid?.() !== 0 || !which('nft')) return t.skip('needs root and nft');
    const r = rules([
      pol('default', 'a', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }, { ipBlock: { cidr: '192.0.2.0/24', except: ['192.0.2.8/29'] } }], ports: [{ port: 'http' }] }] }),
      pol('default', 'b', { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ protocol: 'UDP', port: 53 }] }] }),
    ]);
    execFileSync('nft', ['-c', '-f', '-'], { input: renderTable('skiff-policy-check', r) + '\n', stdio: ['pipe', 'pipe', 'pipe'] });
  });
});
