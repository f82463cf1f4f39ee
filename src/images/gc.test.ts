import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_IMAGE_GC_POLICY,
  ImageGarbageCollector,
  detectImages,
  evictionOrder,
  freeDiskSpaceFailedMessage,
  planByAge,
  planBySpace,
  validateImageGCPolicy,
  type ImageRecord,
} from './gc.js';
import type { Container, Image } from '../runtime/cri.js';

const MIN = 60_000;
const GB = 1024 ** 3;

describe('image GC policy (pure)', () => {
  it('validates thresholds and ages with upstream messages', () => {
    assert.equal(validateImageGCPolicy(DEFAULT_IMAGE_GC_POLICY), undefined);
    assert.equal(validateImageGCPolicy({ ...DEFAULT_IMAGE_GC_POLICY, highThresholdPercent: 101 }), 'invalid HighThresholdPercent 101, must be in range [0-100]');
    assert.equal(validateImageGCPolicy({ ...DEFAULT_IMAGE_GC_POLICY, lowThresholdPercent: 90 }), 'LowThresholdPercent 90 can not be higher than HighThresholdPercent 85');
    assert.match(validateImageGCPolicy({ ...DEFAULT_IMAGE_GC_POLICY, maxAgeMs: MIN })!, /greater than imageMinimumGCAge/);
  });

  it('records first detection, last use, size and pins; forgets images that are gone', () => {
    let r = detectImages(new Map(), [{ id: 'a', size: 1 }, { id: 'b', size: 2, pinned: true }], new Set(['a']), 1000);
    assert.deepEqual(r.get('a'), { firstDetected: 1000, lastUsed: 1000, size: 1, pinned: false });
    assert.deepEqual(r.get('b'), { firstDetected: 1000, lastUsed: 0, size: 2, pinned: true });
    r = detectImages(r, [{ id: 'a', size: 3 }], new Set(), 2000);
    assert.deepEqual([...r.keys()], ['a']);
    assert.deepEqual(r.get('a'), { firstDetected: 1000, lastUsed: 1000, size: 3, pinned: false });
  });

  it('orders candidates least recently used first, ties by earliest detected; never in use or pinned', () => {
    const rec = (firstDetected: number, lastUsed: number, pinned = false): ImageRecord => ({ firstDetected, lastUsed, size: 1, pinned });
    const records = new Map([
      ['recent', rec(0, 500)],
      ['never-used-late', rec(200, 0)],
      ['never-used-early', rec(100, 0)],
      ['old', rec(0, 100)],
      ['in-use', rec(0, 50)],
      ['pinned', rec(0, 0, true)],
    ]);
    assert.deepEqual(
      evictionOrder(records, new Set(['in-use'])).map((c) => c.id),
      ['never-used-early', 'never-used-late', 'old', 'recent'],
    );
  });

  it('does nothing below the high threshold; above it frees down to the low threshold, skipping young images', () => {
    const now = 10 * MIN;
    const cands = evictionOrder(
      new Map([
        ['old', { firstDetected: 0, lastUsed: MIN, size: 3 * GB, pinned: false }],
        ['young', { firstDetected: now - MIN, lastUsed: 0, size: 5 * GB, pinned: false }],
      ]),
      new Set(),
    );
    assert.deepEqual(planBySpace(cands, { capacityBytes: 100 * GB, availableBytes: 16 * GB }, DEFAULT_IMAGE_GC_POLICY, now), { kind: 'ok', usagePercent: 84 });
    const plan = planBySpace(cands, { capacityBytes: 100 * GB, availableBytes: 10 * GB }, DEFAULT_IMAGE_GC_POLICY, now);
    assert.equal(plan.kind, 'free');
    if (plan.kind !== 'free') return;
    assert.equal(plan.usagePercent, 90);
    assert.equal(plan.amountToFree, 10 * GB); // back to 80 %: 20 GB available
    assert.deepEqual(
      plan.candidates.map((c) => c.id),
      ['old'],
    );
    assert.deepEqual(planBySpace(cands, { capacityBytes: 0, availableBytes: 0 }, DEFAULT_IMAGE_GC_POLICY, now), { kind: 'invalid-capacity', message: 'invalid capacity 0 on image filesystem' });
  });

  it('removes images unused longer than imageMaximumGCAge, only once the kubelet has run that long', () => {
    const policy = { ...DEFAULT_IMAGE_GC_POLICY, maxAgeMs: 60 * MIN };
    const cands = [
      { id: 'stale', firstDetected: 0, lastUsed: 0, size: 1, pinned: false },
      { id: 'fresh', firstDetected: 0, lastUsed: 100 * MIN, size: 1, pinned: false },
    ];
    assert.deepEqual(planByAge(cands, policy, 120 * MIN, 0).map((c) => c.id), ['stale']);
    assert.deepEqual(planByAge(cands, policy, 50 * MIN, 0), []);
    assert.deepEqual(planByAge(cands, DEFAULT_IMAGE_GC_POLICY, 120 * MIN, 0), []);
  });
});

