/**
 * `kubectl apply -f list.yaml` of a `kind: List` (the output of `kubectl get … -o yaml`): kubectl
 * validates List items client-side against /openapi/v2 (protobuf), so that document must be
 * served and must reject what upstream rejects, with upstream's message.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { which } from '../testing/real.js';
import { clientFromKubeconfig } from '../testing/client.js';

const CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'gadgets.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Namespaced',
    names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  size: { type: 'integer' },
                  port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
                  free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                },
              },
            },
          },
        },
      },
    ],
  },
};

function deployment(name: string, extraSpec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80, name: 'http' }], resources: { limits: { cpu: 1, memory: '64Mi' } } }] },
      },
      ...extraSpec,
    },
  };
}

function list(...items: Record<string, unknown>[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items });
}

function backup(suffix: string): string {
  return list(
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${suffix}` }, data: { k: 'v' } },
    deployment(`web-${suffix}`),
    { apiVersion: 'v1', kind: 'Service', metadata: { name: `web-${suffix}` }, spec: { selector: { app: `web-${suffix}` }, ports: [{ port: 80, targetPort: 'http' }] } },
  );
}

/** What kubectl prints for an unknown field in a List item (client-side validation, as against upstream). */
const UNKNOWN_SPEC_FOO =
  'error: error validating "STDIN": error validating data: ValidationError(Deployment.spec): unknown field "foo" in io.k8s.api.apps.v1.DeploymentSpec; if you choose to ignore these errors, turn validation off with --validate=false';

/** kubectl.1.NN binaries live beside the real kubectl (a dispatcher), not necessarily on PATH. */
function versioned(minor: number): string | undefined {
  const onPath = which(`kubectl.1.${minor}`);
  if (onPath) return onPath;
  const k = which('kubectl');
  if (!k) return undefined;
  const p = path.join(path.dirname(realpathSync(k)), `kubectl.1.${minor}`);
  return existsSync(p) ? p : undefined;
}

