import { test, describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ephemeralContainersUpdate } from './ephemeral.js';
import { StatusError } from './status.js';
import type { AdmissionPlugin } from './admission/index.js';
import { applyDefaults } from './defaults/index.js';
import { validatePodEphemeralContainersUpdate } from './validation/pod.js';
import { validateObjectUpdate } from './validation/index.js';
import { subresourceInfo, findResource } from './resources.js';
import { aggregatedDiscovery, apiResourceList } from './discovery.js';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { clientFromKubeconfig, type ApiClient } from '../testing/client.js';

function storedPod(extra: any = {}): any {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', uid: 'u1', resourceVersion: '7', labels: { app: 'x' }, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'nginx' }], ...extra },
    status: { phase: 'Running' },
  };
  applyDefaults('pods', pod);
  return pod;
}

const ec = (name: string, extra: any = {}) => ({ name, image: 'busybox', terminationMessagePolicy: 'File', ...extra });

/** The 422's causes as "field: message", or [] when the update is allowed. */
function causes(written: any, old: any): string[] {
  try {
    ephemeralContainersUpdate(written, old);
    return [];
  } catch (e) {
    assert.ok(e instanceof StatusError, String(e));
    assert.equal(e.code, 422);
    assert.equal(e.reason, 'Invalid');
    return (e.toStatus().details?.causes ?? []).map((c: any) => `${c.field}: ${c.message}`);
  }
}

test('ephemeralcontainers: only spec.ephemeralContainers changes; the rest comes from the stored pod', () => {
  const old = storedPod();
  const written = structuredClone(old);
  written.spec.ephemeralContainers = [ec('debugger', { stdin: true, tty: true })];
  written.metadata.labels = { app: 'changed' };
  written.spec.containers[0].image = 'other';
  written.status = { phase: 'Failed' };
  const next = ephemeralContainersUpdate(written, old);
  assert.deepEqual(next.metadata.labels, { app: 'x' });
  assert.equal(next.spec.containers[0].image, 'nginx');
  assert.equal(next.status.phase, 'Running');
  assert.equal(next.spec.ephemeralContainers.length, 1);
  // Defaulted as any container.
  assert.equal(next.spec.ephemeralContainers[0].terminationMessagePath, '/dev/termination-log');
  assert.equal(next.spec.ephemeralContainers[0].imagePullPolicy, 'Always');
  assert.equal(old.spec.ephemeralContainers, undefined, 'the stored pod is not changed');
});

test('ephemeralcontainers: existing ones may be neither changed nor removed', () => {
  const old = storedPod();
  old.spec.ephemeralContainers = [ec('a')];
  applyDefaults('pods', old);
  const changed = structuredClone(old);
  changed.spec.ephemeralContainers[0].image = 'alpine';
  const errs = causes(changed, old);
  assert.equal(errs.length, 1);
  assert.match(errs[0], /^spec\.ephemeralContainers: Forbidden: existing ephemeral containers "a" may not be changed\n/);
  assert.match(errs[0], /image: "busybox"/);
  assert.match(errs[0], /image: "alpine"/);

  const removed = structuredClone(old);
  removed.spec.ephemeralContainers = [];
  assert.deepEqual(causes(removed, old), ['spec.ephemeralContainers: Forbidden: existing ephemeral containers "a" may not be removed\n']);

  // Reordered and extended: fine (a patch need not keep the order).
  const added = structuredClone(old);
  added.spec.ephemeralContainers = [ec('b'), old.spec.ephemeralContainers[0]];
  assert.deepEqual(causes(added, old), []);
});

