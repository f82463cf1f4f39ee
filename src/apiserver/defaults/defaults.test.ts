import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults, imageTag } from './index.js';

const defaulted = (key: string, obj: any): any => {
  applyDefaults(key, obj);
  return obj;
};

test('pull policy follows the image tag', () => {
  const cases: [string, string][] = [
    ['nginx', 'latest'], ['nginx:1.25', '1.25'], ['nginx:latest', 'latest'], ['registry:5000/app', 'latest'],
    ['registry:5000/app:v2', 'v2'], ['nginx@sha256:abc', ''], ['nginx:1.25@sha256:abc', '1.25'],
  ];
  for (const [image, tag] of cases) assert.equal(imageTag(image), tag, image);
  const pod = defaulted('pods', { spec: { containers: [{ name: 'a', image: 'nginx' }, { name: 'b', image: 'nginx:1.25' }, { name: 'c', image: 'x', imagePullPolicy: 'Never' }] } });
  assert.deepEqual(pod.spec.containers.map((c: any) => c.imagePullPolicy), ['Always', 'IfNotPresent', 'Never']);
});

test('pod defaults', () => {
  const pod = defaulted('pods', {
    metadata: { name: 'p' },
    spec: {
      containers: [{
        name: 'c', image: 'nginx:1',
        ports: [{ containerPort: 80 }],
        resources: { limits: { cpu: '0.5', memory: '1024Mi' } },
        livenessProbe: { httpGet: { port: 80 } },
        env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
      }],
      volumes: [{ name: 'scratch' }, { name: 'cfg', configMap: { name: 'cfg' } }],
    },
  });
  assert.deepEqual(pod.spec, {
    containers: [{
      name: 'c', image: 'nginx:1',
      ports: [{ containerPort: 80, protocol: 'TCP' }],
      resources: { limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: '500m', memory: '1Gi' } },
      livenessProbe: { httpGet: { port: 80, path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
      env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name', apiVersion: 'v1' } } }],
      imagePullPolicy: 'IfNotPresent',
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
    }],
    volumes: [{ name: 'scratch', emptyDir: {} }, { name: 'cfg', configMap: { name: 'cfg', defaultMode: 420 } }],
    dnsPolicy: 'ClusterFirst',
    restartPolicy: 'Always',
    securityContext: {},
    terminationGracePeriodSeconds: 30,
    schedulerName: 'default-scheduler',
    enableServiceLinks: true,
    priority: 0,
    preemptionPolicy: 'PreemptLowerPriority',
  });
  // Defaulting twice changes nothing.
  const again = structuredClone(pod);
  applyDefaults('pods', again);
  assert.deepEqual(again, pod);
});

test('pod templates get PodSpec defaults but not pod-only ones', () => {
  const d = defaulted('apps/deployments', { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx', resources: { limits: { cpu: '1' } } }] } } } });
  const spec = d.spec.template.spec;
  assert.equal(spec.restartPolicy, 'Always');
  assert.equal(spec.enableServiceLinks, undefined);
  assert.equal(spec.priority, undefined);
  assert.equal(spec.containers[0].resources.requests, undefined);
});

test('service defaults', () => {
  const svc = defaulted('services', { spec: { selector: { app: 'web' }, ports: [{ port: 80 }, { port: 443, targetPort: 'https', protocol: 'TCP' }] } });
  assert.deepEqual(svc.spec, {
    selector: { app: 'web' },
    ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }, { port: 443, targetPort: 'https', protocol: 'TCP' }],
    sessionAffinity: 'None',
    type: 'ClusterIP',
    internalTrafficPolicy: 'Cluster',
    ipFamilies: ['IPv4'],
    ipFamilyPolicy: 'SingleStack',
  });
  const np = defaulted('services', { spec: { type: 'NodePort', ports: [{ port: 80 }] } });
  assert.equal(np.spec.externalTrafficPolicy, 'Cluster');
  const lb = defaulted('services', { spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } });
  assert.equal(lb.spec.allocateLoadBalancerNodePorts, true);
  const headless = defaulted('services', { spec: { clusterIP: 'None' } });
  assert.deepEqual(headless.spec.clusterIPs, ['None']);
  assert.deepEqual(headless.spec.ipFamilies, ['IPv4', 'IPv6']);
  assert.equal(headless.spec.ipFamilyPolicy, 'PreferDualStack');
  const ext = defaulted('services', { spec: { type: 'ExternalName', externalName: 'example.com' } });
  assert.equal(ext.spec.ipFamilies, undefined);
  assert.equal(ext.spec.internalTrafficPolicy, undefined);
  const affinity = defaulted('services', { spec: { sessionAffinity: 'ClientIP', ports: [{ port: 80 }] } });
  assert.deepEqual(affinity.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 10800 } });
});

