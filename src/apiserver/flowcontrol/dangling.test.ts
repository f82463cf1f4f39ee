import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { danglingCondition } from './dangling.js';
import { startTestCluster, type TestCluster } from '../../testing/cluster.js';
import { until } from '../../testing/wait.js';

describe('FlowSchema Dangling condition', () => {
  it("says whether the schema's priority level exists, in upstream's words", () => {
    assert.deepEqual(danglingCondition('catch-all', true), { type: 'Dangling', status: 'False', reason: 'Found', message: 'This FlowSchema references the PriorityLevelConfiguration object named "catch-all" and it exists' });
    assert.equal(danglingCondition('nope', false).status, 'True');
    assert.equal(danglingCondition('nope', false).reason, 'NotFound');
  });

  describe('in a cluster', () => {
    let c: TestCluster;
    before(async () => {
      c = await startTestCluster();
    });
    after(() => c.stop());

    it('follows priority levels coming and going (kubectl shows it as MISSINGPL)', async () => {
      const missing = async (name: string) => (await c.run(['get', 'flowschema', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Dangling")].status}'])).trim();
      await until('exempt is not dangling', async () => (await missing('exempt')) === 'False', 10_000);
      await c.run(['apply', '-f', '-'], 'apiVersion: flowcontrol.apiserver.k8s.io/v1\nkind: FlowSchema\nmetadata: {name: mine}\nspec:\n  priorityLevelConfiguration: {name: later}\n  matchingPrecedence: 500\n');
      await until('mine is dangling', async () => (await missing('mine')) === 'True', 10_000);
      await c.run(['apply', '-f', '-'], 'apiVersion: flowcontrol.apiserver.k8s.io/v1\nkind: PriorityLevelConfiguration\nmetadata: {name: later}\nspec:\n  type: Limited\n  limited: {nominalConcurrencyShares: 10, limitResponse: {type: Reject}}\n');
      await until('mine found its level', async () => (await missing('mine')) === 'False', 10_000);
      assert.match(await c.run(['get', 'flowschemas']), /\nexempt +exempt +1 +<none> +\S+ +False\nmine +later +500 +<none> +\S+ +False\ncatch-all +catch-all +10000 +ByUser +\S+ +False\n$/);
    });
  });
});
