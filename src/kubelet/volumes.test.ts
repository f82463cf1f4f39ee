import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { linkSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { VolumeManager, checkHostPathType, diskUsage, writeAtomically } from './volumes.js';
import type { ObjectSource } from './env.js';

const node = { nodeName: 'n1', hostIP: '10.0.0.1', allocatable: { cpu: '2', memory: '4Gi' } };

describe('volumes: atomic writes and refresh', () => {
  it('refreshes a configMap volume in place (same directory, ..data swapped, stale names removed)', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'skv-'));
    try {
      let data: Record<string, string> = { a: '1', b: '2' };
      const src: ObjectSource = { configMap: async () => ({ data }), secret: async () => undefined };
      const vm = new VolumeManager(root, src, node);
      const pod = { metadata: { name: 'p', namespace: 'd', uid: 'u1' }, spec: { volumes: [{ name: 'cfg', configMap: { name: 'c' } }] } };
      await vm.setup(pod);
      const dir = vm.hostPathOf(pod, pod.spec.volumes[0]);
      const ino = statSync(dir).ino;
      assert.equal(readFileSync(path.join(dir, 'a'), 'utf8'), '1');
      assert.equal(readlinkSync(path.join(dir, 'a')), path.join('..data', 'a'));
      const first = readlinkSync(path.join(dir, '..data'));
      await vm.setup(pod);
      assert.equal(readlinkSync(path.join(dir, '..data')), first, 'unchanged content is not rewritten');
      data = { a: 'one', c: '3' };
      await vm.setup(pod);
      assert.equal(statSync(dir).ino, ino, 'the directory (and so bind mounts of it) stays');
      assert.equal(readFileSync(path.join(dir, 'a'), 'utf8'), 'one');
      assert.equal(readFileSync(path.join(dir, 'c'), 'utf8'), '3');
      assert.ok(!existsSync(path.join(dir, 'b')), 'a removed key disappears');
      assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('..')).length, 2, '..data and one timestamped directory');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('replaces an older plain layout with the symlinked one', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'skv-'));
    try {
      writeFileSync(path.join(dir, 'a'), 'old');
      mkdirSync(path.join(dir, 'sub'));
      await writeAtomically(dir, new Map([['a', { data: Buffer.from('new'), mode: 0o600 }], ['sub/x', { data: Buffer.from('x'), mode: 0o644 }]]));
      assert.equal(readFileSync(path.join(dir, 'a'), 'utf8'), 'new');
      assert.equal(statSync(path.join(dir, 'a')).mode & 0o777, 0o600);
      assert.equal(readFileSync(path.join(dir, 'sub', 'x'), 'utf8'), 'x');
      await assert.rejects(writeAtomically(dir, new Map([['../escape', { data: Buffer.from(''), mode: 0o644 }]])));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('volumes: subPath and subPathExpr', () => {
  it('creates a missing subPath directory, expands subPathExpr from env and downward-API fields, and refuses escapes', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'skv-'));
    try {
      const src: ObjectSource = { configMap: async () => undefined, secret: async () => undefined };
      const vm = new VolumeManager(root, src, node);
      const pod: any = { metadata: { name: 'web-0', namespace: 'd', uid: 'u2' }, spec: { volumes: [{ name: 'data', emptyDir: {} }] } };
      await vm.setup(pod);
      const dir = vm.hostPathOf(pod, pod.spec.volumes[0]);
      const spec = {
        name: 'c',
        env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, { name: 'SUB', value: 'logs/$(POD)' }],
        volumeMounts: [
          { name: 'data', mountPath: '/a', subPath: 'x/y' },
          { name: 'data', mountPath: '/b', subPathExpr: '$(SUB)' },
        ],
      };
      const m = vm.mounts(pod, spec);
      assert.deepEqual(m.map((x) => x.hostPath), [path.join(dir, 'x/y'), path.join(dir, 'logs/web-0')]);
      assert.ok(statSync(path.join(dir, 'logs/web-0')).isDirectory());
      assert.throws(() => vm.mounts(pod, { name: 'c', volumeMounts: [{ name: 'data', mountPath: '/a', subPathExpr: '$(NOPE)' }] }), /^Error: missing value for NOPE$|missing value for NOPE/);
      assert.throws(() => vm.mounts(pod, { name: 'c', volumeMounts: [{ name: 'data', mountPath: '/a', subPath: '../../etc' }] }), /unable to provision SubPath `..\/..\/etc`/);
      assert.throws(() => vm.mounts(pod, { name: 'c', volumeMounts: [{ name: 'data', mountPath: '/a', subPath: '/etc' }] }), /must not be an absolute path/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('volumes: persistentVolumeClaim', () => {
  const fakeClient = (objs: Record<string, any>) => ({
    get: async (p: string) => {
      if (objs[p]) return structuredClone(objs[p]);
      throw Object.assign(new Error(`not found: ${p}`), { status: 404 });
    },
  });
  const claimPath = '/api/v1/namespaces/d/persistentvolumeclaims/data-web-0';

  it('waits while the claim is unbound, then mounts the bound PV directory (readOnly honored, kept on teardown)', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'skv-'));
    try {
      const volDir = path.join(root, 'storage', 'pvc-1_d_data-web-0');
      const objs: Record<string, any> = { [claimPath]: { metadata: { name: 'data-web-0', namespace: 'd', uid: 'c1' }, spec: {}, status: { phase: 'Pending' } } };
      const src: ObjectSource = { configMap: async () => undefined, secret: async () => undefined };
      const vm = new VolumeManager(path.join(root, 'pods'), src, node, fakeClient(objs) as any, 0);
      const pod = {
        metadata: { name: 'web-0', namespace: 'd', uid: 'u1' },
        spec: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } }, { name: 'ro', persistentVolumeClaim: { claimName: 'data-web-0', readOnly: true } }] },
      };
      await assert.rejects(vm.setup(pod), (e: Error) => {
        assert.equal(e.message, 'Unable to attach or mount volumes: unmounted volumes=[data ro], unattached volumes=[data ro]: error processing PVC d/data-web-0: PVC is not bound');
        return true;
      });
      objs[claimPath] = { metadata: { name: 'data-web-0', namespace: 'd', uid: 'c1' }, spec: { volumeName: 'pvc-1' }, status: { phase: 'Bound' } };
      objs['/api/v1/persistentvolumes/pvc-1'] = { metadata: { name: 'pvc-1' }, spec: { claimRef: { uid: 'other' }, hostPath: { path: volDir, type: 'DirectoryOrCreate' } } };
      await assert.rejects(vm.setup(pod), /does not point to claim.UID \(c1\)/);
      objs['/api/v1/persistentvolumes/pvc-1'].spec.claimRef.uid = 'c1';
      await vm.setup(pod);
      assert.ok(statSync(volDir).isDirectory(), 'DirectoryOrCreate creates the directory');
      const mounts = vm.mounts(pod, { name: 'app', volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'ro', mountPath: '/ro' }, { name: 'data', mountPath: '/sub', subPath: 'x' }] });
      assert.deepEqual(mounts, [
        { containerPath: '/data', hostPath: volDir, readonly: false },
        { containerPath: '/ro', hostPath: volDir, readonly: true },
        { containerPath: '/sub', hostPath: path.join(volDir, 'x'), readonly: false },
      ]);
      writeFileSync(path.join(volDir, 'f'), 'kept');
      await vm.teardown(pod);
      assert.equal(readFileSync(path.join(volDir, 'f'), 'utf8'), 'kept');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('the first mount waits a moment for the claim to be bound (no FailedMount on a normal start)', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'skv-'));
    try {
      const objs: Record<string, any> = { [claimPath]: { metadata: { name: 'data-web-0', namespace: 'd', uid: 'c1' }, spec: {}, status: { phase: 'Pending' } } };
      const vm = new VolumeManager(path.join(root, 'pods'), { configMap: async () => undefined, secret: async () => undefined }, node, fakeClient(objs) as any, 5000);
      const pod = { metadata: { name: 'web-0', namespace: 'd', uid: 'u1' }, spec: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } }] } };
      const setup = vm.setup(pod);
      // The PV controller binds the claim while the kubelet waits.
      objs[claimPath] = { metadata: { name: 'data-web-0', namespace: 'd', uid: 'c1' }, spec: { volumeName: 'pv' }, status: { phase: 'Bound' } };
      objs['/api/v1/persistentvolumes/pv'] = { metadata: { name: 'pv' }, spec: { claimRef: { uid: 'c1' }, hostPath: { path: path.join(root, 'vol'), type: 'DirectoryOrCreate' } } };
      await setup;
      assert.equal(vm.hostPathOf(pod, pod.spec.volumes[0]), path.join(root, 'vol'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a local PV must exist on the node', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'skv-'));
    try {
      const objs: Record<string, any> = {
        [claimPath]: { metadata: { name: 'data-web-0', namespace: 'd', uid: 'c1' }, spec: { volumeName: 'pv' }, status: { phase: 'Bound' } },
        '/api/v1/persistentvolumes/pv': { metadata: { name: 'pv' }, spec: { claimRef: { uid: 'c1' }, local: { path: path.join(root, 'missing') } } },
      };
      const vm = new VolumeManager(path.join(root, 'pods'), { configMap: async () => undefined, secret: async () => undefined }, node, fakeClient(objs) as any, 0);
      const pod = { metadata: { name: 'web-0', namespace: 'd', uid: 'u1' }, spec: { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } }] } };
      await assert.rejects(vm.setup(pod), /does not exist/);
      mkdirSync(path.join(root, 'missing'));
      await vm.setup(pod);
      assert.equal(vm.hostPathOf(pod, pod.spec.volumes[0]), path.join(root, 'missing'));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('volumes: hostPath types', () => {
  it('checks and creates as upstream checkTypeInternal, with its messages', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'skv-hp-'));
    try {
      const file = path.join(root, 'f');
      writeFileSync(file, 'x');
      const dir = path.join(root, 'd');
      await checkHostPathType(dir, 'DirectoryOrCreate');
      assert.ok(statSync(dir).isDirectory());
      const made = path.join(root, 'new-file');
      await checkHostPathType(made, 'FileOrCreate');
      assert.ok(statSync(made).isFile());
      await checkHostPathType(file, 'FileOrCreate');
      await checkHostPathType(path.join(root, 'missing'), '');
      const fails = async (p: string, t: string, msg: string) => assert.rejects(checkHostPathType(p, t), { message: msg });
      await fails(root, 'File', `hostPath type check failed: ${root} is not a file`);
      await fails(file, 'Directory', `hostPath type check failed: ${file} is not a directory`);
      await fails(file, 'DirectoryOrCreate', `hostPath type check failed: ${file} is not a directory`);
      await fails(dir, 'FileOrCreate', `hostPath type check failed: ${dir} is not a file`);
      await fails(file, 'Socket', `hostPath type check failed: ${file} is not a socket file`);
      await fails(file, 'CharDevice', `hostPath type check failed: ${file} is not a character device`);
      await fails(file, 'BlockDevice', `hostPath type check failed: ${file} is not a block device`);
      await fails(path.join(root, 'missing'), 'Directory', `hostPath type check failed: ${path.join(root, 'missing')} is not a directory`);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('volumes: emptyDir usage', () => {
  it('counts allocated bytes of a tree as du does, each hard link once', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'skv-du-'));
    try {
      const before = await diskUsage(root);
      mkdirSync(path.join(root, 'sub'));
      writeFileSync(path.join(root, 'sub', 'big'), Buffer.alloc(1024 * 1024, 1));
      linkSync(path.join(root, 'sub', 'big'), path.join(root, 'again'));
      const after = await diskUsage(root);
      assert.ok(after - before >= 1024 * 1024 && after - before < 2 * 1024 * 1024, String(after - before));
      assert.equal(await diskUsage(path.join(root, 'missing')), 0);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('volumes: failures', () => {
  it('tries every volume and reports each failure (one FailedMount each, as upstream)', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'skv-fail-'));
    try {
      const src: ObjectSource = { configMap: async () => undefined, secret: async () => undefined };
      const vm = new VolumeManager(root, src, node);
      const pod = { metadata: { name: 'p', namespace: 'd', uid: 'u9' }, spec: { volumes: [{ name: 'cm', configMap: { name: 'nope' } }, { name: 'scratch', emptyDir: {} }, { name: 'sec', secret: { secretName: 'nosec' } }] } };
      await assert.rejects(vm.setup(pod), (e: any) => {
        assert.deepEqual(e.messages, ['MountVolume.SetUp failed for volume "cm" : configmap "nope" not found', 'MountVolume.SetUp failed for volume "sec" : secret "nosec" not found']);
        return true;
      });
      assert.ok(existsSync(vm.hostPathOf(pod, pod.spec.volumes[1])), 'the volumes that can be set up are');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
