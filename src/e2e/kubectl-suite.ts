import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import type { TestCluster } from '../testing/cluster.js';
import { needs, which } from '../testing/real.js';
import { until } from '../testing/wait.js';

/** The seed's pod.yml. */
export const SEED_POD = `apiVersion: v1
kind: Pod
metadata:
  name: example-pod
spec:
  containers:
  - name: nginx
    image: nginx
`;


/**
 * The acceptance suite of the control plane: the real kubectl against a running cluster. Runs once
 * per datastore.
 */
export function kubectlSuite(name: string, start: () => Promise<TestCluster | undefined>): void {
  if (!which('kubectl')) {
    it(`kubectl against skiff (${name})`, (t) => {
      needs(t, 'kubectl is not on PATH');
    });
    return;
  }
  describe(`kubectl against skiff (${name})`, () => {
    let c: TestCluster | undefined;
    const k = (args: string[], input?: string) => c!.run(args, input);
    before(async () => {
      c = await start();
    });
    after(async () => {
      await c?.stop();
    });

    it('serves version, api-resources, cluster-info and explain', async (t) => {
      if (!c) return t.skip('no cluster');
      const v = JSON.parse(await k(['version', '-o', 'json']));
      assert.equal(v.serverVersion.major, '1');
      assert.equal(v.serverVersion.minor, '32');
      const res = await k(['api-resources']);
      for (const line of [/^pods\s+po\s+v1\s+true\s+Pod$/m, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m, /^leases\s+coordination.k8s.io\/v1\s+true\s+Lease$/m]) {
        assert.match(res, line);
      }
      assert.match(await k(['cluster-info']), /Kubernetes control plane is running at https:\/\/127\.0\.0\.1:\d+/);
      const ex = await k(['explain', 'pod.spec.containers']);
      assert.match(ex, /KIND:\s+Pod/);
      assert.match(ex, /FIELD:\s+containers <\[\]Container>/);
      assert.match(ex, /image\s+<string>/);
    });

    it('creates the seed pod and shows it in every output form', async (t) => {
      if (!c) return t.skip('no cluster');
      assert.match(await k(['create', '-f', '-'], SEED_POD), /pod\/example-pod created/);
      const dup = await c.kubectl(['create', '-f', '-'], { input: SEED_POD });
      assert.notEqual(dup.code, 0);
      assert.match(dup.stderr, /AlreadyExists|already exists/);
      const table = await k(['get', 'pods']);
      assert.match(table, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
      assert.match(table, /^example-pod\s+0\/1\s+Pending\s+0\s+\S+$/m);
      const wide = await k(['get', 'pods', '-o', 'wide']);
      assert.match(wide, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/m);
      assert.match(wide, /^example-pod\s+0\/1\s+Pending\s+0\s+\S+\s+<none>\s+<none>\s+<none>\s+<none>$/m);
      const json = JSON.parse(await k(['get', 'pod', 'example-pod', '-o', 'json']));
      assert.equal(json.kind, 'Pod');
      assert.equal(json.metadata.namespace, 'default');
      assert.match(json.metadata.uid, /^[0-9a-f-]{36}$/);
      assert.equal(json.spec.restartPolicy, 'Always');
      assert.equal(json.spec.containers[0].imagePullPolicy, 'Always');
      assert.equal(json.status.phase, 'Pending');
      const yaml = await k(['get', 'pod', 'example-pod', '-o', 'yaml']);
      assert.match(yaml, /^kind: Pod$/m);
      assert.match(yaml, /terminationMessagePath: \/dev\/termination-log/);
      const all = await k(['get', 'pods', '-A']);
      assert.match(all, /^NAMESPACE\s+NAME\s+READY/m);
      assert.match(all, /^default\s+example-pod\s+/m);
      const desc = await k(['describe', 'pod', 'example-pod']);
      assert.match(desc, /^Name:\s+example-pod$/m);
      assert.match(desc, /^Namespace:\s+default$/m);
      assert.match(desc, /^Status:\s+Pending$/m);
      assert.match(desc, /Image:\s+nginx/);
    });

    it('filters by label and field selectors', async (t) => {
      if (!c) return t.skip('no cluster');
      await k(['run', 'sel-a', '--image=busybox', '--labels=app=a,tier=web']);
      await k(['run', 'sel-b', '--image=busybox', '--labels=app=b']);
      const a = await k(['get', 'pods', '-l', 'app=a', '-o', 'name']);
      assert.equal(a.trim(), 'pod/sel-a');
      const notA = await k(['get', 'pods', '-l', 'app!=a,app', '-o', 'name']);
      assert.equal(notA.trim(), 'pod/sel-b');
      const inSet = await k(['get', 'pods', '-l', 'app in (a,b)', '-o', 'name']);
      assert.deepEqual(inSet.trim().split('\n').sort(), ['pod/sel-a', 'pod/sel-b']);
      const byName = await k(['get', 'pods', '--field-selector', 'metadata.name=sel-b', '-o', 'name']);
      assert.equal(byName.trim(), 'pod/sel-b');
      const pending = await k(['get', 'pods', '--field-selector', 'status.phase=Pending,spec.nodeName=', '-o', 'name']);
      assert.match(pending, /pod\/sel-a/);
      const labels = await k(['get', 'pods', '-L', 'tier', '--show-labels']);
      assert.match(labels, /^sel-a\s+.*\s+web\s+app=a,tier=web$/m);
      const bad = await c.kubectl(['get', 'pods', '-l', 'app in (a']);
      assert.notEqual(bad.code, 0);
      const badField = await c.kubectl(['get', 'pods', '--field-selector', 'spec.bogus=x']);
      assert.notEqual(badField.code, 0);
      assert.match(badField.stderr, /field label not supported: spec.bogus/);
      await k(['delete', 'pod', 'sel-a', 'sel-b']);
    });

    it('applies, re-applies unchanged, then changes and removes fields', async (t) => {
      if (!c) return t.skip('no cluster');
      const v1 = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, stage: one}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        env:
        - {name: A, value: "1"}
        - {name: B, value: "2"}
`;
      assert.match(await k(['apply', '-f', '-'], v1), /deployment.apps\/web created/);
      assert.match(await k(['apply', '-f', '-'], v1), /deployment.apps\/web unchanged/);
      const v2 = v1.replace('replicas: 2', 'replicas: 3').replace('        - {name: B, value: "2"}\n', '').replace(', stage: one', '');
      assert.match(await k(['apply', '-f', '-'], v2), /deployment.apps\/web configured/);
      const d = JSON.parse(await k(['get', 'deploy', 'web', '-o', 'json']));
      assert.equal(d.spec.replicas, 3);
      assert.deepEqual(d.spec.template.spec.containers[0].env, [{ name: 'A', value: '1' }]);
      assert.equal(d.metadata.labels.stage, undefined);
      assert.equal(d.metadata.generation, 2);
      assert.equal(d.spec.strategy.type, 'RollingUpdate');
      const scaled = await k(['scale', 'deploy/web', '--replicas=5']);
      assert.match(scaled, /deployment.apps\/web scaled/);
      assert.equal(JSON.parse(await k(['get', 'deploy', 'web', '-o', 'json'])).spec.replicas, 5);
      const strict = await c.kubectl(['apply', '-f', '-'], { input: v2.replace('replicas: 3', 'replicas: 3\n  bogus: 1') });
      assert.notEqual(strict.code, 0);
      assert.match(strict.stderr, /unknown field "spec.bogus"/);
    });

    it('edits with a scripted EDITOR', async (t) => {
      if (!c) return t.skip('no cluster');
      await k(['create', 'configmap', 'edit-me', '--from-literal=color=red']);
      const editor = path.join(c.dataDir, 'editor.sh');
      await writeFile(editor, '#!/bin/sh\nsed -i "s/color: red/color: blue/" "$1"\n');
      await chmod(editor, 0o755);
      const r = await c.kubectl(['edit', 'configmap', 'edit-me'], { env: { EDITOR: editor, KUBE_EDITOR: editor } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /configmap\/edit-me edited/);
      assert.equal(JSON.parse(await k(['get', 'cm', 'edit-me', '-o', 'json'])).data.color, 'blue');
    });

    it('labels, annotates and patches (json, merge, strategic)', async (t) => {
      if (!c) return t.skip('no cluster');
      await k(['label', 'pod', 'example-pod', 'team=blue']);
      await k(['annotate', 'pod', 'example-pod', 'note=hello']);
      const p0 = JSON.parse(await k(['get', 'pod', 'example-pod', '-o', 'json']));
      assert.equal(p0.metadata.labels.team, 'blue');
      assert.equal(p0.metadata.annotations.note, 'hello');
      await k(['label', 'pod', 'example-pod', 'team-']);
      await k(['patch', 'pod', 'example-pod', '--type', 'json', '-p', '[{"op":"add","path":"/metadata/labels","value":{"x":"1"}}]']);
      await k(['patch', 'pod', 'example-pod', '--type', 'merge', '-p', '{"metadata":{"labels":{"y":"2"}}}']);
      await k(['patch', 'pod', 'example-pod', '--type', 'strategic', '-p', '{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}']);
      const p1 = JSON.parse(await k(['get', 'pod', 'example-pod', '-o', 'json']));
      assert.deepEqual(p1.metadata.labels, { x: '1', y: '2' });
      assert.equal(p1.spec.containers.length, 1);
      assert.equal(p1.spec.containers[0].image, 'nginx:1.27');
      const bad = await c.kubectl(['patch', 'pod', 'example-pod', '--type', 'json', '-p', '[{"op":"test","path":"/metadata/name","value":"nope"}]']);
      assert.notEqual(bad.code, 0);
      const forbidden = await c.kubectl(['patch', 'pod', 'example-pod', '--type', 'merge', '-p', '{"spec":{"restartPolicy":"Never"}}']);
      assert.notEqual(forbidden.code, 0);
      assert.match(forbidden.stderr, /Forbidden|Invalid|is invalid/);
    });

    it('watches with get -w', async (t) => {
      if (!c) return t.skip('no cluster');
      const child = spawn('kubectl', ['get', 'configmaps', '-w', '--no-headers'], { env: { ...process.env, KUBECONFIG: c.kubeconfig, KUBECACHEDIR: path.join(c.dataDir, 'kube-cache') } });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      try {
        await until('the initial list', () => out.includes('edit-me'), 10_000);
        await k(['create', 'configmap', 'watched', '--from-literal=a=b']);
        await until('the ADDED event', () => /^watched\s+1\s+/m.test(out), 10_000);
      } finally {
        child.kill();
      }
    });

    it('deletes and waits for deletion', async (t) => {
      if (!c) return t.skip('no cluster');
      await k(['create', 'configmap', 'doomed']);
      const waiter = c.kubectl(['wait', '--for=delete', 'configmap/doomed', '--timeout=20s']);
      await new Promise((r) => setTimeout(r, 300));
      assert.match(await k(['delete', 'configmap', 'doomed']), /configmap "doomed" deleted/);
      const w = await waiter;
      assert.equal(w.code, 0, w.stderr);
      assert.match(await k(['delete', 'pod', 'example-pod']), /pod "example-pod" deleted/);
      const gone = await c.kubectl(['get', 'pod', 'example-pod']);
      assert.notEqual(gone.code, 0);
      assert.match(gone.stderr, /pods "example-pod" not found/);
    });

    it('rejects bad input with a clear Status and stores nothing', async (t) => {
      if (!c) return t.skip('no cluster');
      const badName = await c.kubectl(['create', '-f', '-'], { input: SEED_POD.replace('example-pod', 'Bad_Name') });
      assert.notEqual(badName.code, 0);
      assert.match(badName.stderr, /is invalid: metadata.name: Invalid value: "Bad_Name"/);
      const noImage = await c.kubectl(['create', '-f', '-'], { input: SEED_POD.replace('    image: nginx\n', '') });
      assert.match(noImage.stderr, /spec.containers\[0\].image: Required value/);
      const unknownKind = await c.kubectl(['create', '-f', '-'], { input: 'apiVersion: v1\nkind: Bogus\nmetadata: {name: x}\n' });
      assert.notEqual(unknownKind.code, 0);
      const pods = await k(['get', 'pods', '-o', 'name']);
      assert.doesNotMatch(pods, /Bad_Name/);
    });
  });
}
