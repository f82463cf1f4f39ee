import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../client/workqueue.js';
import type { Image, ImageSpec } from '../runtime/cri.js';
import { ImageManager, Keyring, defaultPullPolicy, goDurationMs, keyringFromSecrets, parseImageName, pullSecretsForPod, urlsMatch, type AuthConfig } from './images.js';

class FakeClock implements Clock {
  t = 1_000_000;
  now = () => this.t;
  setTimeout = () => 0;
  clearTimeout = () => undefined;
}

class FakeImages {
  present = new Set<string>();
  /** Credentials the registry accepts (undefined: open). */
  accept?: AuthConfig;
  fail?: string;
  pulls: { image: string; auth?: AuthConfig }[] = [];
  async pullImage(image: ImageSpec, auth?: AuthConfig): Promise<string> {
    this.pulls.push({ image: image.image, auth });
    if (this.fail) throw new Error(this.fail);
    if (this.accept && (auth?.username !== this.accept.username || auth?.password !== this.accept.password)) throw new Error('401 Unauthorized');
    this.present.add(image.image);
    return `sha256:${image.image}`;
  }
  async imageStatus(image: ImageSpec): Promise<Image | undefined> {
    return this.present.has(image.image) ? { id: `sha256:${image.image}`, repoTags: [image.image], repoDigests: [], size: 1234 } : undefined;
  }
}

const pod = { metadata: { name: 'p', namespace: 'default', uid: 'u1' }, spec: {} };
const dockerSecret = (name: string, auths: Record<string, any>, type = 'kubernetes.io/dockerconfigjson') => ({
  metadata: { name, namespace: 'default' },
  type,
  data: type === 'kubernetes.io/dockerconfigjson' ? { '.dockerconfigjson': Buffer.from(JSON.stringify({ auths })).toString('base64') } : { '.dockercfg': Buffer.from(JSON.stringify(auths)).toString('base64') },
});

describe('image names and pull policy', () => {
  it('normalizes references as the docker reference library', () => {
    assert.deepEqual(parseImageName('busybox'), { repo: 'docker.io/library/busybox', domain: 'docker.io', tag: 'latest', digest: undefined });
    assert.equal(parseImageName('foo/bar:1').repo, 'docker.io/foo/bar');
    assert.deepEqual(parseImageName('localhost:5000/busybox'), { repo: 'localhost:5000/busybox', domain: 'localhost:5000', tag: 'latest', digest: undefined });
    assert.equal(parseImageName('registry.example.com/a/b:2').domain, 'registry.example.com');
    assert.equal(parseImageName('index.docker.io/library/nginx').repo, 'docker.io/library/nginx');
    const d = parseImageName('nginx@sha256:' + 'a'.repeat(64));
    assert.equal(d.tag, undefined);
    assert.throws(() => parseImageName('UPPER/case name'));
  });

  it('defaults imagePullPolicy as upstream', () => {
    assert.equal(defaultPullPolicy('busybox'), 'Always');
    assert.equal(defaultPullPolicy('busybox:latest'), 'Always');
    assert.equal(defaultPullPolicy('busybox:1.36'), 'IfNotPresent');
    assert.equal(defaultPullPolicy('localhost:5000/busybox'), 'Always', 'a registry port is not a tag');
    assert.equal(defaultPullPolicy('localhost:5000/busybox:1'), 'IfNotPresent');
    assert.equal(defaultPullPolicy('busybox@sha256:' + 'a'.repeat(64)), 'IfNotPresent');
  });

  it('formats pull durations as Go does', () => {
    assert.equal(goDurationMs(0), '0s');
    assert.equal(goDurationMs(523), '523ms');
    assert.equal(goDurationMs(1234), '1.234s');
    assert.equal(goDurationMs(62_500), '1m2.5s');
  });
});

describe('keyring (credentialprovider semantics)', () => {
  it('matches hosts label by label with globs, ports and path prefixes', () => {
    assert.ok(urlsMatch('registry.example.com', 'registry.example.com/a/b'));
    assert.ok(urlsMatch('*.example.com', 'registry.example.com/a'));
    assert.ok(!urlsMatch('*.example.com', 'example.com/a'));
    assert.ok(!urlsMatch('registry.example.com', 'registry.example.com:5000/a'));
    assert.ok(urlsMatch('127.0.0.1:5000', '127.0.0.1:5000/x'));
    assert.ok(urlsMatch('registry.example.com/team', 'registry.example.com/team/app'));
    assert.ok(!urlsMatch('registry.example.com/team', 'registry.example.com/other/app'));
  });

  it('prefers the longest host+path key and decodes `auth`', () => {
    const k = new Keyring();
    k.add({
      'https://registry.example.com/v1/': { username: 'host', password: 'h' },
      'registry.example.com/team': { auth: Buffer.from('team:t:x').toString('base64') },
    });
    assert.deepEqual(k.lookup('registry.example.com/team/app'), [{ username: 'team', password: 't:x' }, { username: 'host', password: 'h' }]);
    assert.deepEqual(k.lookup('registry.example.com/other'), [{ username: 'host', password: 'h' }]);
    assert.deepEqual(k.lookup('elsewhere.io/x'), []);
  });

  it('treats docker.io, index.docker.io and registry-1.docker.io as the default registry', () => {
    for (const key of ['docker.io', 'https://index.docker.io/v1/', 'registry-1.docker.io', 'index.docker.io']) {
      const k = new Keyring();
      k.add({ [key]: { username: 'u', password: 'p' } });
      assert.deepEqual(k.lookup(parseImageName('busybox').repo), [{ username: 'u', password: 'p' }], key);
      assert.deepEqual(k.lookup(parseImageName('quay.io/x/y').repo), [], key);
    }
  });

  it('reads dockerconfigjson and dockercfg Secrets, ignoring other types', () => {
    const k = keyringFromSecrets([
      dockerSecret('a', { 'one.example.com': { username: 'a', password: 'pa' } }),
      dockerSecret('b', { 'two.example.com': { username: 'b', password: 'pb' } }, 'kubernetes.io/dockercfg'),
      { type: 'Opaque', data: { x: 'eA==' } },
    ]);
    assert.deepEqual(k.lookup('one.example.com/x'), [{ username: 'a', password: 'pa' }]);
    assert.deepEqual(k.lookup('two.example.com/x'), [{ username: 'b', password: 'pb' }]);
  });

  it('reports imagePullSecrets that cannot be read', async () => {
    const p = { ...pod, spec: { imagePullSecrets: [{ name: 'there' }, { name: 'gone' }] } };
    const r = await pullSecretsForPod(p, async (_ns, n) => (n === 'there' ? { metadata: { name: n } } : undefined));
    assert.equal(r.secrets.length, 1);
    assert.deepEqual(r.missing, ['gone']);
  });
});

