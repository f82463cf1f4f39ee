/**
 * The service proxy against a real API server: Services and EndpointSlices written with kubectl,
 * traffic through the ClusterIP (and NodePort) spread over every ready endpoint, a not-ready
 * endpoint gets none, ClientIP affinity sticks. User-space mode on loopback; nftables mode (root)
 * into a network namespace the test creates and removes.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { needs, which } from '../testing/real.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { createServiceProxy, type ServiceProxy } from '../network/proxy/proxy.js';
import { loopbackAlias } from '../network/proxy/userspace.js';
import { until } from '../testing/wait.js';
import { firstOutput } from '../testing/child.js';

const kubectlMissing = which('kubectl') ? undefined : 'kubectl is not on PATH';
const isRoot = process.getuid?.() === 0;
const rootMissing = !isRoot ? 'needs root' : !which('nft') ? 'nft is not installed' : !which('ip') ? 'iproute2 is not installed' : undefined;


/** GET http://host:port/ on a fresh connection; the body names the endpoint that answered. */
function get(host: string, port: number, localAddress?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/', agent: false, localAddress, timeout: 2000 }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve(b));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function sliceYaml(name: string, svc: string, eps: { ip: string; ready?: boolean }[], port: number): string {
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ${name}, labels: { kubernetes.io/service-name: ${svc} } }
addressType: IPv4
ports: [{ name: http, port: ${port}, protocol: TCP }]
endpoints:
${eps.map((e) => `- addresses: ["${e.ip}"]\n  conditions: { ready: ${e.ready !== false}, serving: ${e.ready !== false}, terminating: false }`).join('\n')}
`;
}

function svcYaml(name: string, type: string, port: number, targetPort: number): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name} }
spec: { type: ${type}, ports: [{ name: http, port: ${port}, targetPort: ${targetPort} }] }
`;
}