describe('ImageGarbageCollector over a runtime', () => {
  const image = (id: string, size: number, tag: string): Image => ({ id, size, repoTags: [tag], repoDigests: [] });
  const container = (id: string, imageRef: string): Container =>
    ({ id, podSandboxId: 's', metadata: { name: id, attempt: 0 }, image: { image: imageRef }, imageRef, state: 'CONTAINER_EXITED', createdAt: 0, labels: {}, annotations: {} }) as Container;

  function world() {
    let now = 0;
    const images = [image('sha256:old', 4 * GB, 'old:1'), image('sha256:newer', 4 * GB, 'newer:1'), image('sha256:used', 4 * GB, 'used:1'), image('sha256:pause', 1 * GB, 'skiff.local/pause:3.9')];
    const containers = [container('c1', 'sha256:used')];
    let available = 10 * GB;
    const events: string[] = [];
    const removed: string[] = [];
    const gc = new ImageGarbageCollector({
      runtime: {
        listImages: async () => images.filter((i) => !removed.includes(i.id)),
        listContainers: async () => containers,
        removeImage: async (spec) => {
          removed.push(spec.image);
          available += images.find((i) => i.id === spec.image)!.size;
        },
      },
      fsUsage: async () => ({ capacityBytes: 100 * GB, availableBytes: available }),
      pinned: () => new Set(['skiff.local/pause:3.9']),
      now: () => now,
      event: (_t, reason, msg) => events.push(`${reason}: ${msg}`),
    });
    return { gc, removed, events, setNow: (t: number) => (now = t), setAvailable: (b: number) => (available = b) };
  }

  it('frees least recently used images until the low threshold; never the one in use (even by an exited container) nor the sandbox image', async () => {
    const w = world();
    await w.gc.detect(); // all first detected at 0
    w.setNow(5 * MIN);
    const r = await w.gc.garbageCollect(); // 90 % used: 10 GB to free
    assert.deepEqual(r.removed, ['sha256:old', 'sha256:newer']);
    assert.equal(r.freedBytes, 8 * GB);
    assert.equal(r.error, freeDiskSpaceFailedMessage(10 * GB, 8 * GB));
    assert.deepEqual(w.events, [`FreeDiskSpaceFailed: ${r.error}`]);
  });

  it('keeps images younger than the minimum age, and does nothing under the high threshold', async () => {
    const w = world();
    w.setNow(MIN);
    const r = await w.gc.garbageCollect();
    assert.deepEqual(r.removed, []);
    assert.match(r.error ?? '', /only found 0 bytes eligible/);
    const w2 = world();
    w2.setAvailable(50 * GB);
    w2.setNow(10 * MIN);
    assert.deepEqual(await w2.gc.garbageCollect(), { removed: [], freedBytes: 0 });
  });
});
