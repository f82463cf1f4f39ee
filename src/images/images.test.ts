import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { until } from '../testing/wait.js';
import { gunzipSync } from 'node:zlib';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildImage, sha256 } from './oci.js';
import { tarball, untar } from './tar.js';
import { busyboxMissing } from './rootfs.js';
import { busyboxImage } from './testimages.js';
import { startLocalRegistry } from './registry.js';
import { imageEndpoint, imageList, imageLoad } from './cli.js';
import { ImageGarbageCollector, statfsUsage } from './gc.js';
import { dockerRegistryMissing, startDockerRegistry } from './distribution.js';
import { PAUSE_IMAGE } from './testimages.js';
import { containerdFixtureMissing, startContainerdFixture, type ContainerdFixture } from '../runtime/containerd/testing.js';

describe('OCI image builder', () => {
  it('is deterministic and self-consistent (diff_id, digests, index annotation)', () => {
    const entries = [{ type: 'dir' as const, path: 'etc' }, { type: 'file' as const, path: 'etc/x', data: Buffer.from('hi') }];
    const a = buildImage('skiff.local/t:1', entries, { cmd: ['sh'] });
    const b = buildImage('skiff.local/t:1', entries, { cmd: ['sh'] });
    assert.equal(a.manifest.digest, b.manifest.digest);
    assert.deepEqual(a.archive(), b.archive());
    const files = untar(a.archive());
    const index = JSON.parse(files.get('index.json')!.toString());
    assert.equal(index.manifests[0].annotations['io.containerd.image.name'], 'skiff.local/t:1');
    assert.equal(index.manifests[0].digest, a.manifest.digest);
    const config = JSON.parse(a.blobs.get(a.config.digest)!.toString());
    assert.equal(config.rootfs.diff_ids[0], sha256(gunzipSync(a.blobs.get(a.layer.digest)!)));
    for (const [d, data] of a.blobs) assert.equal(sha256(data), d);
    assert.deepEqual(untar(tarball(entries)).get('etc/x')?.toString(), 'hi');
  });

  it('serves an image over the registry API', async () => {
    const reg = await startLocalRegistry();
    try {
      const img = buildImage('skiff.local/t:1', [{ type: 'file', path: 'a', data: Buffer.from('a') }], {});
      const ref = reg.push(img, 'lib/t', '1');
      assert.equal(ref, `${reg.host}/lib/t:1`);
      const m = await fetch(`http://${reg.host}/v2/lib/t/manifests/1`);
      assert.equal(m.headers.get('docker-content-digest'), img.manifest.digest);
      const blob = Buffer.from(await (await fetch(`http://${reg.host}/v2/lib/t/blobs/${img.layer.digest}`)).arrayBuffer());
      assert.equal(sha256(blob), img.layer.digest);
      assert.equal((await fetch(`http://${reg.host}/v2/lib/t/manifests/2`)).status, 404);
    } finally {
      await reg.close();
    }
  });

  it('pushes to Debian\'s docker-registry over the v2 upload API and pulls the same bytes back', { skip: dockerRegistryMissing() }, async () => {
    const reg = await startDockerRegistry();
    try {
      const img = buildImage('skiff.local/t:2', [{ type: 'file', path: 'b', data: Buffer.from('b') }], { cmd: ['x'] });
      assert.equal(await reg.publish(img, 'lib/t', '2'), `${reg.host}/lib/t:2`);
      const m = await fetch(`http://${reg.host}/v2/lib/t/manifests/2`, { headers: { Accept: img.manifest.mediaType } });
      assert.equal(m.status, 200);
      assert.equal(m.headers.get('docker-content-digest'), img.manifest.digest);
      const blob = Buffer.from(await (await fetch(`http://${reg.host}/v2/lib/t/blobs/${img.layer.digest}`)).arrayBuffer());
      assert.equal(sha256(blob), img.layer.digest);
      // Publishing again skips blobs the registry has.
      await reg.publish(img, 'lib/t', '3');
      await until('access log lines', async () => (reg.requests.some((r) => r.startsWith('GET /v2/lib/t/blobs/')) ? true : undefined));
      assert.ok(reg.requests.includes(`HEAD /v2/lib/t/blobs/${img.layer.digest}`));
    } finally {
      await reg.close();
    }
  });

  it('builds busybox from busybox-static', { skip: busyboxMissing() }, () => {
    const img = busyboxImage();
    const layer = untar(gunzipSync(img.blobs.get(img.layer.digest)!));
    assert.ok(layer.get('bin/busybox')!.length > 100_000);
  });
});