describe('service proxy', () => {
  let c: TestCluster;
  let client: RestClient;
  before(async () => {
    c = await startTestCluster();
    client = new RestClient(configFromKubeconfig(c.kubeconfig, 'e2e'));
  });
  after(async () => {
    client?.close();
    await c?.stop();
  });
  const k = (args: string[], input?: string) => c.run(args, input);

  it('user-space mode: ClusterIP alias and NodePort spread over ready endpoints; affinity sticks', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    const ips = ['127.77.0.1', '127.77.0.2', '127.77.0.3'];
    const servers = await Promise.all(
      ips.map(
        (ip) =>
          new Promise<http.Server>((r) => {
            const s = http.createServer((_q, res) => res.end(ip));
            s.listen(0, ip, () => r(s));
          }),
      ),
    );
    // Every backend on one port number, as pods of one Service would be.
    const port = (servers[0].address() as any).port as number;
    for (const s of servers.slice(1)) await new Promise<void>((r) => s.close(() => r()));
    const rest = await Promise.all(
      ips.slice(1).map(
        (ip) =>
          new Promise<http.Server | undefined>((r) => {
            const s = http.createServer((_q, res) => res.end(ip));
            s.once('error', () => r(undefined));
            s.listen(port, ip, () => r(s));
          }),
      ),
    );
    const all = [servers[0], ...rest.filter((s): s is http.Server => !!s)];
    assert.equal(all.length, 3, 'three backends on one port');
    const proxy: ServiceProxy = createServiceProxy(client, { mode: 'userspace', nodeIP: '127.0.0.1' });
    // Slices carry the pod IPs (loopback addresses are invalid there); pods listen on the aliases.
    const podIPs = ips.map((ip) => ip.replace(/^127\./, '10.'));
    try {
      await k(['apply', '-f', '-'], svcYaml('web', 'NodePort', 18080, 8080));
      await k(['apply', '-f', '-'], sliceYaml('web-1', 'web', podIPs.map((ip) => ({ ip })), port));
      await proxy.start();
      const svc = JSON.parse(await k(['get', 'svc', 'web', '-o', 'json']));
      const vip = loopbackAlias(svc.spec.clusterIP);
      const nodePort = svc.spec.ports[0].nodePort;
      const seen = new Set<string>();
      await until('all 3 endpoints answer through the ClusterIP alias', async () => {
        seen.add(await get(vip, 18080));
        return seen.size === 3;
      });
      const viaNodePort = new Set<string>();
      await until('all 3 endpoints answer through the NodePort', async () => {
        viaNodePort.add(await get('127.0.0.1', nodePort));
        return viaNodePort.size === 3;
      });
      // Readiness lost: the endpoint gets no more traffic.
      await k(['apply', '-f', '-'], sliceYaml('web-1', 'web', podIPs.map((ip, i) => ({ ip, ready: i !== 1 })), port));
      await until('slice change applied', async () => {
        await proxy.flush();
        return proxy.lastSync.at > 0;
      });
      await until('endpoint 2 drained', async () => {
        const r = await Promise.all(Array.from({ length: 20 }, () => get(vip, 18080)));
        return !r.includes(ips[1]);
      });
      // ClientIP affinity: one client, one endpoint.
      await k(['patch', 'svc', 'web', '-p', '{"spec":{"sessionAffinity":"ClientIP"}}']);
      await until('affinity holds', async () => {
        const r = new Set(await Promise.all(Array.from({ length: 10 }, () => get(vip, 18080, '127.0.0.5'))));
        return r.size === 1;
      });
    } finally {
      await proxy.stop();
      for (const s of all) s.close();
    }
  });

  it('nftables mode: DNAT to endpoints in a network namespace, random and affinity balancing', async (t) => {
    if (!needs(t, kubectlMissing ?? rootMissing)) return;
    const id = randomBytes(3).toString('hex');
    const ns = `skt-${id}`;
    const table = `skiff-proxy-t${id}`;
    const hostIf = `skh${id}`;
    const octet = 16 + (parseInt(id, 16) % 200);
    const net = `10.251.${octet}`;
    const sh = (cmd: string[]) => execFileSync(cmd[0], cmd.slice(1), { stdio: 'pipe' });
    let server: ChildProcess | undefined;
    const proxy = createServiceProxy(client, { mode: 'nftables', table, clusterCIDR: '10.244.0.0/16' });
    try {
      sh(['ip', 'netns', 'add', ns]);
      sh(['ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      sh(['ip', 'addr', 'add', `${net}.1/24`, 'dev', hostIf]);
      sh(['ip', 'link', 'set', hostIf, 'up']);
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      for (const i of [2, 3, 4]) sh(['ip', '-n', ns, 'addr', 'add', `${net}.${i}/24`, 'dev', 'eth0']);
      sh(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      const script = `require('http').createServer((q,s)=>s.end(q.socket.localAddress.replace('::ffff:',''))).listen(8080,'0.0.0.0',()=>console.log('up'))`;
      server = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      await firstOutput(server, 'the endpoint server in the namespace');
      await k(['apply', '-f', '-'], svcYaml('nft', 'ClusterIP', 80, 8080));
      await k(['apply', '-f', '-'], sliceYaml('nft-1', 'nft', [2, 3, 4].map((i) => ({ ip: `${net}.${i}` })), 8080));
      await proxy.start();
      const svc = JSON.parse(await k(['get', 'svc', 'nft', '-o', 'json']));
      const seen = new Set<string>();
      await until('all 3 endpoints answer through the ClusterIP', async () => {
        seen.add(await get(svc.spec.clusterIP, 80));
        return seen.size === 3;
      });
      await k(['apply', '-f', '-'], sliceYaml('nft-1', 'nft', [2, 3, 4].map((i) => ({ ip: `${net}.${i}`, ready: i !== 3 })), 8080));
      await until('endpoint .3 drained', async () => {
        const r = await Promise.all(Array.from({ length: 20 }, () => get(svc.spec.clusterIP, 80)));
        return !r.includes(`${net}.3`);
      });
      await k(['patch', 'svc', 'nft', '-p', '{"spec":{"sessionAffinity":"ClientIP"}}']);
      await until('affinity holds', async () => {
        const r = new Set<string>();
        for (let i = 0; i < 8; i++) r.add(await get(svc.spec.clusterIP, 80));
        return r.size === 1;
      });
      // No endpoints: rejected at once rather than timing out.
      await k(['apply', '-f', '-'], sliceYaml('nft-1', 'nft', [{ ip: `${net}.2`, ready: false }], 8080));
      await until('rejected', async () => get(svc.spec.clusterIP, 80).then(() => false, (e) => /ECONNREFUSED|EHOSTUNREACH/.test(String(e))));
    } finally {
      await proxy.stop();
      server?.kill();
      try {
        sh(['ip', 'netns', 'del', ns]);
      } catch {
        /* already gone */
      }
      try {
        sh(['ip', 'link', 'del', hostIf]);
      } catch {
        /* went with the namespace */
      }
    }
    assert.throws(() => sh(['nft', 'list', 'table', 'ip', table]), 'table removed on stop');
  });
});
