/**
 * `kubectl top` and the Prometheus endpoints with the real kubectl: an in-process API server and a
 * real kubelet (process runtime) running a pod; metrics.k8s.io is served by the API server from
 * the kubelet's /metrics/resource.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { issueClientCert } from '../pki/ca.js';
import { writeKubeconfig } from '../pki/kubeconfig.js';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { createKubelet } from '../kubelet/agent.js';
import { needs, which } from '../testing/real.js';
import { until } from '../testing/wait.js';
import { parseSamples } from '../util/prometheus.js';

const NODE = 'skiff-metrics-node';
const POD = 'top-sleeper';

/** kubectl's top columns split on runs of spaces. */
const rows = (out: string) => out.trim().split('\n').map((l) => l.trim().split(/\s+/));

describe('kubectl top and /metrics (real kubelet, real kubectl)', () => {
  let tc: TestCluster;
  let stopKubelet: (() => Promise<void>) | undefined;

  before(async (t) => {
    if (!needs(t as any, which('kubectl') ? undefined : 'kubectl not on PATH')) return;
    tc = await startTestCluster();
    const client = new RestClient(configFromKubeconfig(tc.kubeconfig, 'metrics-e2e'));
    const comp = createKubelet(client, { nodeName: NODE, dataDir: path.join(tc.dataDir, 'kubelet'), runtime: 'process', podCIDR: '10.244.11.0/24', port: 0, resyncMs: 2000 });
    await comp.start();
    stopKubelet = () => comp.stop();
    // A shell that holds a few MB (so its memory shows in Mi) and then sleeps.
    const script = 'x=$(head -c 4000000 /dev/zero | tr "\\0" a); while true; do sleep 1; done';
    await tc.run(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: POD, namespace: 'default', labels: { app: 'top' } }, spec: { nodeName: NODE, terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', script], resources: { limits: { memory: '64Mi' } } }] } }));
    await until('pod running', async () => {
      const r = await tc.kubectl(['get', 'pod', POD, '-o', 'jsonpath={.status.phase}']);
      return r.stdout === 'Running' ? true : undefined;
    });
  });

  after(async () => {
    await stopKubelet?.();
    await tc?.stop();
  });

  it('kubectl top node: upstream columns with CPU and memory figures', async () => {
    const out = await until('kubectl top node', async () => {
      const r = await tc.kubectl(['top', 'node']);
      return r.code === 0 && r.stdout.includes(NODE) ? r.stdout : undefined;
    });
    const [head, row] = rows(out);
    assert.deepEqual(head, ['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)']);
    assert.equal(row[0], NODE);
    assert.match(row[1], /^\d+m$/);
    assert.match(row[2], /^\d+%$/);
    assert.match(row[3], /^[1-9]\d*Mi$/);
    assert.match(row[4], /^\d+%$/);
  });

  it('kubectl top pod, --containers, -A --sort-by=memory: upstream columns, non-zero memory', async () => {
    const out = await until('kubectl top pod', async () => {
      const r = await tc.kubectl(['top', 'pod']);
      return r.code === 0 && r.stdout.includes(POD) ? r.stdout : undefined;
    });
    const [head, row] = rows(out);
    assert.deepEqual(head, ['NAME', 'CPU(cores)', 'MEMORY(bytes)']);
    assert.equal(row[0], POD);
    assert.match(row[1], /^\d+m$/);
    assert.match(row[2], /^[1-9]\d*Mi$/);

    const [chead, crow] = rows(await tc.run(['top', 'pod', POD, '--containers']));
    assert.deepEqual(chead, ['POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)']);
    assert.deepEqual(crow.slice(0, 2), [POD, 'main']);

    const [ahead, ...arows] = rows(await tc.run(['top', 'pod', '-A', '--sort-by=memory']));
    assert.deepEqual(ahead, ['NAMESPACE', 'NAME', 'CPU(cores)', 'MEMORY(bytes)']);
    assert.ok(arows.some((r) => r[0] === 'default' && r[1] === POD));

    assert.equal(rows(await tc.run(['top', 'pod', '-l', 'app=top'])).length, 2);
    const none = await tc.kubectl(['top', 'pod', '-l', 'app=nothing']);
    assert.doesNotMatch(none.stdout, new RegExp(POD));
  });

  it('metrics.k8s.io objects as metrics-server writes them', async () => {
    const pm = JSON.parse(await tc.run(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/${POD}`]));
    assert.equal(pm.kind, 'PodMetrics');
    assert.equal(pm.metadata.labels.app, 'top');
    assert.match(pm.window, /^[\d.]+(m|s|ms)/);
    assert.match(pm.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(pm.containers[0].usage.cpu, /^\d+[num]?$/);
    assert.match(pm.containers[0].usage.memory, /^\d+(Ki|Mi)?$/);
    const nm = JSON.parse(await tc.run(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes']));
    assert.equal(nm.kind, 'NodeMetricsList');
    assert.equal(nm.items[0].metadata.name, NODE);
    const [thead, trow] = rows(await tc.run(['get', 'pods.metrics.k8s.io', POD]));
    assert.deepEqual(thead, ['NAME', 'CPU', 'MEMORY', 'WINDOW']);
    assert.equal(trow[0], POD);
    const missing = await tc.kubectl(['top', 'pod', 'no-such-pod']);
    assert.notEqual(missing.code, 0);
  });

  it('kubectl get --raw /metrics has apiserver_request_total', async () => {
    await tc.run(['exec', POD, '--', 'true']);
    const text = await until('the exec counted once its socket closed', async () => {
      const t = await tc.run(['get', '--raw', '/metrics']);
      return /apiserver_request_total\{code="101",[^}]*subresource="exec",verb="CONNECT"/.test(t) ? t : undefined;
    });
    const { samples, types } = parseSamples(text);
    assert.equal(types.get('apiserver_request_total'), 'counter');
    assert.ok(samples.some((s) => s.name === 'apiserver_request_total' && s.labels.resource === 'pods' && s.labels.verb === 'POST' && s.labels.code === '201'));
    assert.match(text, /^apiserver_request_duration_seconds_bucket\{component="apiserver",[^}]*,le="\+Inf"\} [1-9]/m);
    assert.ok(samples.some((s) => s.name === 'apiserver_storage_objects' && s.labels.resource === 'pods' && s.value >= 1));
    assert.ok(samples.some((s) => s.name === 'process_resident_memory_bytes'));
    assert.match(text, /^etcd_request_duration_seconds_count\{operation="create",type="pods"\} [1-9]/m);
    assert.ok(samples.some((s) => s.name === 'nodejs_version_info'));
  });

  it('the kubelet endpoints through nodes/proxy parse as Prometheus text', async () => {
    const res = parseSamples(await tc.run(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/metrics/resource`]));
    const ws = res.samples.find((s) => s.name === 'container_memory_working_set_bytes' && s.labels.pod === POD);
    assert.ok(ws && ws.value > 0, 'the pod container has a working set');
    assert.deepEqual(Object.keys(ws.labels).sort(), ['container', 'namespace', 'pod']);
    assert.ok(res.samples.some((s) => s.name === 'node_cpu_usage_seconds_total' && s.value > 0));
    assert.equal(res.samples.find((s) => s.name === 'resource_scrape_error')?.value, 0);

    const cad = parseSamples(await tc.run(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/metrics/cadvisor`]));
    const lim = cad.samples.find((s) => s.name === 'container_spec_memory_limit_bytes' && s.labels.pod === POD);
    assert.ok(lim);
    assert.equal(lim.labels.image, 'busybox');
    assert.equal(lim.value, 64 * 1024 * 1024, 'the limit from the pod spec');

    const kubText = await tc.run(['get', '--raw', `/api/v1/nodes/${NODE}/proxy/metrics`]);
    const kub = parseSamples(kubText);
    assert.equal(kub.samples.find((s) => s.name === 'kubelet_running_pods')?.value, 1);
    assert.equal(kub.samples.find((s) => s.name === 'kubelet_node_name')?.labels.node, NODE);
    assert.equal(kub.types.get('kubelet_pod_start_duration_seconds'), 'histogram');
    // Observed by the agent: the pod started once, and its worker synced it at least once as "create".
    assert.match(kubText, /^kubelet_pod_start_duration_seconds_count 1$/m);
    assert.match(kubText, /^kubelet_pod_worker_duration_seconds_count\{operation="create"\} 1$/m);
  });

  it('RBAC: metrics are read as metrics.k8s.io pods/nodes resources, not by path', async () => {
    const pkiDir = path.join(tc.dataDir, 'pki');
    const ca = { certPem: readFileSync(path.join(pkiDir, 'ca.crt'), 'utf8'), keyPem: readFileSync(path.join(pkiDir, 'ca.key'), 'utf8') };
    const cert = await issueClientCert({ ca }, 'top-user', []);
    const kc = path.join(tc.dataDir, 'top-user.kubeconfig');
    await writeKubeconfig(kc, { server: tc.server, caPem: ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem, userName: 'top-user' });
    await tc.run(['create', 'clusterrole', 'pod-reader', '--verb=get,list', '--resource=pods']);
    await tc.run(['create', 'clusterrolebinding', 'pod-reader', '--clusterrole=pod-reader', '--user=top-user']);
    const denied = await tc.kubectl(['--kubeconfig', kc, 'top', 'pod']);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /cannot list resource "pods" in API group "metrics.k8s.io"/);
    await tc.run(['create', 'clusterrole', 'metrics-reader', '--verb=get,list', '--resource=pods.metrics.k8s.io']);
    await tc.run(['create', 'clusterrolebinding', 'metrics-reader', '--clusterrole=metrics-reader', '--user=top-user']);
    const out = await until('metrics granted', async () => {
      const r = await tc.kubectl(['--kubeconfig', kc, 'top', 'pod']);
      return r.code === 0 ? r.stdout : undefined;
    });
    assert.match(out, new RegExp(POD));
    const nodes = await tc.kubectl(['--kubeconfig', kc, 'top', 'node']);
    assert.match(nodes.stderr, /cannot list resource "nodes" in API group "metrics.k8s.io"/);
  });
});