describe('skiff image --data-dir', () => {
  it("finds the node's containerd under the kubelet's data dir or the cluster's (skiff up --data-dir), and says where it looked", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'skiff-imgdir-'));
    try {
      assert.throws(() => imageEndpoint({ dataDir: dir }), (e: Error) => e.message.includes(dir) && e.message.includes(path.join(dir, 'kubelet')));
      const sock = path.join(dir, 'kubelet', 'containerd', 'run', 'containerd.sock');
      mkdirSync(path.dirname(sock), { recursive: true });
      writeFileSync(sock, '');
      assert.equal(imageEndpoint({ dataDir: dir }), `unix://${sock}`);
      assert.equal(imageEndpoint({ dataDir: path.join(dir, 'kubelet') }), `unix://${sock}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('skiff image load / ls', { skip: containerdFixtureMissing() }, () => {
  let fx: ContainerdFixture;
  before(async () => {
    fx = await startContainerdFixture();
  });
  after(async () => {
    await fx?.cleanup();
  });

  it('imports an OCI archive into the node and lists it; a container runs from it without a registry', async () => {
    const file = path.join(fx.dir, 'bb.tar');
    writeFileSync(file, busyboxImage('skiff.local/loaded/busybox:v1').archive());
    const lines: string[] = [];
    const names = await imageLoad([file], { endpoint: fx.runtime.endpoint, out: (l) => lines.push(l) });
    assert.deepEqual(names, ['skiff.local/loaded/busybox:v1']);
    assert.deepEqual(lines, ['Loaded image: skiff.local/loaded/busybox:v1']);
    const table: string[] = [];
    const rows = await imageList({ endpoint: fx.runtime.endpoint, out: (l) => table.push(l) });
    assert.ok(rows.some((r) => r.image === 'skiff.local/loaded/busybox' && r.tag === 'v1'));
    assert.match(table[0], /^IMAGE\s+TAG\s+IMAGE ID\s+SIZE$/);
    assert.ok(await fx.runtime.imageStatus({ image: 'skiff.local/loaded/busybox:v1' }));

    const sbc = { metadata: { name: 'loaded', uid: `l-${Date.now()}`, namespace: 'default', attempt: 0 }, logDirectory: path.join(fx.dir, 'logs', 'loaded') };
    const sb = await fx.runtime.runPodSandbox(sbc);
    const id = await fx.runtime.createContainer(sb, { metadata: { name: 'c', attempt: 0 }, image: { image: 'skiff.local/loaded/busybox:v1' }, command: ['true'], logPath: 'c/0.log' }, sbc);
    await fx.runtime.startContainer(id);
    // Let `true` finish first: killing a container that is exiting races its shim (ttrpc: closed).
    const exited = await until('the container to exit', async () => ((await fx.runtime.containerStatus(id)).state === 'CONTAINER_EXITED' ? true : undefined), 30_000);
    assert.ok(exited);
    await fx.runtime.stopPodSandbox(sb);
    await fx.runtime.removePodSandbox(sb);
  });

  it('image GC over CRI: frees an unused image when the image filesystem is over the threshold; keeps the one in use and the sandbox image', async () => {
    const file = path.join(fx.dir, 'junk.tar');
    writeFileSync(file, buildImage('skiff.local/junk:1', [{ type: 'file', path: 'junk', data: Buffer.alloc(4096, 1) }], { cmd: ['x'] }).archive());
    await imageLoad([file], { endpoint: fx.runtime.endpoint, out: () => undefined });
    const junk = (await fx.runtime.imageStatus({ image: 'skiff.local/junk:1' }))!;
    const used = (await fx.runtime.imageStatus({ image: fx.image }))!;
    const pause = (await fx.runtime.imageStatus({ image: PAUSE_IMAGE }))!;
    const sbc = { metadata: { name: 'gc', uid: `gc-${Date.now()}`, namespace: 'default', attempt: 0 }, logDirectory: path.join(fx.dir, 'logs', 'gc') };
    const sb = await fx.runtime.runPodSandbox(sbc);
    // Created, never started: a container that exists keeps its image in use, as upstream.
    await fx.runtime.createContainer(sb, { metadata: { name: 'c', attempt: 0 }, image: { image: fx.image }, command: ['true'], logPath: 'c/0.log' }, sbc);

    const events: string[] = [];
    const gc = new ImageGarbageCollector({
      runtime: fx.runtime,
      // 95 % used: everything eligible goes, and it is not enough.
      fsUsage: async () => ({ capacityBytes: 100 * 1024 ** 3, availableBytes: 5 * 1024 ** 3 }),
      pinned: () => new Set([PAUSE_IMAGE]),
      policy: { highThresholdPercent: 85, lowThresholdPercent: 80, minAgeMs: 0, maxAgeMs: 0 },
      now: (() => {
        let t = Date.now();
        return () => (t += 1000);
      })(),
      event: (_t, reason) => events.push(reason),
    });
    const r = await gc.garbageCollect();
    assert.deepEqual(r.removed, [junk.id]);
    assert.equal(await fx.runtime.imageStatus({ image: 'skiff.local/junk:1' }), undefined);
    assert.ok(await fx.runtime.imageStatus({ image: used.id }), 'the image in use stays');
    assert.ok(await fx.runtime.imageStatus({ image: pause.id }), 'the sandbox image stays');
    assert.deepEqual(events, ['FreeDiskSpaceFailed']);
    await fx.runtime.removePodSandbox(sb);

    // The image filesystem as CRI reports it (ImageFsInfo), measured with statfs as the kubelet does.
    const [imageFs] = await fx.runtime.imageFsInfo();
    assert.ok(imageFs.mountpoint.startsWith(fx.dir), imageFs.mountpoint);
    const usage = await statfsUsage(imageFs.mountpoint);
    assert.ok(usage.capacityBytes > 0 && usage.availableBytes <= usage.capacityBytes);
  });
});
