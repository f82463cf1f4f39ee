import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { claimLoopbackRanges, rangesForSlot } from './loopbackslot.js';

test('loopback clusters on one machine get distinct ranges, and a data dir keeps its own across restarts', (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'skiff-slots-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const locks = path.join(root, 'locks');
  const a = claimLoopbackRanges(path.join(root, 'a'), locks);
  const b = claimLoopbackRanges(path.join(root, 'b'), locks);
  assert.deepEqual(a.ranges, rangesForSlot(0));
  assert.deepEqual(b.ranges, { slot: 1, clusterCIDR: '10.245.0.0/16', serviceCIDR: '10.112.0.0/12' });
  // While a runs, its data dir cannot be claimed twice.
  assert.throws(() => claimLoopbackRanges(path.join(root, 'a'), locks), /another skiff .* uses this cluster's loopback addresses/);
  a.release();
  b.release();
  // b restarts alone: it keeps slot 1 (its Services' addresses stay valid), not the free slot 0.
  const again = claimLoopbackRanges(path.join(root, 'b'), locks);
  assert.equal(again.ranges.slot, 1);
  again.release();
});
