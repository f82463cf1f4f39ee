/**
 * The API server's HorizontalPodAutoscalers with the real kubectl: autoscaling/v2 stored and
 * preferred, autoscaling/v1 converted (as upstream), upstream columns, validation and discovery.
 * No controllers run: the status is written by hand where a controller would write it.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { needs, which } from '../testing/real.js';
import { until } from '../testing/wait.js';
import { startSecureCluster, type SecureCluster } from '../apiserver/auth/testing/cluster.js';

const kubectlMissing = which('kubectl') ? undefined : 'kubectl is not on PATH';
const BASE = '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers';

describe('HorizontalPodAutoscaler API (kubectl)', () => {
  let tc: TestCluster;

  before(async () => {
    if (kubectlMissing) return;
    tc = await startTestCluster();
    await tc.run(['create', 'deployment', 'web', '--image=busybox']);
  });
  after(async () => {
    await tc?.stop();
  });

  it('kubectl autoscale creates it; get, v1/v2 views, status, describe, watch, delete', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    const created = await tc.run(['autoscale', 'deploy', 'web', '--cpu-percent=50', '--min=1', '--max=5']);
    assert.match(created, /horizontalpodautoscaler.autoscaling\/web autoscaled/);

    const table = (await tc.run(['get', 'hpa'])).trim().split('\n').map((l) => l.trim().split(/\s{2,}/));
    assert.deepEqual(table[0], ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']);
    assert.deepEqual(table[1].slice(0, 6), ['web', 'Deployment/web', 'cpu: <unknown>/50%', '1', '5', '0']);

    const v2 = JSON.parse(await tc.run(['get', 'hpa.v2.autoscaling', 'web', '-o', 'json']));
    assert.equal(v2.apiVersion, 'autoscaling/v2');
    assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
    assert.equal(v2.metadata.generation, 1);
    const managed = JSON.parse(await tc.run(['get', 'hpa', 'web', '-o', 'json', '--show-managed-fields'])).metadata.managedFields;
    assert.deepEqual(managed.map((m: any) => [m.manager, m.operation, m.apiVersion]), [['kubectl-autoscale', 'Update', 'autoscaling/v1']]);
    const yaml = await tc.run(['get', 'hpa.v2.autoscaling', 'web', '-o', 'yaml']);
    assert.match(yaml, /averageUtilization: 50/);

    const v1 = JSON.parse(await tc.run(['get', 'horizontalpodautoscalers.v1.autoscaling', 'web', '-o', 'json']));
    assert.equal(v1.apiVersion, 'autoscaling/v1');
    assert.equal(v1.spec.targetCPUUtilizationPercentage, 50);

    // What the controller would write, through /status (v2).
    const status = {
      currentReplicas: 2,
      desiredReplicas: 2,
      currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 198, averageValue: '198m' } } }],
      conditions: [{ type: 'AbleToScale', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'ReadyForNewScale', message: 'recommended size matches current size' }],
    };
    await tc.run(['patch', 'hpa', 'web', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
    const row = (await tc.run(['get', 'hpa', 'web', '--no-headers'])).trim().split(/\s{2,}/);
    assert.deepEqual(row.slice(0, 6), ['web', 'Deployment/web', 'cpu: 198%/50%', '1', '5', '2']);

    // The v1 table prints from the converted object too.
    const v1row = (await tc.run(['get', 'horizontalpodautoscalers.v1.autoscaling', 'web', '--no-headers'])).trim().split(/\s{2,}/);
    assert.deepEqual(v1row.slice(0, 6), ['web', 'Deployment/web', 'cpu: 198%/50%', '1', '5', '2']);

    const v1s = JSON.parse(await tc.run(['get', 'horizontalpodautoscalers.v1.autoscaling', 'web', '-o', 'json']));
    assert.equal(v1s.status.currentCPUUtilizationPercentage, 198);
    assert.equal(v1s.status.currentReplicas, 2);
    assert.deepEqual(JSON.parse(v1s.metadata.annotations['autoscaling.alpha.kubernetes.io/conditions'])[0].reason, 'ReadyForNewScale');
    assert.ok(v1s.metadata.annotations['autoscaling.alpha.kubernetes.io/current-metrics']);

    // A main-resource write may not change status; a spec change bumps the generation.
    await tc.run(['patch', 'hpa', 'web', '--type=merge', '-p', JSON.stringify({ spec: { maxReplicas: 6 }, status: { currentReplicas: 9 } })]);
    const after = JSON.parse(await tc.run(['get', 'hpa', 'web', '-o', 'json']));
    assert.equal(after.spec.maxReplicas, 6);
    assert.equal(after.status.currentReplicas, 2);
    assert.equal(after.metadata.generation, 2);

    // A v1 round trip (read, write back) keeps what only v2 can say.
    await tc.run(['patch', 'hpa.v2.autoscaling', 'web', '--type=merge', '-p', JSON.stringify({ spec: { behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } } })]);
    const v1obj = JSON.parse(await tc.run(['get', '--raw', `${BASE}/web`]));
    assert.ok(v1obj.metadata.annotations['autoscaling.alpha.kubernetes.io/behavior']);
    await tc.run(['replace', '--raw', `${BASE}/web`, '-f', '-'], JSON.stringify(v1obj));
    const kept = JSON.parse(await tc.run(['get', 'hpa', 'web', '-o', 'json']));
    assert.equal(kept.spec.behavior.scaleDown.stabilizationWindowSeconds, 60);
    assert.equal(kept.spec.behavior.scaleUp.selectPolicy, 'Max');
    assert.equal(kept.metadata.annotations, undefined);

    const describe = await tc.run(['describe', 'hpa', 'web']);
    assert.match(describe, /Reference:\s+Deployment\/web/);
    assert.match(describe, /resource cpu on pods\s+\(as a percentage of request\):\s+198% \(198m\) \/ 50%/);
    assert.match(describe, /Min replicas:\s+1/);
    assert.match(describe, /AbleToScale\s+True\s+ReadyForNewScale/);

    // Lists and watches in v1 carry v1 objects.
    const list = JSON.parse(await tc.run(['get', '--raw', BASE]));
    assert.equal(list.items[0].spec.targetCPUUtilizationPercentage, 50);
    const watch = await tc.run(['get', '--raw', `${BASE}?watch=true&timeoutSeconds=1`]);
    const ev = JSON.parse(watch.trim().split('\n')[0]);
    assert.equal(ev.type, 'ADDED');
    assert.equal(ev.object.apiVersion, 'autoscaling/v1');
    assert.equal(ev.object.spec.maxReplicas, 6);

    assert.match(await tc.run(['delete', 'hpa', 'web']), /horizontalpodautoscaler.autoscaling "web" deleted/);
    assert.equal((await tc.run(['get', 'hpa', '-o', 'name'])).trim(), '');
  });

  it('refuses maxReplicas < minReplicas with upstream message (422 Invalid), and a bad v1 annotation (400)', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    const bad = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'bad', namespace: 'default' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 5, maxReplicas: 2 } };
    const r = await tc.kubectl(['create', '-f', '-', '-v=6'], { input: JSON.stringify(bad) });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /422/);
    assert.match(r.stderr, /The HorizontalPodAutoscaler "bad" is invalid: spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`/);

    // An annotation v1 cannot convert is the request's fault (400), as upstream's failed decode.
    const badAnn = { ...bad, metadata: { ...bad.metadata, annotations: { 'autoscaling.alpha.kubernetes.io/metrics': '{nope' } }, spec: { ...bad.spec, minReplicas: 1 } };
    const r2 = await tc.kubectl(['create', '-f', '-'], { input: JSON.stringify(badAnn) });
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /\(BadRequest\).*autoscaling.alpha.kubernetes.io\/metrics/);
  });

  it('field ownership is recorded in the version written: a v1 server-side apply conflicts with kubectl autoscale', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    await tc.run(['autoscale', 'deploy', 'web', '--cpu-percent=50', '--max=5', '--name=owned']);
    const managed = JSON.parse(await tc.run(['get', 'hpa', 'owned', '-o', 'json', '--show-managed-fields'])).metadata.managedFields;
    assert.deepEqual(Object.keys(managed[0].fieldsV1['f:spec']).sort(), ['f:maxReplicas', 'f:minReplicas', 'f:scaleTargetRef', 'f:targetCPUUtilizationPercentage']);
    const v1 = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'owned', namespace: 'default' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 4, targetCPUUtilizationPercentage: 70 } };
    const r = await tc.kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(v1) });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /conflicts with "kubectl-autoscale" using autoscaling\/v1:\n- .spec.maxReplicas\n- .spec.targetCPUUtilizationPercentage/);
    await tc.run(['apply', '--server-side', '--force-conflicts', '-f', '-'], JSON.stringify(v1));
    const v2 = JSON.parse(await tc.run(['get', 'hpa', 'owned', '-o', 'json']));
    assert.equal(v2.spec.maxReplicas, 4);
    assert.equal(v2.spec.metrics[0].resource.target.averageUtilization, 70);
    await tc.run(['delete', 'hpa', 'owned']);
  });

  it('is discovered in both versions, v2 preferred, with its short name and category', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    const versions = (await tc.run(['api-versions'])).split('\n');
    assert.ok(versions.includes('autoscaling/v1') && versions.includes('autoscaling/v2'));
    const res = await tc.run(['api-resources', '--api-group=autoscaling', '--no-headers']);
    assert.match(res, /horizontalpodautoscalers\s+hpa\s+autoscaling\/v2\s+true\s+HorizontalPodAutoscaler/);
    await tc.run(['autoscale', 'deploy', 'web', '--max=3']);
    assert.match(await tc.run(['get', 'all', '-o', 'name']), /horizontalpodautoscaler.autoscaling\/web/);
    const explain = await tc.run(['explain', 'hpa.spec.metrics.resource.target']);
    assert.match(explain, /averageUtilization/);
    await tc.run(['delete', 'hpa', 'web']);
  });
});

describe('HorizontalPodAutoscaler RBAC (kubectl, RBAC enforced)', () => {
  let c: SecureCluster;
  before(async () => {
    if (kubectlMissing) return;
    c = await startSecureCluster();
  });
  after(async () => {
    await c?.stop();
  });

  it('the horizontal-pod-autoscaler controller role, and metrics readable through view', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    // The controller's own credentials (a client certificate for its service-account user).
    const hpaKc = await c.userKubeconfig('system:serviceaccount:kube-system:horizontal-pod-autoscaler', ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated']);
    const janeKc = await c.userKubeconfig('jane', ['system:authenticated']);
    const canAs = async (kc: string, ...args: string[]) => (await c.kubectl(kc, ['auth', 'can-i', ...args])).stdout.trim();
    const can = (...args: string[]) => canAs(hpaKc, ...args).then((r) => (r === 'yes' || r === 'no' ? r : `${args.join(' ')}: ${r}`));
    assert.equal(await can('update', 'horizontalpodautoscalers.autoscaling', '--subresource=status'), 'yes');
    assert.equal(await can('watch', 'horizontalpodautoscalers.autoscaling'), 'yes');
    assert.equal(await can('update', 'deployments.apps', '--subresource=scale'), 'yes');
    assert.equal(await can('list', 'pods.metrics.k8s.io'), 'yes');
    assert.equal(await can('update', 'horizontalpodautoscalers.autoscaling'), 'no');
    assert.equal(await can('delete', 'pods'), 'no');
    const reader = JSON.parse((await c.kubectl(c.kubeconfig, ['get', 'clusterrole', 'system:aggregated-metrics-reader', '-o', 'json'])).stdout);
    assert.equal(reader.metadata.labels['rbac.authorization.k8s.io/aggregate-to-view'], 'true');
    await until('view aggregates metrics.k8s.io', async () => {
      const v = JSON.parse((await c.kubectl(c.kubeconfig, ['get', 'clusterrole', 'view', '-o', 'json'])).stdout);
      return (v.rules ?? []).some((r: any) => r.apiGroups?.includes('metrics.k8s.io') && r.resources?.includes('pods'));
    });
    assert.equal(await canAs(janeKc, 'list', 'pods.metrics.k8s.io', '-n', 'default'), 'no');
    await c.kubectl(c.kubeconfig, ['create', 'rolebinding', 'jane-view', '--clusterrole=view', '--user=jane', '-n', 'default']);
    await until('jane may read pod metrics', async () => (await canAs(janeKc, 'list', 'pods.metrics.k8s.io', '-n', 'default')) === 'yes');
  });
});
