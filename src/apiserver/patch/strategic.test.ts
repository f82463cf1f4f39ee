import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyStrategicMergePatch, PatchError } from './strategic.js';
import type { PatchMeta } from './meta.js';
import { deploymentMeta, metaFromTable, podMeta, serviceMeta } from './testmeta.js';

interface Case {
  name: string;
  meta?: PatchMeta | undefined;
  original: unknown;
  patch: unknown;
  want?: unknown;
  /** Expected PatchError message: exact string or pattern. */
  error?: string | RegExp;
  status?: number;
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

function run(cases: Case[], defaultMeta: () => PatchMeta | undefined): void {
  for (const c of cases) {
    it(c.name, () => {
      const meta = 'meta' in c ? c.meta : defaultMeta();
      // Frozen inputs: any mutation by the engine throws.
      const original = deepFreeze(structuredClone(c.original));
      const patch = deepFreeze(structuredClone(c.patch));
      if (c.error !== undefined) {
        assert.throws(
          () => applyStrategicMergePatch(original, patch, meta),
          (e: unknown) => {
            assert.ok(e instanceof PatchError, `not a PatchError: ${String(e)}`);
            if (typeof c.error === 'string') assert.equal(e.message, c.error);
            else assert.match(e.message, c.error as RegExp);
            assert.equal(e.status, c.status ?? 500);
            return true;
          },
        );
        return;
      }
      assert.deepStrictEqual(applyStrategicMergePatch(original, patch, meta), c.want);
    });
  }
}

const c = (name: string, image: string, extra: Record<string, unknown> = {}) => ({ name, image, ...extra });

describe('strategic merge patch: maps and nulls', () => {
  run(
    [
      {
        name: 'labels are merged; null deletes a key',
        original: { metadata: { name: 'p', labels: { app: 'web', tier: 'fe' } } },
        patch: { metadata: { labels: { tier: 'be', env: 'prod', app: null } } },
        want: { metadata: { name: 'p', labels: { tier: 'be', env: 'prod' } } },
      },
      {
        name: 'null on a missing key changes nothing but still creates the parent map',
        original: { metadata: { name: 'p' } },
        patch: { metadata: { annotations: { gone: null } } },
        want: { metadata: { name: 'p', annotations: {} } },
      },
      {
        name: 'null deletes a whole field',
        original: { spec: { nodeSelector: { disk: 'ssd' }, restartPolicy: 'Always' } },
        patch: { spec: { nodeSelector: null } },
        want: { spec: { restartPolicy: 'Always' } },
      },
      {
        name: 'nulls inside a newly added map are dropped',
        original: { spec: {} },
        patch: { spec: { securityContext: { runAsUser: 1000, fsGroup: null } } },
        want: { spec: { securityContext: { runAsUser: 1000 } } },
      },
      {
        name: 'a value of another type replaces the original',
        original: { spec: { restartPolicy: 'Always', nodeSelector: 'x' } },
        patch: { spec: { nodeSelector: { disk: 'ssd' } } },
        want: { spec: { restartPolicy: 'Always', nodeSelector: { disk: 'ssd' } } },
      },
      {
        name: '$patch: replace on a map replaces it',
        original: { spec: { nodeSelector: { disk: 'hdd', zone: 'a' } } },
        patch: { spec: { nodeSelector: { $patch: 'replace', disk: 'ssd' } } },
        want: { spec: { nodeSelector: { disk: 'ssd' } } },
      },
      {
        name: '$patch: delete on a map empties it',
        original: { spec: { securityContext: { runAsUser: 1 }, restartPolicy: 'Never' } },
        patch: { spec: { securityContext: { $patch: 'delete' } } },
        want: { spec: { securityContext: {}, restartPolicy: 'Never' } },
      },
      {
        name: '$patch: replace at the top replaces the object',
        original: { metadata: { name: 'p' }, spec: {} },
        patch: { $patch: 'replace', metadata: { name: 'q' } },
        want: { metadata: { name: 'q' } },
      },
      {
        name: 'a new value carrying $patch directives is cleaned',
        original: { spec: {} },
        patch: { spec: { nodeSelector: { $patch: 'delete' }, securityContext: { runAsUser: 1, seLinuxOptions: { $patch: 'replace' } } } },
        want: { spec: { securityContext: { runAsUser: 1 } } },
      },
      {
        name: 'null and undefined patches change nothing',
        original: { metadata: { name: 'p' } },
        patch: null,
        want: { metadata: { name: 'p' } },
      },
      {
        name: 'a __proto__ key is plain data',
        original: { metadata: { labels: {} } },
        patch: JSON.parse('{"metadata":{"labels":{"__proto__":"x"}}}'),
        want: JSON.parse('{"metadata":{"labels":{"__proto__":"x"}}}'),
      },
    ],
    podMeta,
  );
});

describe('strategic merge patch: lists merged by key', () => {
  run(
    [
      {
        name: 'containers by name: change one image, keep the rest',
        original: { spec: { containers: [c('app', 'nginx:1', { imagePullPolicy: 'IfNotPresent' }), c('side', 'busybox')] } },
        patch: { spec: { containers: [{ name: 'app', image: 'nginx:2' }] } },
        want: { spec: { containers: [c('app', 'nginx:2', { imagePullPolicy: 'IfNotPresent' }), c('side', 'busybox')] } },
      },
      {
        name: 'a new container without $setElementOrder goes first (as upstream)',
        original: { spec: { containers: [c('a', 'x'), c('b', 'y')] } },
        patch: { spec: { containers: [c('new', 'z')] } },
        want: { spec: { containers: [c('new', 'z'), c('a', 'x'), c('b', 'y')] } },
      },
      {
        name: 'patched items take the order of the patch; others keep their place',
        original: { spec: { containers: [c('a', '1'), c('b', '2'), c('c', '3')] } },
        patch: { spec: { containers: [c('c', '30'), c('a', '10')] } },
        want: { spec: { containers: [c('b', '2'), c('c', '30'), c('a', '10')] } },
      },
      {
        name: 'env by name inside a container',
        original: { spec: { containers: [c('app', 'i', { env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] })] } },
        patch: { spec: { containers: [{ name: 'app', env: [{ name: 'B', value: 'two' }] }] } },
        want: { spec: { containers: [c('app', 'i', { env: [{ name: 'A', value: '1' }, { name: 'B', value: 'two' }] })] } },
      },
      {
        name: 'ports by containerPort',
        original: { spec: { containers: [c('app', 'i', { ports: [{ containerPort: 80, protocol: 'TCP' }] })] } },
        patch: { spec: { containers: [{ name: 'app', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443, name: 'https' }] }] } },
        want: {
          spec: {
            containers: [
              c('app', 'i', { ports: [{ containerPort: 80, protocol: 'TCP', name: 'http' }, { containerPort: 443, name: 'https' }] }),
            ],
          },
        },
      },
      {
        name: 'volumeMounts by mountPath',
        original: { spec: { containers: [c('app', 'i', { volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'tmp', mountPath: '/tmp' }] })] } },
        patch: { spec: { containers: [{ name: 'app', volumeMounts: [{ mountPath: '/data', readOnly: true }] }] } },
        want: {
          spec: {
            containers: [c('app', 'i', { volumeMounts: [{ name: 'data', mountPath: '/data', readOnly: true }, { name: 'tmp', mountPath: '/tmp' }] })],
          },
        },
      },
      {
        name: '$patch: delete removes the item with that key (all duplicates too)',
        original: { spec: { containers: [c('a', '1'), c('b', '2'), c('a', '3')] } },
        patch: { spec: { containers: [{ name: 'a', $patch: 'delete' }] } },
        want: { spec: { containers: [c('b', '2')] } },
      },
      {
        name: '$patch: delete of a missing item is a no-op',
        original: { spec: { containers: [c('a', '1')] } },
        patch: { spec: { containers: [{ name: 'zz', $patch: 'delete' }] } },
        want: { spec: { containers: [c('a', '1')] } },
      },
      {
        name: '$patch: replace inside a list replaces the list',
        original: { spec: { containers: [c('a', '1'), c('b', '2')] } },
        patch: { spec: { containers: [{ $patch: 'replace' }, c('only', '9')] } },
        want: { spec: { containers: [c('only', '9')] } },
      },
      {
        name: 'a new item from the patch is taken as sent',
        original: { spec: { containers: [c('a', '1')] } },
        patch: { spec: { containers: [{ name: 'b', image: '2', args: null }] } },
        want: { spec: { containers: [{ name: 'b', image: '2', args: null }, c('a', '1')] } },
      },
      {
        name: 'ownerReferences by uid',
        original: { metadata: { ownerReferences: [{ uid: 'u1', kind: 'ReplicaSet', name: 'rs1' }] } },
        patch: { metadata: { ownerReferences: [{ uid: 'u1', controller: true }, { uid: 'u2', kind: 'Node', name: 'n' }] } },
        want: {
          metadata: {
            ownerReferences: [
              { uid: 'u1', kind: 'ReplicaSet', name: 'rs1', controller: true },
              { uid: 'u2', kind: 'Node', name: 'n' },
            ],
          },
        },
      },
      {
        name: 'status conditions by type',
        original: { status: { conditions: [{ type: 'Ready', status: 'False' }, { type: 'Initialized', status: 'True' }] } },
        patch: { status: { conditions: [{ type: 'Ready', status: 'True' }] } },
        want: { status: { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Initialized', status: 'True' }] } },
      },
      {
        name: 'lists without the merge strategy are replaced',
        original: { spec: { tolerations: [{ key: 'a' }, { key: 'b' }], containers: [c('app', 'i', { args: ['x', 'y'] })] } },
        patch: { spec: { tolerations: [{ key: 'c' }], containers: [{ name: 'app', args: ['z'] }] } },
        want: { spec: { tolerations: [{ key: 'c' }], containers: [c('app', 'i', { args: ['z'] })] } },
      },
      {
        name: 'volumes items honour $retainKeys (merge,retainKeys)',
        original: { spec: { volumes: [{ name: 'data', emptyDir: {} }, { name: 'cfg', configMap: { name: 'c' } }] } },
        patch: { spec: { volumes: [{ name: 'data', $retainKeys: ['configMap', 'name'], configMap: { name: 'cm' } }] } },
        want: { spec: { volumes: [{ name: 'data', configMap: { name: 'cm' } }, { name: 'cfg', configMap: { name: 'c' } }] } },
      },
      {
        name: 'an empty list merged into an empty list stays empty',
        original: { spec: { containers: [] } },
        patch: { spec: { containers: [] } },
        want: { spec: { containers: [] } },
      },
    ],
    podMeta,
  );

  run(
    [
      {
        name: 'Service ports by port',
        original: { spec: { ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }, { port: 443, targetPort: 8443 }] } },
        patch: { spec: { ports: [{ port: 443, name: 'https' }] } },
        want: { spec: { ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }, { port: 443, targetPort: 8443, name: 'https' }] } },
      },
    ],
    serviceMeta,
  );
});

