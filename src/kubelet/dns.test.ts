import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseResolvConf, podDNSConfig } from './dns.js';

const host = parseResolvConf('# host\nnameserver 192.0.2.53\nsearch corp.example\noptions timeout:2 edns0\n');
const s = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', host };
const pod = (spec: any, ns = 'team') => ({ metadata: { name: 'p', namespace: ns }, spec });

describe('pod DNS config (upstream GetPodDNS)', () => {
  it('ClusterFirst: cluster DNS, namespace searches first then the host ones, ndots:5', () => {
    assert.deepEqual(podDNSConfig(pod({}), s), { servers: ['10.96.0.10'], searches: ['team.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'], options: ['ndots:5'] });
  });

  it('Default and hostNetwork ClusterFirst use the host resolver; ClusterFirstWithHostNet the cluster one', () => {
    const hostCfg = { servers: ['192.0.2.53'], searches: ['corp.example'], options: ['timeout:2', 'edns0'] };
    assert.deepEqual(podDNSConfig(pod({ dnsPolicy: 'Default' }), s), hostCfg);
    assert.deepEqual(podDNSConfig(pod({ hostNetwork: true }), s), hostCfg);
    assert.deepEqual(podDNSConfig(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), s)?.servers, ['10.96.0.10']);
  });

  it('None takes only dnsConfig; dnsConfig merges (dedupe, options override by name, 3 nameservers at most)', () => {
    assert.deepEqual(podDNSConfig(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'], searches: ['a.b'], options: [{ name: 'ndots', value: '2' }] } }), s), {
      servers: ['1.1.1.1'],
      searches: ['a.b'],
      options: ['ndots:2'],
    });
    const merged = podDNSConfig(pod({ dnsConfig: { nameservers: ['10.96.0.10', '8.8.8.8', '9.9.9.9', '1.1.1.1'], searches: ['cluster.local', 'x.y'], options: [{ name: 'ndots', value: '1' }, { name: 'edns0' }] } }), s)!;
    assert.deepEqual(merged.servers, ['10.96.0.10', '8.8.8.8', '9.9.9.9']);
    assert.deepEqual(merged.searches, ['team.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example', 'x.y']);
    assert.deepEqual(merged.options, ['ndots:1', 'edns0']);
  });

  it('without cluster DNS settings the runtime keeps the host resolv.conf (undefined), except for None', () => {
    assert.equal(podDNSConfig(pod({}), undefined), undefined);
    assert.deepEqual(podDNSConfig(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'] } }), undefined)?.servers, ['1.1.1.1']);
  });
});