test('workload defaults', () => {
  const d = defaulted('apps/deployments', { spec: {} });
  assert.equal(d.spec.replicas, 1);
  assert.deepEqual(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
  assert.equal(d.spec.revisionHistoryLimit, 10);
  assert.equal(d.spec.progressDeadlineSeconds, 600);
  const recreate = defaulted('apps/deployments', { spec: { strategy: { type: 'Recreate' } } });
  assert.deepEqual(recreate.spec.strategy, { type: 'Recreate' });
  const ds = defaulted('apps/daemonsets', { spec: {} });
  assert.deepEqual(ds.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  assert.equal(ds.spec.revisionHistoryLimit, 10);
  const sts = defaulted('apps/statefulsets', { spec: {} });
  assert.equal(sts.spec.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(sts.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  assert.deepEqual(sts.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.equal(sts.spec.replicas, 1);
  const rs = defaulted('apps/replicasets', { spec: {} });
  assert.equal(rs.spec.replicas, 1);
});

test('job and cronjob defaults', () => {
  const job = defaulted('batch/jobs', { metadata: { name: 'pi', uid: 'u1' }, spec: { template: { metadata: { labels: { app: 'pi' } }, spec: { containers: [] } } } });
  assert.equal(job.spec.completions, 1);
  assert.equal(job.spec.parallelism, 1);
  assert.equal(job.spec.backoffLimit, 6);
  assert.equal(job.spec.completionMode, 'NonIndexed');
  assert.equal(job.spec.suspend, false);
  assert.equal(job.spec.podReplacementPolicy, 'TerminatingOrFailed');
  assert.equal(job.spec.manualSelector, undefined);
  assert.deepEqual(job.metadata.labels, { app: 'pi' });
  assert.deepEqual(job.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } });
  const parallel = defaulted('batch/jobs', { spec: { parallelism: 3 } });
  assert.equal(parallel.spec.completions, undefined);
  assert.equal(parallel.spec.parallelism, 3);
  const cj = defaulted('batch/cronjobs', { spec: { schedule: '@daily' } });
  assert.equal(cj.spec.concurrencyPolicy, 'Allow');
  assert.equal(cj.spec.suspend, false);
  assert.equal(cj.spec.successfulJobsHistoryLimit, 3);
  assert.equal(cj.spec.failedJobsHistoryLimit, 1);
});

test('other defaults', () => {
  const secret = defaulted('secrets', { stringData: { password: 'hunter2' } });
  assert.equal(secret.type, 'Opaque');
  assert.deepEqual(secret.data, { password: 'aHVudGVyMg==' });
  assert.equal(secret.stringData, undefined);
  const ns = defaulted('namespaces', { metadata: { name: 'team' } });
  assert.deepEqual(ns.spec.finalizers, ['kubernetes']);
  assert.equal(ns.metadata.labels['kubernetes.io/metadata.name'], 'team');
  const np = defaulted('networking.k8s.io/networkpolicies', { spec: { egress: [{ ports: [{ port: 53 }] }] } });
  assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
  assert.equal(np.spec.egress[0].ports[0].protocol, 'TCP');
  const es = defaulted('discovery.k8s.io/endpointslices', { ports: [{ port: 80 }] });
  assert.deepEqual(es.ports, [{ port: 80, name: '', protocol: 'TCP' }]);
  const rb = defaulted('rbac.authorization.k8s.io/rolebindings', { roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'User', name: 'a' }, { kind: 'ServiceAccount', name: 'b' }] });
  assert.equal(rb.roleRef.apiGroup, 'rbac.authorization.k8s.io');
  assert.deepEqual(rb.subjects.map((s: any) => s.apiGroup), ['rbac.authorization.k8s.io', '']);
  const lr = defaulted('limitranges', { spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { memory: '64Mi' } }] } });
  assert.deepEqual(lr.spec.limits[0].default, { cpu: '2' });
  assert.deepEqual(lr.spec.limits[0].defaultRequest, { cpu: '2', memory: '64Mi' });
});
