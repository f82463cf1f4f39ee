import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterEach, mkNode, mkPod, mkWorld } from '../../testutil.js';

const withPort = (name: string, port: number, o: { ip?: string; protocol?: string; nodeName?: string } = {}) =>
  mkPod(name, { nodeName: o.nodeName, containers: [{ name: 'c', image: 'x', ports: [{ containerPort: 80, hostPort: port, hostIP: o.ip, protocol: o.protocol }] }] });
const BUSY = "node(s) didn't have free ports for the requested pod ports";

test('NodePorts: host ports collide per protocol and IP (0.0.0.0 with every IP)', () => {
  const cases: [string, ReturnType<typeof mkPod>, ReturnType<typeof mkPod>, string][] = [
    ['same port', withPort('e', 8080, { nodeName: 'n' }), withPort('p', 8080), BUSY],
    ['other port', withPort('e', 8080, { nodeName: 'n' }), withPort('p', 8081), ''],
    ['other protocol', withPort('e', 8080, { nodeName: 'n', protocol: 'UDP' }), withPort('p', 8080), ''],
    ['different IPs', withPort('e', 8080, { nodeName: 'n', ip: '10.0.0.1' }), withPort('p', 8080, { ip: '10.0.0.2' }), ''],
    ['wildcard vs IP', withPort('e', 8080, { nodeName: 'n', ip: '10.0.0.1' }), withPort('p', 8080), BUSY],
  ];
  for (const [name, existing, pod, want] of cases) assert.equal(filterEach(mkWorld([mkNode('n')], [existing]), pod).n, want, name);
});