test('ephemeralcontainers: ValidateEphemeralContainers messages', () => {
  const old = storedPod({ initContainers: [{ name: 'init', image: 'busybox' }] });
  const w = (...ecs: any[]) => ({ ...structuredClone(old), spec: { ...structuredClone(old.spec), ephemeralContainers: ecs } });
  const cases: [string, any, string[]][] = [
    ['ports', w(ec('d', { ports: [{ containerPort: 80 }] })), ['spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container']],
    ['resources', w(ec('d', { resources: { limits: { cpu: '1' } } })), ['spec.ephemeralContainers[0].resources: Forbidden: cannot be set for an Ephemeral Container']],
    ['probe and lifecycle', w(ec('d', { readinessProbe: { exec: { command: ['true'] } }, lifecycle: { preStop: { exec: { command: ['true'] } } } })), [
      'spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[0].lifecycle: Forbidden: cannot be set for an Ephemeral Container',
    ]],
    ['restartPolicy', w(ec('d', { restartPolicy: 'Always' })), ['spec.ephemeralContainers[0].restartPolicy: Forbidden: cannot be set for an Ephemeral Container']],
    ['same name as an app container', w(ec('app')), ['spec.ephemeralContainers[0].name: Duplicate value: "app"']],
    ['same name as an init container', w(ec('init')), ['spec.ephemeralContainers[0].name: Duplicate value: "init"']],
    ['two with one name', w(ec('d'), ec('d')), ['spec.ephemeralContainers[1].name: Duplicate value: "d"']],
    ['unknown target', w(ec('d', { targetContainerName: 'nope' })), ['spec.ephemeralContainers[0].targetContainerName: Not found: "nope"']],
    ['target is ephemeral', w(ec('d'), ec('e', { targetContainerName: 'd' })), ['spec.ephemeralContainers[1].targetContainerName: Not found: "d"']],
    ['target an init container', w(ec('d', { targetContainerName: 'init' })), []],
    ['subPath', w(ec('d', { volumeMounts: [{ name: 'v', mountPath: '/v', subPath: 'x' }] })), [
      'spec.ephemeralContainers[0].volumeMounts[0].name: Not found: "v"',
      'spec.ephemeralContainers[0].volumeMounts[0].subPath: Forbidden: cannot be set for an Ephemeral Container',
    ]],
    ['no image', w({ name: 'd', terminationMessagePolicy: 'File' }), ['spec.ephemeralContainers[0].image: Required value']],
  ];
  for (const [what, written, want] of cases) assert.deepEqual(causes(written, old), want, what);
});

test('ephemeralcontainers: static pods get none', () => {
  const old = storedPod();
  old.metadata.annotations = { 'kubernetes.io/config.mirror': 'x' };
  const written = structuredClone(old);
  written.spec.ephemeralContainers = [ec('d')];
  applyDefaults('pods', written);
  const errs = validatePodEphemeralContainersUpdate(written, old);
  assert.deepEqual(errs.map((e) => e.message), ['Forbidden: static pods do not support ephemeral containers']);
});

test('a pod update may not add or change ephemeral containers (only the subresource may)', () => {
  const old = storedPod();
  const next = structuredClone(old);
  next.spec.ephemeralContainers = [ec('d')];
  applyDefaults('pods', next);
  const errs = validateObjectUpdate('pods', next, old, { namespaced: true });
  assert.equal(errs.length, 1);
  assert.match(errs[0]!.message, /^Forbidden: pod updates may not change fields other than `spec\.containers\[\*\]\.image`/);
});

test('discovery lists pods/ephemeralcontainers (kind Pod; get, patch, update)', () => {
  const pods = findResource('', 'v1', 'pods')!;
  assert.ok(pods.subresources.includes('ephemeralcontainers'));
  assert.deepEqual(subresourceInfo(pods, 'ephemeralcontainers'), { group: '', version: 'v1', kind: 'Pod', verbs: ['get', 'patch', 'update'] });
  const legacy = apiResourceList('', 'v1')!.resources.find((r: any) => r.name === 'pods/ephemeralcontainers');
  assert.deepEqual(legacy, { name: 'pods/ephemeralcontainers', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] });
  const agg: any = aggregatedDiscovery('api', 'v2').items[0]!.versions[0]!.resources.find((r: any) => r.resource === 'pods');
  assert.deepEqual(agg.subresources.find((s: any) => s.subresource === 'ephemeralcontainers'), {
    subresource: 'ephemeralcontainers',
    responseKind: { group: '', version: 'v1', kind: 'Pod' },
    verbs: ['get', 'patch', 'update'],
  });
});