describe('strategic merge patch: lists of primitives', () => {
  run(
    [
      {
        name: 'finalizers are unioned without duplicates',
        original: { metadata: { finalizers: ['a', 'b'] } },
        patch: { metadata: { finalizers: ['b', 'c'] } },
        want: { metadata: { finalizers: ['a', 'b', 'c'] } },
      },
      {
        name: 'a new finalizer alone goes first (as upstream)',
        original: { metadata: { finalizers: ['a', 'b'] } },
        patch: { metadata: { finalizers: ['c'] } },
        want: { metadata: { finalizers: ['c', 'a', 'b'] } },
      },
      {
        name: '$deleteFromPrimitiveList removes every copy',
        original: { metadata: { finalizers: ['a', 'b', 'c', 'b'] } },
        patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['b', 'zz'] } },
        want: { metadata: { finalizers: ['a', 'c'] } },
      },
      {
        name: '$deleteFromPrimitiveList on a missing list adds nothing',
        original: { metadata: { name: 'p' } },
        patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] } },
        want: { metadata: { name: 'p' } },
      },
      {
        name: '$deleteFromPrimitiveList works on lists without the merge strategy too',
        original: { spec: { containers: [c('app', 'i', { args: ['-v', '-x', '-y'] })] } },
        patch: { spec: { containers: [{ name: 'app', '$deleteFromPrimitiveList/args': ['-x'] }] } },
        want: { spec: { containers: [c('app', 'i', { args: ['-v', '-y'] })] } },
      },
    ],
    podMeta,
  );
});

