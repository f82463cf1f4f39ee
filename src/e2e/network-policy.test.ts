/**
 * NetworkPolicy egress and ipBlock end to end, on a cluster composed as `skiff up` does (controllers,
 * scheduler, kubelet with the process runtime, service proxy, cluster DNS) with real pods in their
 * own network namespaces, driven with the real kubectl and busybox inside the pods: an egress
 * default deny blocks a pod's outbound connections and an allow rule (podSelector + port, named
 * port) re-opens them; an ipBlock with `except` allows a CIDR minus one pod; an Egress-only policy
 * leaves ingress open; the usual DNS allow rule (kube-dns pods in kube-system, port 53) lets a pod
 * under default deny resolve names.
 *
 * The policy agent runs beside the cluster with the admin's credentials: it reads the kube-dns
 * EndpointSlice, which the network-policy identity's RBAC does not grant yet.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { BUSYBOX, holdHostPodRange } from '../testing/podrange.js';
import { needs, which } from '../testing/real.js';
import { detectNetworkMode } from '../network/pod/select.js';
import { createNetworkPolicyAgent, type NetworkPolicyAgent } from '../network/policy/policy.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { until } from '../testing/wait.js';



const skip = !which('kubectl')
  ? 'kubectl is not on PATH'
  : !BUSYBOX
    ? 'busybox is not installed (busybox-static)'
    : process.getuid?.() !== 0
      ? 'needs root (policies are enforced in the root network modes only)'
      : !which('ip') || !which('nft')
        ? 'needs iproute2 and nftables'
        : undefined;

/** A busybox web server answering its own name, on container port 8080 named `portName`. */
const server = (name: string, labels: string, portName: string) => `apiVersion: v1
kind: Pod
metadata: { name: ${name}, labels: { ${labels} } }
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: web
    image: busybox
    command: ["${BUSYBOX}", "sh", "-c", 'd=/tmp/www-$HOSTNAME; mkdir -p $d && echo $HOSTNAME > $d/index.html && exec ${BUSYBOX} httpd -f -p $SKIFF_LISTEN_IP:8080 -h $d']
    ports: [{ name: ${portName}, containerPort: 8080 }]
---
`;

const policy = (name: string, spec: string) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: ${name} }
spec:
${spec}
`;

describe('network policy e2e: egress, ipBlock, policyTypes, named ports, DNS', () => {
  let c: TestCluster | undefined;
  let agent: NetworkPolicyAgent | undefined;
  let admin: RestClient | undefined;
  const id = randomBytes(2).toString('hex');
  const prefix = `skp${id}`;
  const ips: Record<string, string> = {};
  let releaseRange: (() => void) | undefined;

  before(async () => {
    if (skip) return;
    releaseRange = await holdHostPodRange();
    c = await startTestCluster({
      components: { controllers: true, scheduler: true, kubelet: true, proxy: true, dns: true, networkPolicy: false },
      up: { networkMode: detectNetworkMode() === 'cni' ? 'cni' : 'netns', networkPrefix: prefix, nodeName: `polnode-${id}`, runtime: 'process' },
    });
    admin = new RestClient(configFromKubeconfig(c.kubeconfig, 'e2e-network-policy'));
    agent = createNetworkPolicyAgent(admin, { nodeName: `polnode-${id}`, mode: 'nftables', table: `${prefix}-policy` });
    await agent.start();
    const manifests =
      server('server', 'app: server', 'http') +
      server('server2', 'app: server2', 'web') +
      // The client serves too, to show that egress-only isolation leaves its ingress open.
      server('client', 'role: client', 'http') +
      `apiVersion: v1
