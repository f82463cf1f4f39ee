import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forwardedHeaders, podProxyTarget, serviceProxyTarget, splitNodeNamePort, splitSchemeNamePort, usesLoopbackPodNetwork } from './proxy.js';
import { StatusError } from './status.js';

test('splitSchemeNamePort accepts name, name:port and http(s):name:port, as upstream', () => {
  assert.deepEqual(splitSchemeNamePort('web'), { scheme: '', name: 'web', port: '' });
  assert.deepEqual(splitSchemeNamePort('web:80'), { scheme: '', name: 'web', port: '80' });
  assert.deepEqual(splitSchemeNamePort('https:web:tls'), { scheme: 'https', name: 'web', port: 'tls' });
  for (const bad of ['', ':80', 'ftp:web:80', 'a:b:c:d', 'http::80']) assert.equal(splitSchemeNamePort(bad), undefined, bad);
});

const err = (code: number, message: RegExp) => (e: unknown) => e instanceof StatusError && e.code === code && message.test(e.message);

test('a pod proxy goes to the pod IP, on the given port or else the first declared container port', () => {
  const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'a' }, { name: 'b', ports: [{ containerPort: 8080 }, { containerPort: 9090 }] }] }, status: { podIP: '10.244.0.7' } };
  assert.deepEqual(podProxyTarget(pod, '', ''), { scheme: 'http', host: '10.244.0.7', port: 8080 });
  assert.deepEqual(podProxyTarget({ ...pod, spec: { ...pod.spec, nodeName: 'n1' } }, '', '81'), { scheme: 'http', host: '10.244.0.7', port: 81, nodeName: 'n1' });
  assert.deepEqual(podProxyTarget(pod, 'https', '9443'), { scheme: 'https', host: '10.244.0.7', port: 9443 });
  assert.deepEqual(podProxyTarget({ ...pod, spec: { containers: [{ name: 'a' }] } }, '', ''), { scheme: 'http', host: '10.244.0.7' });
  // The process runtime's loopback pod network.
  assert.equal(podProxyTarget({ ...pod, status: { podIP: '127.20.0.3' } }, '', '').host, '127.20.0.3');
  assert.throws(() => podProxyTarget({ ...pod, status: {} }, '', ''), err(400, /^address not allowed$/));
  assert.throws(() => podProxyTarget(pod, '', 'http'), err(400, /invalid pod request "p:http"/));
});

test('a service proxy picks a ready address on the endpoint port matching the service port', () => {
  const svc = { spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'metrics', port: 9100 }] } };
  const eps = {
    subsets: [
      { notReadyAddresses: [{ ip: '10.0.0.9' }], ports: [{ name: 'http', port: 8080 }] },
      { addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9100 }] },
    ],
  };
  const id = (s: string) => splitSchemeNamePort(s)!;
  const first = () => 0;
  assert.deepEqual(serviceProxyTarget(svc, eps, id('web:80'), first), { scheme: 'http', host: '10.0.0.1', port: 8080 });
  const onNode = { subsets: [{ addresses: [{ ip: '10.0.0.4', nodeName: 'n2' }], ports: [{ name: 'http', port: 8080 }] }] };
  assert.deepEqual(serviceProxyTarget(svc, onNode, id('web:http'), first), { scheme: 'http', host: '10.0.0.4', port: 8080, nodeName: 'n2' });
  assert.deepEqual(serviceProxyTarget(svc, eps, id('https:web:metrics'), () => 0.99), { scheme: 'https', host: '10.0.0.2', port: 9100 });
  assert.throws(() => serviceProxyTarget(svc, eps, id('web:81'), first), err(503, /^no service port 81 found for service "web"$/));
  // Two ports and none named: no endpoint port has the empty name.
  assert.throws(() => serviceProxyTarget(svc, eps, id('web'), first), err(503, /^no endpoints available for service "web"$/));
  assert.throws(() => serviceProxyTarget(svc, undefined, id('web:80'), first), err(503, /^no endpoints available for service "web"$/));
  const single = { spec: { ports: [{ port: 80, targetPort: 8080 }] } };
  assert.deepEqual(serviceProxyTarget(single, { subsets: [{ addresses: [{ ip: '10.0.0.3' }], ports: [{ port: 8080 }] }] }, id('web'), first), { scheme: 'http', host: '10.0.0.3', port: 8080 });
});

test('the target gets no credentials, impersonation or hop-by-hop headers, and its own Host', () => {
  const h = forwardedHeaders(
    { authorization: 'Bearer secret', 'impersonate-user': 'ann', connection: 'keep-alive', host: '127.0.0.1:6443', accept: 'text/html', 'x-forwarded-for': '1.2.3.4' },
    { scheme: 'http', host: 'fd00::5', port: 8080 },
    '127.0.0.1',
  );
  assert.deepEqual(h, { accept: 'text/html', host: '[fd00::5]:8080', 'x-forwarded-for': '1.2.3.4, 127.0.0.1' });
});

test('a node on the loopback pod network is recognised by its condition', () => {
  assert.equal(usesLoopbackPodNetwork({ status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'NetworkPolicyNotEnforced', status: 'True', reason: 'LoopbackPodNetwork' }] } }), true);
  assert.equal(usesLoopbackPodNetwork({ status: { conditions: [{ type: 'Ready', status: 'True' }] } }), false);
  assert.equal(usesLoopbackPodNetwork(undefined), false);
});

test('splitNodeNamePort: a node name with an optional kubelet port', () => {
  assert.deepEqual(splitNodeNamePort('n1'), { name: 'n1' });
  assert.deepEqual(splitNodeNamePort('n1:10250'), { name: 'n1', port: 10250 });
  for (const bad of ['', 'n1:0', 'n1:70000', 'n1:x', 'a:1:2']) assert.throws(() => splitNodeNamePort(bad), err(400, /^invalid node request /), bad);
});