describe('strategic merge patch: retainKeys (Deployment strategy)', () => {
  const live = {
    spec: { replicas: 2, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } },
  };
  run(
    [
      {
        name: 'switching to Recreate clears rollingUpdate',
        original: live,
        patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } },
        want: { spec: { replicas: 2, strategy: { type: 'Recreate' } } },
      },
      {
        name: 'keys not listed are cleared even when the patch does not mention them',
        original: live,
        patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } },
        want: { spec: { replicas: 2, strategy: { type: 'Recreate' } } },
      },
      {
        name: 'without $retainKeys the map merges as usual',
        original: live,
        patch: { spec: { strategy: { rollingUpdate: { maxSurge: 1 } } } },
        want: { spec: { replicas: 2, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '25%' } } } },
      },
      {
        name: 'a patched key missing from $retainKeys is rejected',
        original: live,
        patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: { maxSurge: 1 } } } },
        error: 'invalid patch format of retainKeys',
        status: 400,
      },
      {
        name: '$retainKeys must be a list',
        original: live,
        patch: { spec: { strategy: { $retainKeys: 'type' } } },
        error: 'invalid patch format of retainKeys',
        status: 400,
      },
    ],
    deploymentMeta,
  );
});

describe('strategic merge patch: kubectl apply (three-way patches with $setElementOrder)', () => {
  // A Deployment after the first `kubectl apply` and server defaulting.
  const lastApplied = 'kubectl.kubernetes.io/last-applied-configuration';
  const live = {
    metadata: { name: 'web', annotations: { [lastApplied]: '{"v":1}' }, generation: 1 },
    spec: {
      replicas: 2,
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'nginx:1.26',
              args: ['--verbose'],
              env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }],
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              imagePullPolicy: 'IfNotPresent',
              terminationMessagePath: '/dev/termination-log',
            },
            { name: 'sidecar', image: 'busybox', imagePullPolicy: 'Always', terminationMessagePath: '/dev/termination-log' },
          ],
          restartPolicy: 'Always',
        },
      },
    },
  };
  const template = (spec: unknown) => ({ metadata: { annotations: { [lastApplied]: '{"v":2}' } }, spec: { template: { spec } } });
  const order = (...names: string[]) => names.map((name) => ({ name }));
  const containers = (live.spec.template.spec.containers as Record<string, unknown>[]).map((x) => ({ ...x }));
  const [app, sidecar] = containers as [Record<string, unknown>, Record<string, unknown>];
  const expected = (list: unknown[]) => ({
    metadata: { name: 'web', annotations: { [lastApplied]: '{"v":2}' }, generation: 1 },
    spec: { replicas: 2, template: { metadata: { labels: { app: 'web' } }, spec: { containers: list, restartPolicy: 'Always' } } },
  });

  run(
    [
      {
        name: 'second apply changing one field keeps defaults and order',
        original: live,
        patch: template({ '$setElementOrder/containers': order('app', 'sidecar'), containers: [{ name: 'app', image: 'nginx:1.27' }] }),
        want: expected([{ ...app, image: 'nginx:1.27' }, sidecar]),
      },
      {
        name: 'apply removing an env var and a field',
        original: live,
        patch: template({
          '$setElementOrder/containers': order('app', 'sidecar'),
          containers: [
            { name: 'app', args: null, '$setElementOrder/env': order('A'), env: [{ $patch: 'delete', name: 'B' }] },
          ],
        }),
        want: expected([
          (({ args: _args, ...rest }) => ({ ...rest, env: [{ name: 'A', value: '1' }] }))(app),
          sidecar,
        ]),
      },
      {
        name: 'apply adding a container in the middle',
        original: live,
        patch: template({ '$setElementOrder/containers': order('app', 'metrics', 'sidecar'), containers: [c('metrics', 'prom')] }),
        want: expected([app, c('metrics', 'prom'), sidecar]),
      },
      {
        name: 'apply reordering containers only',
        original: live,
        patch: template({ '$setElementOrder/containers': order('sidecar', 'app') }),
        want: expected([sidecar, app]),
      },
      {
        name: 'apply keeps a server-only container in place',
        original: {
          ...live,
          spec: {
            ...live.spec,
            template: { ...live.spec.template, spec: { ...live.spec.template.spec, containers: [app, sidecar, c('injected', 'proxy')] } },
          },
        },
        patch: template({ '$setElementOrder/containers': order('sidecar', 'app'), containers: [{ name: 'app', image: 'nginx:2' }] }),
        want: expected([sidecar, { ...app, image: 'nginx:2' }, c('injected', 'proxy')]),
      },
      {
        // Upstream shifts the deleted item out of the live list in place and reuses the slot
        // for the new one; the server-only item lands before it.
        name: 'apply swapping a container while a server-only one exists (upstream order)',
        original: {
          ...live,
          spec: {
            ...live.spec,
            template: { ...live.spec.template, spec: { ...live.spec.template.spec, containers: [app, sidecar, c('injected', 'proxy')] } },
          },
        },
        patch: template({
          '$setElementOrder/containers': order('sidecar', 'worker'),
          containers: [c('worker', 'w'), { $patch: 'delete', name: 'app' }],
        }),
        want: expected([sidecar, c('injected', 'proxy'), c('worker', 'w')]),
      },
      {
        name: 'apply of a list absent from the live object takes the patch list without directives',
        original: { spec: { template: { spec: { restartPolicy: 'Always' } } } },
        patch: { spec: { template: { spec: { '$setElementOrder/containers': order('a'), containers: [c('a', 'x'), { $patch: 'delete', name: 'gone' }] } } } },
        want: { spec: { template: { spec: { restartPolicy: 'Always', containers: [c('a', 'x')] } } } },
      },
    ],
    deploymentMeta,
  );

  run(
    [
      {
        name: 'apply removing a finalizer keeps server-added ones',
        original: { metadata: { finalizers: ['a', 'b', 'server'] } },
        patch: { metadata: { '$setElementOrder/finalizers': ['a'], '$deleteFromPrimitiveList/finalizers': ['b'] } },
        want: { metadata: { finalizers: ['a', 'server'] } },
      },
      {
        name: 'apply adding a finalizer in front',
        original: { metadata: { finalizers: ['a', 'server'] } },
        patch: { metadata: { '$setElementOrder/finalizers': ['new', 'a'], finalizers: ['new'] } },
        want: { metadata: { finalizers: ['new', 'a', 'server'] } },
      },
    ],
    podMeta,
  );
});