describe('pods/ephemeralcontainers over HTTP', () => {
  let c: TestCluster;
  let api: ApiClient;
  const path = '/api/v1/namespaces/default/pods/p';
  before(async () => {
    c = await startTestCluster();
    api = await clientFromKubeconfig(c.kubeconfig);
    const res = await api.request('POST', '/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } });
    assert.equal(res.status, 201, res.body);
  });
  after(async () => {
    api.close();
    await c.stop();
  });

  it('GET returns the Pod; a PUT adds a container and records its manager under the subresource', async () => {
    const pod = (await api.request('GET', `${path}/ephemeralcontainers`)).json();
    assert.equal(pod.kind, 'Pod');
    pod.spec.ephemeralContainers = [ec('put')];
    pod.metadata.labels = { ignored: 'yes' };
    const res = await api.request('PUT', `${path}/ephemeralcontainers?fieldManager=tester`, pod);
    assert.equal(res.status, 200, res.body);
    const out = res.json();
    assert.deepEqual(out.spec.ephemeralContainers.map((e: any) => e.name), ['put']);
    assert.equal(out.metadata.labels, undefined, 'labels are not changed through this subresource');
    assert.ok(out.metadata.managedFields.some((m: any) => m.manager === 'tester' && m.subresource === 'ephemeralcontainers'));
    // A PUT from a stale version conflicts.
    const stale = await api.request('PUT', `${path}/ephemeralcontainers`, { ...pod, spec: { ...pod.spec, ephemeralContainers: [ec('put'), ec('late')] } });
    assert.equal(stale.status, 409, stale.body);
  });

  it('merge and JSON patches; dryRun changes nothing; apply patches are refused', async () => {
    const before = (await api.request('GET', path)).json();
    const dry = await api.request('PATCH', `${path}/ephemeralcontainers?dryRun=All`, [{ op: 'add', path: '/spec/ephemeralContainers/-', value: ec('dry') }], { 'content-type': 'application/json-patch+json' });
    assert.equal(dry.status, 200, dry.body);
    assert.ok(dry.json().spec.ephemeralContainers.some((e: any) => e.name === 'dry'));
    assert.equal((await api.request('GET', path)).json().metadata.resourceVersion, before.metadata.resourceVersion);
    const json = await api.request('PATCH', `${path}/ephemeralcontainers`, [{ op: 'add', path: '/spec/ephemeralContainers/-', value: ec('json') }], { 'content-type': 'application/json-patch+json' });
    assert.equal(json.status, 200, json.body);
    // A merge patch replaces the whole list: it must still hold every existing container.
    const list = [...json.json().spec.ephemeralContainers, ec('merge')];
    const merge = await api.request('PATCH', `${path}/ephemeralcontainers`, { spec: { ephemeralContainers: list } }, { 'content-type': 'application/merge-patch+json' });
    assert.equal(merge.status, 200, merge.body);
    assert.deepEqual(merge.json().spec.ephemeralContainers.map((e: any) => e.name), ['put', 'json', 'merge']);
    const apply = await api.request('PATCH', `${path}/ephemeralcontainers?fieldManager=x`, '{}', { 'content-type': 'application/apply-patch+yaml' });
    assert.equal(apply.status, 415);
    const missing = await api.request('GET', '/api/v1/namespaces/default/pods/nope/ephemeralcontainers');
    assert.equal(missing.status, 404);
  });

  it('admission: mutating plugins see the written pod, validating ones the result, as UPDATE of pods/ephemeralcontainers', async () => {
    const plugins = c.cluster.apiServer.registry.admission;
    const seen: string[] = [];
    const plugin: AdmissionPlugin = {
      name: 'TestEphemeral',
      handles: (r) => r.info.key === 'pods' && r.subresource === 'ephemeralcontainers',
      admit(r) {
        seen.push(`admit ${r.operation} ${r.user?.name ?? '?'}`);
        for (const e of r.object.spec.ephemeralContainers) if (e.name === 'admitted') e.env = [{ name: 'ADMITTED', value: 'yes' }];
      },
      validate(r) {
        seen.push(`validate ${r.object.spec.ephemeralContainers.length}`);
        if (r.object.spec.ephemeralContainers.some((e: any) => e.image === 'forbidden')) throw new StatusError(403, 'Forbidden', 'forbidden image');
      },
    };
    plugins.push(plugin);
    try {
      const ok = await api.request('PATCH', `${path}/ephemeralcontainers`, { spec: { ephemeralContainers: [ec('admitted')] } }, { 'content-type': 'application/strategic-merge-patch+json' });
      assert.equal(ok.status, 200, ok.body);
      const added = ok.json().spec.ephemeralContainers.find((e: any) => e.name === 'admitted');
      assert.deepEqual(added.env, [{ name: 'ADMITTED', value: 'yes' }]);
      assert.match(seen[0]!, /^admit UPDATE \S+/);
      assert.ok(seen[1]!.startsWith('validate '));
      const no = await api.request('PATCH', `${path}/ephemeralcontainers`, { spec: { ephemeralContainers: [{ ...ec('bad'), image: 'forbidden' }] } }, { 'content-type': 'application/strategic-merge-patch+json' });
      assert.equal(no.status, 403, no.body);
      assert.ok(!(await api.request('GET', path)).json().spec.ephemeralContainers.some((e: any) => e.name === 'bad'));
    } finally {
      plugins.splice(plugins.indexOf(plugin), 1);
    }
  });
});
