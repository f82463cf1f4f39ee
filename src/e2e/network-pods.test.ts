/**
 * Pod networking end to end, as `skiff up` composes it (controllers, scheduler, kubelet with the
 * process runtime, service proxy, cluster DNS), driven with the real kubectl and busybox inside
 * the pods: a pod's IP comes from the node's podCIDR (10.244.0.0/24, given by the node IPAM
 * controller) inside its own network namespace; pods reach each other by pod IP; a Service's
 * ClusterIP spreads traffic over its 3 ready pods and never to a pod failing readiness; the
 * pod's resolver (search domains, ndots:5) answers the Service name with its ClusterIP.
 * Root modes (cni, netns) run where possible; loopback mode runs everywhere (pods listen on their
 * IP's 127 alias, which is what they connect to as well).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { needs, which } from '../testing/real.js';
import { detectNetworkMode } from '../network/pod/select.js';
import { loopbackAlias } from '../network/proxy/userspace.js';
import { BUSYBOX, holdHostPodRange } from '../testing/podrange.js';
import type { NetworkMode } from '../network/pod/types.js';
import { detectCgroups } from '../runtime/process/cgroup.js';
import { until } from '../testing/wait.js';

const root = process.getuid?.() === 0;



function reason(mode: NetworkMode): string | undefined {
  if (!which('kubectl')) return 'kubectl is not on PATH';
  if (!BUSYBOX) return 'busybox is not installed (busybox-static)';
  if (mode === 'loopback') return process.platform === 'linux' ? undefined : 'loopback aliases need Linux';
  if (!root) return 'needs root';
  if (!which('ip') || !which('nft')) return 'needs iproute2 and nftables';
  if (mode === 'cni' && detectNetworkMode() !== 'cni') return 'CNI plugins (bridge, host-local, loopback, portmap) are not installed';
  return undefined;
}


function webPod(name: string, www: string, readyPath: string): string {
  return `apiVersion: v1
kind: Pod
metadata: { name: ${name}, labels: { app: web } }
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: web
    image: busybox
    command: ["${BUSYBOX}", "sh", "-c", 'd=$WWW/$HOSTNAME; mkdir -p $d && echo $HOSTNAME > $d/index.html && exec ${BUSYBOX} httpd -f -p $SKIFF_LISTEN_IP:8080 -h $d']
    env: [{ name: WWW, value: "${www}" }]
    ports: [{ name: http, containerPort: 8080 }]
    readinessProbe: { httpGet: { path: ${readyPath}, port: 8080 }, periodSeconds: 1, failureThreshold: 1 }
---
`;
}

const clientPod = () => `apiVersion: v1
kind: Pod
metadata: { name: client, labels: { role: client } }
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - { name: c, image: busybox, command: ["${BUSYBOX}", "sleep", "3600"] }
---
apiVersion: v1
kind: Service
metadata: { name: my-svc }
spec: { selector: { app: web }, ports: [{ name: http, port: 80, targetPort: http }] }
`;

for (const mode of ['cni', 'netns', 'loopback'] as NetworkMode[]) {
  describe(`pod network e2e: ${mode} mode`, () => {
    let c: TestCluster | undefined;
    const id = randomBytes(2).toString('hex');
    const prefix = `skt${id}`;
    let www = '';
    let releaseRange: (() => void) | undefined;
    const skip = reason(mode);

    before(async () => {
      if (skip) return;
      // The cluster uses 10.244.0.0/24 on this host: wait for another test's cluster to give it back.
      if (mode !== 'loopback') {
        releaseRange = await holdHostPodRange();
      }
      www = mkdtempSync(path.join(tmpdir(), 'skiff-www-'));
      c = await startTestCluster({
        components: { controllers: true, scheduler: true, kubelet: true, proxy: true, dns: true, networkPolicy: true },
        up: { networkMode: mode, networkPrefix: prefix, nodeName: `netnode-${id}`, runtime: 'process' },
      });
    });

    after(async () => {
      await c?.stop();
      releaseRange?.();
      if (www) rmSync(www, { recursive: true, force: true });
      if (mode !== 'loopback' && !skip) {
        // Nothing of ours may be left behind: no bridge, namespaces or tables.
        let bridgeLeft = false;
        try {
          execFileSync('ip', ['link', 'del', `${prefix}0`], { stdio: 'ignore' });
          bridgeLeft = true;
        } catch {
          /* removed on stop */
        }
        assert.ok(!bridgeLeft, 'bridge removed on stop');
        const left = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith(`${prefix}-`));
        assert.deepEqual(left, [], 'network namespaces removed');
        assert.throws(() => execFileSync('nft', ['list', 'table', 'ip', `${prefix}-proxy`], { stdio: 'pipe' }), 'nft table removed');
      }
    });

    const k = (args: string[], input?: string) => c!.run(args, input);
    const sh = (pod: string, script: string) => k(['exec', pod, '--', BUSYBOX!, 'sh', '-c', script]);
    const pod = async (name: string) => JSON.parse(await k(['get', 'pod', name, '-o', 'json']));
    /** Where a pod IP is reached from inside a pod: the IP itself, or its alias in loopback mode. */
    const reach = (ip: string) => (mode === 'loopback' ? loopbackAlias(ip) : ip);

    it('pods get IPs of the node range, reach each other, and a Service spreads over its ready pods; DNS answers it', async (t) => {
      if (!needs(t, skip)) return;
      const manifests = ['web-0', 'web-1', 'web-2'].map((n) => webPod(n, www, '/index.html')).join('') + webPod('web-bad', www, '/nope') + clientPod();
      // The default ServiceAccount appears shortly after the namespace does (admission needs it).
      await until('objects created', async () => !!(await k(['apply', '-f', '-'], manifests)));
      await until('pods running', async () => {
        const list = JSON.parse(await k(['get', 'pods', '-o', 'json'])).items;
        return list.length === 5 && list.every((p: any) => p.status?.phase === 'Running' && p.status.podIP) ? list : undefined;
      });
      const node = JSON.parse(await k(['get', 'node', `netnode-${id}`, '-o', 'json']));
      // Loopback clusters get a range of their own when another loopback cluster runs on this machine.
      if (mode === 'loopback') assert.match(node.spec.podCIDR, /^10\.(24[4-9]|25[0-2])\.0\.0\/24$/);
      else assert.equal(node.spec.podCIDR, '10.244.0.0/24');
      const podNet = node.spec.podCIDR.split('.').slice(0, 3).join('.');

      // 1. Each pod's IP is of the node's /24, distinct, in status.podIPs too.
      const pods = await Promise.all(['web-0', 'web-1', 'web-2', 'web-bad', 'client'].map(pod));
      const ips = pods.map((p) => p.status.podIP as string);
      for (const p of pods) {
        assert.ok(p.status.podIP.startsWith(`${podNet}.`), `${p.metadata.name}: ${p.status.podIP}`);
        assert.deepEqual(p.status.podIPs, [{ ip: p.status.podIP }]);
      }
      assert.equal(new Set(ips).size, ips.length, 'pod IPs are unique');

      if (mode !== 'loopback') {
        // 2. …inside its own network namespace, on eth0, with a route out through the gateway.
        const addr = await k(['exec', 'web-0', '--', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
        assert.ok(addr.includes(`inet ${ips[0]}/24`), addr);
        const hostNs = readlinkSync('/proc/self/ns/net');
        const podNs = (await sh('web-0', 'readlink /proc/self/ns/net')).trim();
        assert.notEqual(podNs, hostNs, 'the pod has its own network namespace');
        assert.notEqual(podNs, (await sh('web-1', 'readlink /proc/self/ns/net')).trim(), 'one namespace per pod');
        if (detectCgroups()) {
          // The namespace does not cost the pod its cgroup (limits still apply).
          const r = await c!.kubectl(['exec', 'web-0', '--', 'cat', '/proc/self/cgroup']);
          assert.equal(r.stderr, '');
          assert.ok(r.stdout.includes(`/skiff/pod${pods[0].metadata.uid}/`), r.stdout);
        }
        const resolv = await sh('client', 'cat /etc/resolv.conf');
        assert.match(resolv, /^nameserver 10\.96\.0\.10$/m);
        assert.match(resolv, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/m);
        assert.match(resolv, /^options ndots:5$/m);
      }

      // 3. Pod to pod by pod IP.
      const body = await until('client reaches web-1 by pod IP', async () => (await sh('client', `${BUSYBOX} wget -qO- http://${reach(ips[1])}:8080/`)).trim());
      assert.equal(body, 'web-1');

      // 4. The EndpointSlice carries the 3 ready pods (web-bad is not ready) …
      await until('EndpointSlice with 3 ready endpoints', async () => {
        const s = JSON.parse(await k(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=my-svc', '-o', 'json'])).items;
        const ready = s.flatMap((x: any) => x.endpoints ?? []).filter((e: any) => e.conditions?.ready).map((e: any) => e.addresses[0]);
        return ready.length === 3 && !ready.includes(ips[3]);
      });
      // … and traffic through the ClusterIP reaches all three, never web-bad.
      const svc = JSON.parse(await k(['get', 'svc', 'my-svc', '-o', 'json']));
      const vip = reach(svc.spec.clusterIP);
      const seen = new Map<string, number>();
      await until('traffic through the ClusterIP reaches all 3 ready pods', async () => {
        const out = await sh('client', `for i in $(seq 30); do ${BUSYBOX} wget -qO- http://${vip}/ || echo FAIL; done`);
        for (const l of out.split('\n').filter(Boolean)) seen.set(l.trim(), (seen.get(l.trim()) ?? 0) + 1);
        return ['web-0', 'web-1', 'web-2'].every((n) => seen.has(n));
      });
      assert.ok(!seen.has('web-bad'), `a pod failing readiness got traffic: ${JSON.stringify([...seen])}`);
      t.diagnostic(`${mode}: requests per pod through ${vip}: ${JSON.stringify(Object.fromEntries(seen))}`);

      // 5. The same through a NodePort on the node (from a pod: the node is its gateway in root modes).
      await k(['patch', 'svc', 'my-svc', '-p', '{"spec":{"type":"NodePort"}}']);
      const nodePort = JSON.parse(await k(['get', 'svc', 'my-svc', '-o', 'json'])).spec.ports[0].nodePort;
      const nodeAddr = mode === 'loopback' ? '127.0.0.1' : '10.244.0.1';
      const viaNodePort = new Set<string>();
      await until('traffic through the NodePort reaches all 3 ready pods', async () => {
        const out = await sh('client', `for i in $(seq 30); do ${BUSYBOX} wget -qO- http://${nodeAddr}:${nodePort}/ || echo FAIL; done`);
        for (const l of out.split('\n').filter(Boolean)) viaNodePort.add(l.trim());
        return ['web-0', 'web-1', 'web-2'].every((n) => viaNodePort.has(n));
      });
      assert.ok(!viaNodePort.has('web-bad'));

      // 6. DNS from inside a pod: the Service name answers its ClusterIP.
      if (mode !== 'loopback') {
        const ns = await until('nslookup answers', async () => {
          const out = await sh('client', `${BUSYBOX} nslookup my-svc.default.svc.cluster.local`);
          return out.includes(svc.spec.clusterIP) ? out : undefined;
        });
        assert.match(ns, new RegExp(`Address:\\s*${svc.spec.clusterIP.replace(/\./g, '\\.')}`));
        if (which('dig')) {
          // The search list and ndots:5 of the pod's resolv.conf turn a short name into the Service.
          const short = (await k(['exec', 'client', '--', 'dig', '+search', '+short', 'my-svc'])).trim();
          assert.equal(short, svc.spec.clusterIP);
        }
      } else {
        // No mount namespace without root: ask kube-dns's ClusterIP (alias) explicitly.
        const dnsIP = JSON.parse(await k(['-n', 'kube-system', 'get', 'svc', 'kube-dns', '-o', 'json'])).spec.clusterIP;
        const out = await until('nslookup answers', async () => {
          const o = await sh('client', `${BUSYBOX} nslookup my-svc.default.svc.cluster.local ${loopbackAlias(dnsIP)}`);
          return o.includes(vip) ? o : undefined;
        });
        assert.ok(out.includes(vip));
      }

      // 7. NetworkPolicy: default deny for the web pods blocks the client; an allow rule re-opens it.
      const deny = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web-deny }
spec: { podSelector: { matchLabels: { app: web } }, policyTypes: [Ingress] }
`;
      const allow = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web-allow-client }
spec:
  podSelector: { matchLabels: { app: web } }
  ingress: [{ from: [{ podSelector: { matchLabels: { role: client } } }], ports: [{ port: http }] }]
`;
      await k(['apply', '-f', '-'], deny);
      if (mode === 'loopback') {
        // Not enforceable without root: the Node says so, and so does an event on the policy.
        const cond = await until('Node condition NetworkPolicyNotEnforced', async () => {
          const n = JSON.parse(await k(['get', 'node', `netnode-${id}`, '-o', 'json']));
          return n.status.conditions.find((x: any) => x.type === 'NetworkPolicyNotEnforced');
        });
        assert.equal(cond.status, 'True');
        await until('Warning event on the policy', async () => {
          const ev = JSON.parse(await k(['get', 'events', '--field-selector', 'involvedObject.name=web-deny', '-o', 'json'])).items;
          return ev.some((e: any) => e.type === 'Warning' && e.reason === 'NetworkPolicyNotEnforced' && e.involvedObject.kind === 'NetworkPolicy');
        });
        return;
      }
      const fetch = (from: string, ip: string) => sh(from, `${BUSYBOX} wget -qO- http://${ip}:8080/ 2>&1; echo rc=$?`);
      await until('default deny blocks the client', async () => /rc=[1-9]/.test(await fetch('client', ips[1])));
      assert.match(await sh('client', `${BUSYBOX} wget -qO- http://${svc.spec.clusterIP}/ 2>&1; echo rc=$?`), /rc=[1-9]/, 'blocked through the ClusterIP too');
      await k(['apply', '-f', '-'], allow);
      await until('the allow rule re-opens it for the client', async () => (await fetch('client', ips[1])).includes('web-1\nrc=0'));
      assert.match(await fetch('web-0', ips[1]), /rc=[1-9]/, 'a pod the rule does not name stays blocked');
      // Probes come from the node, which policies never block: web-1 stays ready.
      assert.ok((await pod('web-1')).status.conditions.find((x: any) => x.type === 'Ready')?.status === 'True');
      await k(['delete', 'networkpolicy', 'web-deny', 'web-allow-client']);
      await until('open again without policies', async () => (await fetch('web-0', ips[1])).includes('rc=0'));
    });
  });
}
