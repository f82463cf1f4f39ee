import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NodeDockerKeyring, UnionKeyring, dockerConfigJSONPaths, dockercfgPaths, readNodeDockerConfig } from './dockerconfig.js';
import { keyringFromSecrets } from '../kubelet/images.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('node docker config (credential keyring)', () => {
  it('looks where upstream does: kubelet root dir, working dir, home, /', () => {
    const o = { rootDir: '/var/lib/skiff', cwd: '/w', home: '/root' };
    assert.deepEqual(dockerConfigJSONPaths(o), ['/var/lib/skiff/config.json', '/w/config.json', '/root/.docker/config.json', '/.docker/config.json']);
    assert.deepEqual(dockercfgPaths(o), ['/var/lib/skiff/.dockercfg', '/w/.dockercfg', '/root/.dockercfg', '/.dockercfg']);
  });

  it('takes the first valid config.json, skipping invalid ones; .dockercfg only when no config.json is valid', () => {
    const files: Record<string, string> = {
      '/k/config.json': 'not json',
      '/h/.docker/config.json': JSON.stringify({ auths: { 'reg.example:5000': { auth: b64('u:p') } }, credsStore: 'desktop' }),
      '/k/.dockercfg': JSON.stringify({ 'old.example': { auth: b64('o:p') } }),
    };
    const read = (f: string) => {
      if (!(f in files)) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
      return files[f];
    };
    const cfg = readNodeDockerConfig({ rootDir: '/k', cwd: '/w', home: '/h', read });
    assert.equal(cfg?.file, '/h/.docker/config.json');
    assert.deepEqual(Object.keys(cfg!.auths), ['reg.example:5000']);
    delete files['/h/.docker/config.json'];
    assert.equal(readNodeDockerConfig({ rootDir: '/k', cwd: '/w', home: '/h', read })?.file, '/k/.dockercfg');
    delete files['/k/.dockercfg'];
    assert.equal(readNodeDockerConfig({ rootDir: '/k', cwd: '/w', home: '/h', read }), undefined);
  });

  it('pull secrets come first, the node’s credentials after; the file is re-read after 5 minutes', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dcfg-'));
    try {
      mkdirSync(path.join(dir, 'home', '.docker'), { recursive: true });
      const write = (user: string) => writeFileSync(path.join(dir, 'home', '.docker', 'config.json'), JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: b64(`${user}:pw`) }, 'reg.example': { username: 'n', password: 'np' } } }));
      write('node');
      let now = 0;
      const node = new NodeDockerKeyring({ rootDir: path.join(dir, 'kubelet'), cwd: dir, home: path.join(dir, 'home') }, () => now);
      const secret = { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { 'reg.example': { auth: b64('s:sp') } } })) } };
      const k = new UnionKeyring([keyringFromSecrets([secret]), node.get()]);
      assert.deepEqual(k.lookup('reg.example/team/app'), [
        { username: 's', password: 'sp' },
        { username: 'n', password: 'np' },
      ]);
      assert.deepEqual(k.lookup('docker.io/library/nginx'), [{ username: 'node', password: 'pw' }]);
      assert.deepEqual(k.lookup('other.example/x'), []);

      write('changed');
      assert.deepEqual(node.get().lookup('docker.io/library/nginx'), [{ username: 'node', password: 'pw' }]);
      now = 5 * 60_000;
      assert.deepEqual(node.get().lookup('docker.io/library/nginx'), [{ username: 'changed', password: 'pw' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