describe('strategic merge patch: fields without schema', () => {
  run(
    [
      {
        name: 'unknown fields merge like a JSON merge patch',
        original: { spec: { extra: { a: 1, list: [1, 2], keep: true } } },
        patch: { spec: { extra: { a: 2, list: [3], keep: null, added: { x: null, y: 1 } } } },
        want: { spec: { extra: { a: 2, list: [3], added: { y: 1 } } } },
      },
      {
        name: 'with no meta at all, directives still apply',
        meta: undefined,
        original: { a: { b: 1 }, l: [{ name: 'x' }] },
        patch: { a: { $patch: 'delete' }, l: [{ name: 'y' }] },
        want: { a: {}, l: [{ name: 'y' }] },
      },
      {
        name: 'a schema-less field may still declare the replace strategy',
        meta: metaFromTable({ Thing: { raw: ['object', 'replace'] } }, 'Thing'),
        original: { raw: { a: 1, b: 2 } },
        patch: { raw: { c: 3 } },
        want: { raw: { c: 3 } },
      },
    ],
    podMeta,
  );
});

describe('strategic merge patch: errors', () => {
  run(
    [
      {
        name: 'a list item without the merge key',
        original: { spec: { containers: [c('app', 'i')] } },
        patch: { spec: { containers: [{ image: 'nginx' }] } },
        error: 'map: map[image:nginx] does not contain declared merge key: name',
      },
      {
        name: 'a $patch: delete item without the merge key',
        original: { spec: { containers: [c('app', 'i')] } },
        patch: { spec: { containers: [{ $patch: 'delete' }] } },
        error: 'map: map[$patch:delete] does not contain declared merge key: name',
      },
      {
        name: 'a live item without the merge key',
        original: { spec: { containers: [{ image: 'i' }] } },
        patch: { spec: { containers: [c('app', 'x')] } },
        error: 'map: map[image:i] does not contain declared merge key: name',
      },
      {
        name: 'an unknown $patch value in a list',
        original: { spec: { containers: [c('app', 'i')] } },
        patch: { spec: { containers: [{ name: 'app', $patch: 'remove' }] } },
        error: 'unknown patch type: remove in map: map[$patch:remove name:app]',
      },
      {
        name: 'an unknown $patch value on a map (merge is not a map directive)',
        original: { spec: { nodeSelector: { a: 'b' } } },
        patch: { spec: { nodeSelector: { $patch: 'merge', disk: 'ssd' } } },
        error: 'unknown patch type: merge in map: map[$patch:merge disk:ssd]',
      },
      {
        name: 'a non-string $patch value',
        original: { spec: { nodeSelector: { a: 'b' } } },
        patch: { spec: { nodeSelector: { $patch: 1 } } },
        error: 'unknown patch type: %!s(int64=1) in map: map[$patch:1]',
      },
      {
        name: '$patch: merge in a list',
        original: { spec: { containers: [c('app', 'i')] } },
        patch: { spec: { containers: [{ name: 'app', $patch: 'merge' }] } },
        error: 'merging lists cannot yet be specified in the patch',
      },
      {
        name: '$setElementOrder that disagrees with the patch list',
        original: { spec: { containers: [c('a', '1'), c('b', '2')] } },
        patch: { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }], containers: [c('b', '3'), c('a', '4')] } },
        error: /^the order in patch list:\n\[map\[image:3 name:b\] map\[image:4 name:a\]\]\n doesn't match \$setElementOrder list:\n\[map\[name:a\] map\[name:b\]\]$/,
      },
      {
        name: '$setElementOrder that is not a list',
        original: { spec: { containers: [c('a', '1')] } },
        patch: { spec: { '$setElementOrder/containers': 'a' } },
        error: 'expected a []interface {}, but received a string',
      },
      {
        name: '$setElementOrder over a field that is not a list',
        original: { spec: { containers: { a: 1 } } },
        patch: { spec: { '$setElementOrder/containers': [{ name: 'a' }] } },
        error: 'expected a []interface {}, but received a map[string]interface {}',
      },
      {
        name: 'a malformed $deleteFromPrimitiveList key',
        original: { metadata: { finalizers: ['a'] } },
        patch: { metadata: { $deleteFromPrimitiveList: ['a'] } },
        error: 'invalid patch format of primitive list',
        status: 400,
      },
      {
        name: 'a malformed $setElementOrder key',
        original: { spec: { containers: [c('a', '1')] } },
        patch: { spec: { '$setElementOrders/containers': [{ name: 'a' }] } },
        error: 'invalid patch format of setElementOrder list',
        status: 400,
      },
      {
        name: 'list items of different types',
        original: { metadata: { finalizers: ['a'] } },
        patch: { metadata: { finalizers: [1] } },
        error: 'list element types are not identical: [[a] [1]]',
      },
      {
        name: 'a list of lists',
        original: { metadata: { finalizers: [['a']] } },
        patch: { metadata: { finalizers: [['b']] } },
        error: 'lists of lists are not supported',
        status: 422,
      },
      {
        name: 'a patch that is not an object',
        original: { metadata: {} },
        patch: [{ op: 'add' }],
        error: 'json: cannot unmarshal array into Go value of type map[string]interface {}',
        status: 400,
      },
      {
        name: 'an original that is not an object',
        original: ['x'],
        patch: {},
        error: 'invalid JSON document',
        status: 400,
      },
      {
        name: 'more than two strategies on a field',
        meta: metaFromTable({ T: { l: ['[]string', 'merge,retainKeys,replace'] } }, 'T'),
        original: { l: ['a'] },
        patch: { l: ['b'] },
        error: 'unexpected patch strategy: [merge retainKeys replace]',
      },
    ],
    podMeta,
  );
});

describe('strategic merge patch: inputs', () => {
  it('never modifies its arguments, even when lists are rewritten in place', () => {
    const original = {
      metadata: { finalizers: ['a', 'a', 'b'] },
      spec: { containers: [c('a', '1'), c('b', '2'), c('x', '3')] },
    };
    const patch = {
      metadata: { '$setElementOrder/finalizers': ['b'], finalizers: [] },
      spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'c' }], containers: [c('c', '4'), { $patch: 'delete', name: 'a' }] },
    };
    const before = structuredClone({ original, patch });
    const out = applyStrategicMergePatch(original, patch, podMeta()) as { spec: { containers: unknown[] } };
    assert.deepStrictEqual({ original, patch }, before);
    assert.deepStrictEqual(out.spec.containers, [c('b', '2'), c('x', '3'), c('c', '4')]);
    out.spec.containers.length = 0;
    assert.equal(original.spec.containers.length, 3);
  });
});