kind: Service
metadata: { name: server-svc }
spec: { selector: { app: server }, ports: [{ name: http, port: 80, targetPort: http }] }
`;
    await until('objects created', async () => !!(await c!.run(['apply', '-f', '-'], manifests)), 60_000);
    const list = await until(
      'pods running',
      async () => {
        const items = JSON.parse(await c!.run(['get', 'pods', '-o', 'json'])).items;
        return items.length === 3 && items.every((p: any) => p.status?.phase === 'Running' && p.status.podIP) ? items : undefined;
      },
      90_000,
    );
    for (const p of list) ips[p.metadata.name] = p.status.podIP;
  });

  after(async () => {
    await agent?.stop();
    admin?.close();
    await c?.stop();
    releaseRange?.();
    if (!skip) assert.throws(() => execFileSync('nft', ['list', 'table', 'ip', `${prefix}-policy`], { stdio: 'pipe' }), 'policy table removed');
  });

  const k = (args: string[], input?: string) => c!.run(args, input);
  const sh = (pod: string, script: string) => k(['exec', pod, '--', BUSYBOX!, 'sh', '-c', script]);
  /**
   * "ok <body>" or "blocked": a GET from one pod to another's 8080 (rejected connections fail
   * fast; busybox 1.35's `wget -T` crashes, hence `timeout`).
   */
  const fetch = async (from: string, to: string) => {
    const out = await sh(from, `${BUSYBOX} timeout 5 ${BUSYBOX} wget -qO- http://${ips[to]}:8080/ 2>/dev/null && echo rc=0 || echo rc=1`);
    return out.includes('rc=0') ? `ok ${out.split('\n')[0].trim()}` : 'blocked';
  };
  const expectEventually = (what: string, from: string, to: string, want: 'ok' | 'blocked') =>
    until(what, async () => ((await fetch(from, to)).startsWith(want) ? true : undefined), 30_000, 200);
  const apply = async (yaml: string) => {
    await k(['apply', '-f', '-'], yaml);
    await agent!.flush();
  };
  const clear = async () => {
    await k(['delete', 'networkpolicy', '--all']);
    await agent!.flush();
    await expectEventually('open again without policies', 'client', 'server2', 'ok');
  };

  it('egress default deny blocks outbound connections (ingress stays open); an allow to a podSelector and port re-opens them', async (t) => {
    if (!needs(t, skip)) return;
    await expectEventually('client → server without policies', 'client', 'server', 'ok');
    await expectEventually('server → client without policies', 'server', 'client', 'ok');
    await apply(policy('client-egress-deny', '  podSelector: { matchLabels: { role: client } }\n  policyTypes: [Egress]'));
    await expectEventually('egress deny blocks client → server', 'client', 'server', 'blocked');
    assert.equal(await fetch('client', 'server2'), 'blocked');
    // Only egress is isolated: the client still takes connections (and answers them).
    assert.equal(await fetch('server', 'client'), 'ok client');
    // Other pods are not selected.
    assert.equal(await fetch('server2', 'server'), 'ok server');

    await apply(
      policy(
        'client-egress-server',
        `  podSelector: { matchLabels: { role: client } }
  policyTypes: [Egress]
  egress: [{ to: [{ podSelector: { matchLabels: { app: server } } }], ports: [{ protocol: TCP, port: 8080 }] }]`,
      ),
    );
    await expectEventually('the allow re-opens client → server', 'client', 'server', 'ok');
    assert.equal(await fetch('client', 'server2'), 'blocked', 'a pod the rule does not select stays blocked');
    // Through the Service too: the policy sees the endpoint after the proxy's DNAT.
    const vip = JSON.parse(await k(['get', 'svc', 'server-svc', '-o', 'json'])).spec.clusterIP;
    assert.match(await sh('client', `${BUSYBOX} timeout 5 ${BUSYBOX} wget -qO- http://${vip}/ 2>&1; echo rc=$?`), /server\s+rc=0/);
    await clear();
  });

  it('named ports resolve on each destination pod', async (t) => {
    if (!needs(t, skip)) return;
    await apply(
      policy(
        'client-egress-http',
        `  podSelector: { matchLabels: { role: client } }
  policyTypes: [Egress]
  egress: [{ to: [{ podSelector: {} }], ports: [{ port: http }] }]`,
      ),
    );
    // server names 8080 `http`; server2 names it `web`, so the rule does not cover it.
    await expectEventually('server2 blocked (its 8080 is not named http)', 'client', 'server2', 'blocked');
    assert.equal(await fetch('client', 'server'), 'ok server');
    await clear();
  });

  it('an ipBlock with except allows a CIDR minus one pod', async (t) => {
    if (!needs(t, skip)) return;
    await apply(
      policy(
        'client-egress-block',
        `  podSelector: { matchLabels: { role: client } }
  policyTypes: [Egress]
  egress: [{ to: [{ ipBlock: { cidr: 10.244.0.0/24, except: ["${ips.server2}/32"] } }] }]`,
      ),
    );
    await expectEventually('server2 (the except) blocked', 'client', 'server2', 'blocked');
    assert.equal(await fetch('client', 'server'), 'ok server', 'the rest of the CIDR is allowed');
    // The same as ingress, on server2: everyone in the CIDR but the client.
    await apply(
      policy(
        'server2-ingress-block',
        `  podSelector: { matchLabels: { app: server2 } }
  ingress: [{ from: [{ ipBlock: { cidr: 10.244.0.0/16, except: ["${ips.client}/32"] } }] }]`,
      ),
    );
    await expectEventually('server → server2 allowed by the ingress ipBlock', 'server', 'server2', 'ok');
    await k(['delete', 'networkpolicy', 'client-egress-block']);
    await agent!.flush();
    await expectEventually('client → server2 refused by server2’s ingress except', 'client', 'server2', 'blocked');
    await k(['delete', 'networkpolicy', '--all']);
    await agent!.flush();
    await expectEventually('open again', 'client', 'server2', 'ok');
  });

  it('DNS under egress default deny: blocked, then allowed by the usual kube-dns rule', async (t) => {
    if (!needs(t, skip)) return;
    const vip = JSON.parse(await k(['get', 'svc', 'server-svc', '-o', 'json'])).spec.clusterIP as string;
    const lookup = async () => {
      const out = await sh('client', `${BUSYBOX} timeout 4 ${BUSYBOX} nslookup server-svc.default.svc.cluster.local 2>&1; echo rc=$?`);
      // The answer, not the "Server: 10.96.0.10" line.
      return /rc=0/.test(out) && out.split('server-svc')[1]?.includes(vip);
    };
    await until('DNS answers before any policy', lookup, 30_000, 200);
    await apply(policy('deny-egress', '  podSelector: {}\n  policyTypes: [Egress]'));
    await until('DNS blocked by the default deny', async () => !(await lookup()), 30_000, 200);
    await apply(
      policy(
        'allow-dns',
        `  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: kube-system } }
      podSelector: { matchLabels: { k8s-app: kube-dns } }
    ports: [{ protocol: UDP, port: 53 }, { protocol: TCP, port: 53 }]`,
      ),
    );
    await until('DNS allowed by the kube-dns rule', lookup, 30_000, 200);
    assert.equal(await fetch('client', 'server'), 'blocked', 'only DNS is allowed');
    await clear();
  });
});
