import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { managedHostsFile, podHostname, podHosts } from './hosts.js';

describe('kubelet-managed /etc/hosts', () => {
  it('lists the pod IP under its hostname, with the IPv6 names, as upstream', () => {
    assert.equal(
      managedHostsFile(['10.244.0.5'], 'web-0'),
      '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n10.244.0.5\tweb-0\n',
    );
  });

  it('hostname + subdomain give the FQDN first; hostAliases follow under their header', () => {
    const pod = {
      metadata: { name: 'p', namespace: 'team' },
      spec: { hostname: 'alpha', subdomain: 'sub', hostAliases: [{ ip: '1.2.3.4', hostnames: ['foo.local', 'bar.local'] }, { ip: '5.6.7.8', hostnames: ['baz'] }] },
    };
    assert.equal(podHostname(pod), 'alpha');
    const text = managedHostsFile(['10.244.0.6'], podHostname(pod), podHosts(pod, 'cluster.local'));
    assert.ok(text.includes('10.244.0.6\talpha.sub.team.svc.cluster.local\talpha\n'), text);
    assert.ok(text.endsWith('\n# Entries added by HostAliases.\n1.2.3.4\tfoo.local\tbar.local\n5.6.7.8\tbaz\n'), text);
  });

  it('a long pod name is cut to a 63-character label without a trailing - or .', () => {
    const name = `${'a'.repeat(62)}-bcd`;
    assert.equal(podHostname({ metadata: { name } }), 'a'.repeat(62));
    assert.equal(podHostname({ metadata: { name: 'short' } }), 'short');
  });
});