describe('kubectl apply of a kind: List (client-side validation from /openapi/v2)', () => {
  let c: TestCluster;
  before(async () => {
    c = await startTestCluster();
  });
  after(async () => {
    await c?.stop();
  });

  it('applies a List of a ConfigMap, a Deployment and a Service', async () => {
    const out = await c.run(['apply', '-f', '-'], backup('a'));
    assert.match(out, /configmap\/cm-a created/);
    assert.match(out, /deployment\.apps\/web-a created/);
    assert.match(out, /service\/web-a created/);
    const names = await c.run(['get', 'configmap/cm-a', 'deployment/web-a', 'service/web-a', '-o', 'name']);
    assert.deepEqual(names.trim().split('\n'), ['configmap/cm-a', 'deployment.apps/web-a', 'service/web-a']);
    // create -f of the same kind of List validates the same way
    const created = await c.run(['create', '-f', '-'], backup('b'));
    assert.match(created, /deployment\.apps\/web-b created/);
  });

  it('rejects a List item with an unknown field, with the message kubectl prints against upstream', async () => {
    const bad = list({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-bad' }, data: { k: 'v' } }, deployment('web-bad', { foo: 1 }));
    for (const verb of ['apply', 'create']) {
      const r = await c.kubectl([verb, '-f', '-'], { input: bad });
      assert.notEqual(r.code, 0, verb);
      assert.equal(r.stderr.trim(), UNKNOWN_SPEC_FOO, verb);
    }
    // validation fails before anything is sent
    const r = await c.kubectl(['get', 'configmap/cm-bad', 'deployment/web-bad']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /NotFound/);
    // --validate=false skips the check (and asks the server to ignore unknown fields)
    await c.run(['apply', '--validate=false', '-f', '-'], bad);
  });

  it('validates a `kubectl get … -o yaml` backup of many kinds when it is applied back', async () => {
    await c.run(['create', 'secret', 'generic', 'sec', '--from-literal=a=b']);
    await c.run(['create', 'serviceaccount', 'sa']);
    await c.run(['create', 'role', 'r', '--verb=get', '--resource=pods']);
    await c.run(['create', 'rolebinding', 'rb', '--role=r', '--serviceaccount=default:sa']);
    await c.run(['create', 'cronjob', 'cj', '--image=busybox', '--schedule=*/5 * * * *', '--', 'true']);
    await c.run(['create', 'ingress', 'ing', '--rule=foo.com/=web-a:80']);
    await c.run(['create', 'pdb', 'pdb', '--selector=app=web-a', '--min-available=1']);
    await c.run(['create', 'priorityclass', 'pc', '--value=100']);
    await c.run(['create', 'quota', 'q', '--hard=pods=10']);
    const kinds = 'deploy,svc,endpoints,cm,secrets,sa,roles,rolebindings,cronjobs,ingress,pdb,priorityclasses,resourcequotas,namespaces';
    const yaml = await c.run(['get', kinds, '-A', '-o', 'yaml']);
    assert.match(yaml, /^kind: List$/m);
    // status, managedFields, resourceVersion, int-or-string ports, quantities: all pass validation
    const r = await c.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: yaml });
    assert.equal(r.code, 0, r.stderr);
  });

  it('serves JSON to curl and protobuf to kubectl, with one ETag and 304 on If-None-Match', async () => {
    const api = await clientFromKubeconfig(c.kubeconfig);
    try {
      const json = await api.request('GET', '/openapi/v2', undefined, { accept: 'application/json' });
      assert.equal(json.status, 200);
      assert.match(String(json.headers['content-type']), /^application\/json/);
      assert.equal(json.json().swagger, '2.0');
      const etag = String(json.headers.etag);
      assert.match(etag, /^"[0-9A-F]+"$/);
      const pb = await api.request('GET', '/openapi/v2', undefined, { accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' });
      assert.equal(pb.status, 200);
      assert.match(String(pb.headers['content-type']), /protobuf/);
      assert.equal(pb.headers.etag, etag);
      const again = await api.request('GET', '/openapi/v2', undefined, { accept: 'application/json', 'if-none-match': etag });
      assert.equal(again.status, 304);
    } finally {
      api.close();
    }
  });

  it('applies a List containing custom resources of a CRD (their schemas are published in v2)', async () => {
    await c.run(['apply', '-f', '-'], JSON.stringify(CRD));
    await c.run(['wait', '--for', 'condition=established', '--timeout=30s', 'crd/gadgets.example.com']);
    const raw = JSON.parse(await c.run(['get', '--raw', '/openapi/v2'])) as { swagger: string; definitions: Record<string, { 'x-kubernetes-group-version-kind'?: unknown }> };
    assert.equal(raw.swagger, '2.0');
    assert.deepEqual(raw.definitions['com.example.v1.Gadget']?.['x-kubernetes-group-version-kind'], [{ group: 'example.com', kind: 'Gadget', version: 'v1' }]);

    const gadget = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name }, spec });
    const out = await c.run(['apply', '-f', '-'], list(gadget('g1', { size: 3, port: 'http', free: { any: { thing: [1] } } }), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-g' }, data: {} }));
    assert.match(out, /gadget\.example\.com\/g1 created/);
    assert.match(out, /configmap\/cm-g created/);
    const g = JSON.parse(await c.run(['get', 'gadget', 'g1', '-o', 'json']));
    assert.equal(g.spec.port, 'http');

    const backupYaml = await c.run(['get', 'gadgets,cm', '-o', 'yaml']);
    const back = await c.kubectl(['apply', '--dry-run=server', '-f', '-'], { input: backupYaml });
    assert.equal(back.code, 0, back.stderr);

    const r = await c.kubectl(['apply', '-f', '-'], { input: list(gadget('g2', { size: 1, bogus: true })) });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /error validating data: ValidationError\(Gadget\.spec\): unknown field "bogus" in com\.example\.v1\.Gadget\.spec/);
  });

  for (const minor of [27, 33]) {
    it(`works the same with kubectl 1.${minor}`, async (t) => {
      const bin = versioned(minor);
      if (!bin) {
        t.skip(`kubectl.1.${minor} not installed`);
        return;
      }
      const ok = await c.kubectl(['apply', '-f', '-'], { input: backup(`v${minor}`), bin });
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, new RegExp(`deployment\\.apps/web-v${minor} created`));
      const bad = await c.kubectl(['apply', '-f', '-'], { input: list(deployment(`web-bad-${minor}`, { foo: 1 })), bin });
      assert.notEqual(bad.code, 0);
      assert.equal(bad.stderr.trim(), UNKNOWN_SPEC_FOO);
    });
  }
});
