import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLabels, parseTaints, simulatedNodesOptionsFromFlags } from './cli.js';

test('flags: labels, taints in kubectl notation, capacity', () => {
  assert.deepEqual(parseLabels(['a=1,b=2', 'c=']), { a: '1', b: '2', c: '' });
  assert.deepEqual(parseTaints('gpu=true:NoSchedule,spot:PreferNoSchedule'), [
    { key: 'gpu', value: 'true', effect: 'NoSchedule' },
    { key: 'spot', effect: 'PreferNoSchedule' },
  ]);
  assert.throws(() => parseTaints('x=y'), /expected key=value:Effect/);
  assert.deepEqual(simulatedNodesOptionsFromFlags(3, { cpu: '8', memory: '32Gi', zones: '2' }).capacity, { cpu: '8', memory: '32Gi' });
  assert.throws(() => simulatedNodesOptionsFromFlags(-1, {}), /whole number/);
});
