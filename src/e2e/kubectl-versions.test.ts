/**
 * Every kubectl from 1.27 to 1.33 (kubectl.1.X beside the kubectl on PATH) against one API server:
 * the everyday commands, including the ones older clients build from /openapi/v2 (client-side
 * apply's patch metadata, explain, validation of a List).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { needs, which } from '../testing/real.js';

const VERSIONS = ['1.27', '1.28', '1.29', '1.30', '1.31', '1.32', '1.33'];

function binaryFor(v: string): string | undefined {
  const k = which('kubectl');
  if (!k) return undefined;
  const bin = path.join(path.dirname(realpathSync(k)), `kubectl.${v}`);
  return existsSync(bin) ? bin : undefined;
}

describe('kubectl 1.27 … 1.33', () => {
  let c: TestCluster | undefined;
  before(async () => {
    if (which('kubectl')) c = await startTestCluster();
  });
  after(async () => {
    await c?.stop();
  });

  for (const v of VERSIONS) {
    it(`kubectl ${v}: apply, get, describe, explain, patch, diff, delete`, async (t) => {
      const bin = binaryFor(v);
      if (needs(t, bin ? undefined : `kubectl.${v} is not beside kubectl`)) return;
      const name = `cm-${v.replace('.', '-')}`;
      const k = async (args: string[], input?: string, ok: number[] = [0]) => {
        const r = await c!.kubectl(args, { input, bin });
        assert.ok(ok.includes(r.code), `kubectl ${v} ${args.join(' ')} → ${r.code}: ${r.stderr}`);
        return r.stdout;
      };
      const cm = (data: Record<string, string>) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { v } }, data });
      const dep = JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name },
        spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '1'], env: [{ name: 'A', value: '1' }] }] } } },
      });
      assert.match(await k(['apply', '-f', '-'], cm({ a: '1' })), /created/);
      assert.match(await k(['apply', '-f', '-'], cm({ a: '2' })), /configured/);
      // Client-side apply of a list with a merge key (containers by name, env by name).
      await k(['apply', '-f', '-'], dep);
      assert.match(await k(['apply', '-f', '-'], dep.replace('"value":"1"', '"value":"2"')), /configured/);
      assert.equal(await k(['get', 'deploy', name, '-o', 'jsonpath={.spec.template.spec.containers[0].env[0].value}']), '2');
      assert.match(await k(['get', 'cm', name]), new RegExp(`^NAME +DATA +AGE\\n${name} +1 `));
      assert.match(await k(['describe', 'cm', name]), /Data\n====\na:\n----\n2/);
      assert.match(await k(['explain', 'deployment.spec.strategy']), /rollingUpdate/);
      await k(['patch', 'cm', name, '-p', '{"data":{"b":"3"}}']);
      await k(['diff', '-f', '-'], cm({ a: '2', b: '3' }), [0, 1]);
      // A List goes through client-side validation (no server-side field validation for v1/List).
      const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [JSON.parse(cm({ a: '4' }))] });
      assert.match(await k(['apply', '-f', '-'], list), /configured/);
      await k(['delete', 'cm,deploy', name]);
    });
  }
});
