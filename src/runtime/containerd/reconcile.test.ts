import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { netnsOfSandboxInfo, orphanSandboxes, readIpamReservations, staleNetns, staleReservations } from './reconcile.js';
import { LABEL_POD_UID } from '../cri.js';

describe('reconcile (pure decisions)', () => {
  it('names sandboxes of pods the node no longer has, never unlabelled ones', () => {
    const sbs: { id: string; labels: Record<string, string> }[] = [
      { id: 'a', labels: { [LABEL_POD_UID]: 'u1' } },
      { id: 'b', labels: { [LABEL_POD_UID]: 'u2' } },
      { id: 'c', labels: {} },
    ];
    assert.deepEqual(orphanSandboxes(sbs, new Set(['u1'])), ['b']);
    assert.deepEqual(orphanSandboxes(sbs, new Set(['u1', 'u2'])), []);
  });

  it('reads host-local reservations (both file formats) and skips its bookkeeping files', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ipam-'));
    try {
      mkdirSync(path.join(dir, 'net1'));
      writeFileSync(path.join(dir, 'net1', '10.244.1.2'), 'sb-live\r\neth0');
      writeFileSync(path.join(dir, 'net1', '10.244.1.3'), 'sb-gone');
      writeFileSync(path.join(dir, 'net1', 'last_reserved_ip.0'), '10.244.1.3');
      writeFileSync(path.join(dir, 'net1', 'lock'), '');
      const rs = readIpamReservations(dir).sort((a, b) => a.ip.localeCompare(b.ip));
      assert.deepEqual(
        rs.map((r) => [r.network, r.ip, r.containerId]),
        [
          ['net1', '10.244.1.2', 'sb-live'],
          ['net1', '10.244.1.3', 'sb-gone'],
        ],
      );
      assert.deepEqual(
        staleReservations(rs, new Set(['sb-live'])).map((r) => r.ip),
        ['10.244.1.3'],
      );
      assert.deepEqual(readIpamReservations(path.join(dir, 'missing')), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('finds the network namespace in containerd verbose info; unreferenced namespaces are stale', () => {
    const info = { info: JSON.stringify({ runtimeSpec: { linux: { namespaces: [{ type: 'pid' }, { type: 'network', path: '/s/netns/cni-1' }] } } }) };
    assert.equal(netnsOfSandboxInfo(info), '/s/netns/cni-1');
    assert.equal(netnsOfSandboxInfo({ info: 'not json' }), undefined);
    assert.equal(netnsOfSandboxInfo(undefined), undefined);
    assert.deepEqual(staleNetns(['/s/netns/cni-1', '/s/netns/cni-2'], new Set(['/s/netns/cni-1'])), ['/s/netns/cni-2']);
  });
});
