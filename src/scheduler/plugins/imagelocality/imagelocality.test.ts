import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkNode, mkPod, mkWorld, scoresOf } from '../../testutil.js';

test('ImageLocality: bigger images already present score higher, scaled by spread', () => {
  const MB = 1024 * 1024;
  const nodes = [
    mkNode('has-big', { images: [{ names: ['registry/big:1'], sizeBytes: 500 * MB }] }),
    mkNode('has-small', { images: [{ names: ['registry/small:1'], sizeBytes: 10 * MB }] }),
    mkNode('none'),
  ];
  const pod = mkPod('p', { containers: [{ name: 'c', image: 'registry/big:1' }] });
  const s = scoresOf(mkWorld(nodes), pod, 'ImageLocality');
  // 500MB × (1/3 nodes) = 166MB → (166-23)/(1000-23) of 100.
  assert.equal(s['has-small'], 0);
  assert.equal(s.none, 0);
  assert.equal(s['has-big'], 14);
});