describe('image manager', () => {
  const setup = () => {
    const clock = new FakeClock();
    const images = new FakeImages();
    const m = new ImageManager(images, clock);
    const events: string[] = [];
    const ensure = (spec: any, keyring?: Keyring) => m.ensure(pod, spec, { events: (t, r, msg) => events.push(`${t} ${r} ${msg}`), keyring });
    return { clock, images, m, events, ensure };
  };

  it('pulls per policy and reports upstream events', async () => {
    const { images, events, ensure } = setup();
    const r = await ensure({ name: 'c', image: 'busybox' });
    assert.equal(r.ok, true);
    assert.deepEqual(images.pulls.map((p) => p.image), ['busybox:latest'], 'the CRI gets the default tag');
    assert.deepEqual(events, ['Normal Pulling Pulling image "busybox"', 'Normal Pulled Successfully pulled image "busybox" in 0s (0s including waiting). Image size: 1234 bytes.']);
    events.length = 0;
    await ensure({ name: 'c', image: 'busybox' });
    assert.equal(images.pulls.length, 2, 'Always pulls even when present');
    events.length = 0;
    await ensure({ name: 'c', image: 'busybox', imagePullPolicy: 'IfNotPresent' });
    assert.deepEqual(events, ['Normal Pulled Container image "busybox" already present on machine']);
    const never = await ensure({ name: 'c', image: 'other:1', imagePullPolicy: 'Never' });
    assert.deepEqual(never, { ok: false, reason: 'ErrImageNeverPull', message: 'Container image "other:1" is not present with pull policy of Never' });
  });

  it('backs off failed pulls: ErrImagePull, then ImagePullBackOff for 10s, 20s, … up to 5 min', async () => {
    const { clock, images, events, ensure } = setup();
    images.fail = 'rpc error: not found';
    const spec = { name: 'c', image: 'nope:1' };
    let r = await ensure(spec);
    assert.deepEqual(r, { ok: false, reason: 'ErrImagePull', message: 'rpc error: not found', retryAt: clock.t + 10_000 });
    assert.deepEqual(events, ['Normal Pulling Pulling image "nope:1"', 'Warning Failed Failed to pull image "nope:1": rpc error: not found']);
    events.length = 0;
    clock.t += 5000;
    r = await ensure(spec);
    assert.deepEqual(r, { ok: false, reason: 'ImagePullBackOff', message: 'Back-off pulling image "nope:1": ErrImagePull: rpc error: not found', retryAt: clock.t + 5000 });
    assert.deepEqual(events, ['Normal BackOff Back-off pulling image "nope:1"']);
    assert.equal(images.pulls.length, 1);
    clock.t += 5000;
    r = await ensure(spec);
    assert.equal(r.ok ? '' : r.reason, 'ErrImagePull', 'pulls again once the back-off is over');
    assert.equal(images.pulls.length, 2);
    clock.t += 19_000;
    assert.equal(((await ensure(spec)) as any).reason, 'ImagePullBackOff', 'the second back-off is 20s');
    clock.t += 1000;
    assert.equal(((await ensure(spec)) as any).reason, 'ErrImagePull');
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      clock.t += 300_000;
      const last = (await ensure(spec)) as any;
      assert.equal(last.reason, 'ErrImagePull');
      waits.push(last.retryAt - clock.t);
    }
    assert.deepEqual(waits.slice(0, 4), [80_000, 160_000, 300_000, 300_000]);
    assert.equal(Math.max(...waits), 300_000);
    images.fail = undefined;
    clock.t += 300_000;
    assert.equal((await ensure(spec)).ok, true);
  });

  it('tries each matching credential and passes the one that works', async () => {
    const { images, ensure } = setup();
    images.accept = { username: 'good', password: 'pw' };
    const k = keyringFromSecrets([dockerSecret('s', { 'registry.example.com/team': { username: 'bad', password: 'x' }, 'registry.example.com': { username: 'good', password: 'pw' } })]);
    const r = await ensure({ name: 'c', image: 'registry.example.com/team/app:1' }, k);
    assert.equal(r.ok, true);
    assert.deepEqual(images.pulls.map((p) => p.auth?.username), ['bad', 'good']);
    const none = await ensure({ name: 'c', image: 'registry.example.com/team/other:1' });
    assert.equal(none.ok, false);
    assert.equal(images.pulls.at(-1)!.auth, undefined, 'no keyring: no credentials');
  });
});
