import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readlinkSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { needs, which } from '../../testing/real.js';
import { prepareCniBinDir } from './cniplugins.js';
import { DEFAULT_CNI_BIN_DIR } from './supervisor.js';

const missing =
  process.getuid?.() !== 0
    ? 'CNI plugins need root'
    : !existsSync(path.join(DEFAULT_CNI_BIN_DIR, 'loopback')) || !existsSync(path.join(DEFAULT_CNI_BIN_DIR, 'portmap'))
      ? 'CNI plugins are not installed (apt-get install containernetworking-plugins)'
      : !which('gcc')
        ? 'gcc is needed to build the C plugins'
        : !which('ip')
          ? 'iproute2 is needed'
          : undefined;

/** Runs a plugin as libcni does: command in the environment, config on stdin; stdout parsed. */
function cni(bin: string, command: string, conf: object, netns = '') {
  const r = spawnSync(bin, [], {
    input: JSON.stringify(conf),
    env: { CNI_COMMAND: command, CNI_CONTAINERID: 'c1', CNI_NETNS: netns, CNI_IFNAME: 'lo', CNI_PATH: DEFAULT_CNI_BIN_DIR },
    encoding: 'utf8',
  });
  return { code: r.status, out: r.stdout.trim() ? JSON.parse(r.stdout) : undefined };
}

const loUp = (ns: string) => /<[^>]*\bUP\b/.test(execFileSync('ip', ['-n', ns, 'link', 'show', 'lo'], { encoding: 'utf8' }));

describe('Skiff CNI plugin dir (C loopback and portmap)', () => {
  let dir = '';
  let bin = '';
  const ns = [`skt-${randomBytes(3).toString('hex')}`, `skt-${randomBytes(3).toString('hex')}`];
  before(async () => {
    if (missing) return;
    dir = mkdtempSync('/tmp/skiff-cni-');
    bin = await prepareCniBinDir(path.join(dir, 'bin'), DEFAULT_CNI_BIN_DIR);
    for (const n of ns) execFileSync('ip', ['netns', 'add', n]);
  });
  after(() => {
    if (missing) return;
    for (const n of ns) spawnSync('ip', ['netns', 'del', n]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('links the machine plugins and puts the C binary under loopback and portmap (idempotently)', async (t) => {
    if (!needs(t, missing)) return;
    assert.equal(readlinkSync(path.join(bin, 'bridge')), path.join(DEFAULT_CNI_BIN_DIR, 'bridge'));
    assert.equal(readlinkSync(path.join(bin, 'portmap.real')), path.join(DEFAULT_CNI_BIN_DIR, 'portmap'));
    assert.match(readlinkSync(path.join(bin, 'loopback')), /skiff-cni-[0-9a-f]+$/);
    assert.equal(readlinkSync(path.join(bin, 'portmap')), readlinkSync(path.join(bin, 'loopback')));
    const before = readdirSync(bin).sort();
    assert.equal(await prepareCniBinDir(bin, DEFAULT_CNI_BIN_DIR), bin);
    assert.deepEqual(readdirSync(bin).sort(), before);
  });

  it('loopback: ADD brings lo up and answers as the reference plugin; CHECK; DEL brings it down, and tolerates a gone namespace', (t) => {
    if (!needs(t, missing)) return;
    for (const cniVersion of ['0.3.1', '1.0.0']) {
      const conf = { cniVersion, name: 'cni-loopback', type: 'loopback' };
      const ours = cni(path.join(bin, 'loopback'), 'ADD', conf, `/run/netns/${ns[0]}`);
      const ref = cni(path.join(DEFAULT_CNI_BIN_DIR, 'loopback'), 'ADD', conf, `/run/netns/${ns[1]}`);
      assert.equal(ours.code, 0);
      assert.equal(ref.code, 0);
      assert.deepEqual(ours.out, { ...ref.out, interfaces: [{ ...ref.out.interfaces[0], sandbox: `/run/netns/${ns[0]}` }] });
      assert.ok(loUp(ns[0]));
      assert.equal(cni(path.join(bin, 'loopback'), 'CHECK', conf, `/run/netns/${ns[0]}`).code, 0);
    }
    const conf = { cniVersion: '1.0.0', name: 'cni-loopback', type: 'loopback' };
    assert.equal(cni(path.join(bin, 'loopback'), 'DEL', conf, `/run/netns/${ns[0]}`).code, 0);
    assert.ok(!loUp(ns[0]));
    assert.equal(cni(path.join(bin, 'loopback'), 'CHECK', conf, `/run/netns/${ns[0]}`).code, 1);
    assert.equal(cni(path.join(bin, 'loopback'), 'DEL', conf, '/run/netns/skiff-no-such-netns').code, 0);
    // In a chain, a prevResult passes through.
    const prevResult = { cniVersion: '1.0.0', ips: [{ address: '10.1.2.3/24' }], dns: {} };
    assert.deepEqual(cni(path.join(bin, 'loopback'), 'ADD', { ...conf, prevResult }, `/run/netns/${ns[0]}`).out, prevResult);
  });

  it('portmap: without port mappings passes prevResult through and deletes nothing; otherwise it is the reference plugin', (t) => {
    if (!needs(t, missing)) return;
    const prevResult = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: '/x' }], ips: [{ interface: 0, address: '10.1.2.3/24', gateway: '10.1.2.1' }], dns: {} };
    const base = { cniVersion: '1.0.0', name: 'n', type: 'portmap', capabilities: { portMappings: true } };
    for (const runtimeConfig of [undefined, { portMappings: [] }]) {
      const conf = { ...base, runtimeConfig, prevResult };
      assert.deepEqual(cni(path.join(bin, 'portmap'), 'ADD', conf, '/x').out, cni(path.join(DEFAULT_CNI_BIN_DIR, 'portmap'), 'ADD', conf, '/x').out);
      assert.equal(cni(path.join(bin, 'portmap'), 'DEL', conf, '/x').code, 0);
    }
    // With mappings (here an invalid one, so nothing is installed) the reference plugin answers.
    const bad = { ...base, runtimeConfig: { portMappings: [{ hostPort: 0, containerPort: 80, protocol: 'tcp' }] }, prevResult };
    const ours = cni(path.join(bin, 'portmap'), 'ADD', bad, '/x');
    assert.equal(ours.code, 1);
    assert.deepEqual(ours.out, cni(path.join(DEFAULT_CNI_BIN_DIR, 'portmap'), 'ADD', bad, '/x').out);
    assert.deepEqual(cni(path.join(bin, 'portmap'), 'VERSION', {}).out, cni(path.join(DEFAULT_CNI_BIN_DIR, 'portmap'), 'VERSION', {}).out);
  });
});
