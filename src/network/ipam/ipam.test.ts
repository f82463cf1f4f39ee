import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RangeAllocator } from './allocator.js';
import { CidrSet } from './cidrset.js';
import { PodIPAM } from './podips.js';
import { FileStateStore, MemoryStateStore } from './store.js';

describe('ipam', () => {
  it('hands out round-robin and never the same value to two owners', () => {
    const a = new RangeAllocator(1, 3, 'r');
    assert.equal(a.allocate('x'), 1);
    assert.equal(a.allocate('y'), 2);
    assert.equal(a.allocate('x'), 1, 'same owner, same value');
    a.releaseOwner('x');
    assert.equal(a.allocate('z'), 3, 'a just-released value is not reused first');
    assert.equal(a.allocate('w'), 1);
    assert.throws(() => a.allocate('v'), /no free address/);
    assert.throws(() => a.claim(2, 'v'), /already allocated to y/);
  });

  it('pod IPs skip network, gateway and broadcast, and survive a restart', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ipam-'));
    try {
      const file = path.join(dir, 'ipam.json');
      const a = new PodIPAM('10.244.3.0/24', new FileStateStore(file));
      assert.equal(a.gateway, '10.244.3.1');
      assert.equal(a.allocate('p1'), '10.244.3.2');
      assert.equal(a.allocate('p2'), '10.244.3.3');
      a.release('p1');
      // A new process over the same file: p2's address stays taken, and the cursor moves on.
      const b = new PodIPAM('10.244.3.0/24', new FileStateStore(file));
      assert.equal(b.ownerOf('10.244.3.3'), 'p2');
      assert.equal(b.allocate('p3'), '10.244.3.4');
      assert.equal(b.free, 253 - 2);
      assert.throws(() => b.allocate('p4', '10.244.3.3'), /already allocated/);
      assert.equal(b.allocate('p4', '10.244.3.9'), '10.244.3.9');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a full /30 has exactly one pod address', () => {
    const a = new PodIPAM('10.0.0.0/30', new MemoryStateStore());
    assert.equal(a.allocate('a'), '10.0.0.2');
    assert.throws(() => a.allocate('b'), /no free address/);
  });

  it('node CIDRs: /24 blocks of the cluster CIDR, occupied blocks skipped', () => {
    const s = new CidrSet('10.244.0.0/16', 24);
    assert.equal(s.occupy('10.244.1.0/24', 'n1'), true);
    assert.equal(s.occupy('10.1.0.0/24', 'sim'), false);
    assert.equal(s.allocate('n0'), '10.244.0.0/24');
    assert.equal(s.allocate('n2'), '10.244.2.0/24');
    assert.throws(() => s.occupy('10.244.2.0/24', 'other'), /already allocated/);
    s.release('n0');
    assert.equal(s.allocate('n3'), '10.244.3.0/24');
  });
});
