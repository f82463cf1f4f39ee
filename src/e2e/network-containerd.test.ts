/**
 * The networking e2e (network-pods.test.ts) with `--runtime containerd`: `skiff up`'s components
 * (controllers, scheduler, kubelet, service proxy, cluster DNS, NetworkPolicy agent) with real
 * containers from a loopback registry standing in for docker.io, driven with the real kubectl.
 * Pod IPs come from the node's 10.244.0.0/24 through containerd's CNI bridge; pods reach each
 * other, a Service's ClusterIP and NodePort spread over its ready pods only, the pod's resolver
 * answers the Service name, and NetworkPolicy applies to the containers' traffic.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { needs, which } from '../testing/real.js';
import { holdHostPodRange } from '../testing/podrange.js';
import { until } from '../testing/wait.js';
import { startTestRegistry, type TestRegistry } from '../images/distribution.js';
import { busyboxImage } from '../images/testimages.js';
import { containerdFixtureMissing } from '../runtime/containerd/testing.js';

const webPod = (name: string, readyPath: string) => `apiVersion: v1
kind: Pod
metadata: { name: ${name}, labels: { app: web } }
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: web
    image: busybox
    command: ["sh", "-c", 'd=/tmp/www; mkdir -p $d && hostname > $d/index.html && exec httpd -f -p 8080 -h $d']
    ports: [{ name: http, containerPort: 8080 }]
    readinessProbe: { httpGet: { path: ${readyPath}, port: 8080 }, periodSeconds: 1, failureThreshold: 1 }
---
`;

const clientPod = `apiVersion: v1
kind: Pod
metadata: { name: client, labels: { role: client } }
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - { name: c, image: busybox, command: ["sleep", "3600"] }
---
apiVersion: v1
kind: Service
metadata: { name: my-svc }
spec: { selector: { app: web }, ports: [{ name: http, port: 80, targetPort: http }] }
`;

describe('pod network e2e: containerd runtime (real kubectl)', () => {
  let c: TestCluster | undefined;
  let registry: TestRegistry | undefined;
  let releaseRange: (() => void) | undefined;
  const id = randomBytes(2).toString('hex');
  const skip = which('kubectl') ? (containerdFixtureMissing() ?? (which('nft') ? undefined : 'needs nftables')) : 'kubectl is not on PATH';

  before(async () => {
    if (skip) return;
    registry = await startTestRegistry(); // Debian's docker-registry where installed
    await registry.publish(busyboxImage('docker.io/library/busybox:latest'), 'library/busybox', 'latest');
    // The node gets 10.244.0.0/24 on the host's routing table: take turns with the other network tests.
    releaseRange = await holdHostPodRange();
    c = await startTestCluster({
      components: { controllers: true, scheduler: true, kubelet: true, proxy: true, dns: true, networkPolicy: true },
      up: { runtime: 'containerd', registryMirrors: { 'docker.io': [`http://${registry.host}`] }, networkPrefix: `skc${id}`, nodeName: `ctrnode-${id}` },
    });
  });

  after(async () => {
    await c?.stop();
    releaseRange?.();
    await registry?.close();
  });

  const k = (args: string[], input?: string) => c!.run(args, input);
  const sh = (pod: string, script: string) => k(['exec', pod, '--', 'sh', '-c', script]);
  const pod = async (name: string) => JSON.parse(await k(['get', 'pod', name, '-o', 'json']));

  it('pods get IPs of the node range in their own namespaces, reach each other, a Service spreads over its ready pods, DNS answers it, NetworkPolicy applies', async (t) => {
    if (!needs(t, skip)) return;
    const manifests = ['web-0', 'web-1', 'web-2'].map((n) => webPod(n, '/index.html')).join('') + webPod('web-bad', '/nope') + clientPod;
    await until('objects created', async () => !!(await k(['apply', '-f', '-'], manifests)));
    await until(
      'pods running',
      async () => {
        const list = JSON.parse(await k(['get', 'pods', '-o', 'json'])).items;
        return list.length === 5 && list.every((p: any) => p.status?.phase === 'Running' && p.status.podIP) ? list : undefined;
      },
      120_000,
    );
    const node = JSON.parse(await k(['get', 'node', `ctrnode-${id}`, '-o', 'json']));
    assert.equal(node.spec.podCIDR, '10.244.0.0/24');
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\//);

    // 1. Each pod's IP is of the node's /24, distinct; containers are containerd's.
    const pods = await Promise.all(['web-0', 'web-1', 'web-2', 'web-bad', 'client'].map(pod));
    const ips = pods.map((p) => p.status.podIP as string);
    for (const p of pods) {
      assert.ok(p.status.podIP.startsWith('10.244.0.'), `${p.metadata.name}: ${p.status.podIP}`);
      assert.deepEqual(p.status.podIPs, [{ ip: p.status.podIP }]);
      assert.match(p.status.containerStatuses[0].containerID, /^containerd:\/\//);
    }
    assert.equal(new Set(ips).size, ips.length, 'pod IPs are unique');

    // 2. …inside its own network namespace, on eth0; the resolver is the cluster's.
    const addr = await sh('web-0', 'ip -4 -o addr show eth0');
    assert.ok(addr.includes(`inet ${ips[0]}/24`), addr);
    const podNs = (await sh('web-0', 'readlink /proc/self/ns/net')).trim();
    assert.notEqual(podNs, readlinkSync('/proc/self/ns/net'), 'the pod has its own network namespace');
    assert.notEqual(podNs, (await sh('web-1', 'readlink /proc/self/ns/net')).trim(), 'one namespace per pod');
    const resolv = await sh('client', 'cat /etc/resolv.conf');
    assert.match(resolv, /^nameserver 10\.96\.0\.10$/m);
    assert.match(resolv, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/m);
    assert.match(resolv, /^options ndots:5$/m);

    // 3. Pod to pod by pod IP.
    const body = await until('client reaches web-1 by pod IP', async () => (await sh('client', `wget -qO- http://${ips[1]}:8080/`)).trim());
    assert.equal(body, 'web-1');

    // 4. The ClusterIP reaches the three ready pods, never the one failing readiness.
    await until('EndpointSlice with 3 ready endpoints', async () => {
      const s = JSON.parse(await k(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=my-svc', '-o', 'json'])).items;
      const ready = s.flatMap((x: any) => x.endpoints ?? []).filter((e: any) => e.conditions?.ready).map((e: any) => e.addresses[0]);
      return ready.length === 3 && !ready.includes(ips[3]);
    });
    const svc = JSON.parse(await k(['get', 'svc', 'my-svc', '-o', 'json']));
    const seen = new Map<string, number>();
    await until('traffic through the ClusterIP reaches all 3 ready pods', async () => {
      const out = await sh('client', `for i in $(seq 30); do wget -qO- http://${svc.spec.clusterIP}/ || echo FAIL; done`);
      for (const l of out.split('\n').filter(Boolean)) seen.set(l.trim(), (seen.get(l.trim()) ?? 0) + 1);
      return ['web-0', 'web-1', 'web-2'].every((n) => seen.has(n));
    });
    assert.ok(!seen.has('web-bad'), `a pod failing readiness got traffic: ${JSON.stringify([...seen])}`);

    // 5. The same through a NodePort on the node (the bridge gateway, from a pod).
    await k(['patch', 'svc', 'my-svc', '-p', '{"spec":{"type":"NodePort"}}']);
    const nodePort = JSON.parse(await k(['get', 'svc', 'my-svc', '-o', 'json'])).spec.ports[0].nodePort;
    const viaNodePort = new Set<string>();
    await until('traffic through the NodePort reaches all 3 ready pods', async () => {
      const out = await sh('client', `for i in $(seq 30); do wget -qO- http://10.244.0.1:${nodePort}/ || echo FAIL; done`);
      for (const l of out.split('\n').filter(Boolean)) viaNodePort.add(l.trim());
      return ['web-0', 'web-1', 'web-2'].every((n) => viaNodePort.has(n));
    });
    assert.ok(!viaNodePort.has('web-bad'));

    // 6. DNS from inside the container: the Service name answers its ClusterIP.
    const ns = await until('nslookup answers', async () => {
      const out = await sh('client', 'nslookup my-svc.default.svc.cluster.local').catch(() => '');
      return out.includes(svc.spec.clusterIP) ? out : undefined;
    });
    assert.match(ns, new RegExp(`Address:\\s*${svc.spec.clusterIP.replace(/\./g, '\\.')}`));

    // 7. NetworkPolicy: default deny for the web pods blocks the client; an allow rule re-opens it.
    const fetch = (from: string, ip: string) => sh(from, `wget -qO- http://${ip}:8080/ 2>&1; echo rc=$?`);
    await k(['apply', '-f', '-'], 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: { name: web-deny }\nspec: { podSelector: { matchLabels: { app: web } }, policyTypes: [Ingress] }\n');
    await until('default deny blocks the client', async () => /rc=[1-9]/.test(await fetch('client', ips[1])));
    await k(
      ['apply', '-f', '-'],
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: { name: web-allow-client }\nspec:\n  podSelector: { matchLabels: { app: web } }\n  ingress: [{ from: [{ podSelector: { matchLabels: { role: client } } }], ports: [{ port: http }] }]\n',
    );
    await until('the allow rule re-opens it for the client', async () => (await fetch('client', ips[1])).includes('web-1\nrc=0'));
    assert.match(await fetch('web-0', ips[1]), /rc=[1-9]/, 'a pod the rule does not name stays blocked');
    await k(['delete', 'networkpolicy', 'web-deny', 'web-allow-client']);
    await until('open again without policies', async () => (await fetch('web-0', ips[1])).includes('rc=0'));
  });
});
