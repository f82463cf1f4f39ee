import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { SqliteBackend } from './sqlite.js';
import { EncryptedBackend, parseEncryptionConfig, EncryptionError } from './encryption.js';

const key = () => randomBytes(32).toString('base64');

describe('encryption at rest', () => {
  it('encrypts secrets with the first provider, reads with any, rotates keys', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'skiff-enc-'));
    const raw = SqliteBackend.open(path.join(dir, 'state.db'));
    try {
      const k1 = key();
      const k2 = key();
      const cfg1 = parseEncryptionConfig({ kind: 'EncryptionConfiguration', apiVersion: 'apiserver.config.k8s.io/v1', resources: [{ resources: ['secrets'], providers: [{ aescbc: { keys: [{ name: 'key1', secret: k1 }] } }, { identity: {} }] }] });
      const b1 = new EncryptedBackend(raw, cfg1);
      const events: string[] = [];
      const w = b1.watch('/registry/', { afterRevision: 0, onEvents: (evs) => events.push(...evs.map((e) => e.kv.value)), onError: () => undefined });
      await raw.create('/registry/secrets/default/old', '{"plain":true}');
      await b1.create('/registry/secrets/default/s1', '{"data":"x"}');
      await b1.create('/registry/configmaps/default/c1', '{"data":"y"}');
      const stored = (await raw.get('/registry/secrets/default/s1')).kv!.value;
      assert.match(stored, /^k8s:enc:aescbc:v1:key1:/);
      assert.ok(!stored.includes('"data"'));
      assert.equal((await raw.get('/registry/configmaps/default/c1')).kv!.value, '{"data":"y"}');
      assert.equal((await b1.get('/registry/secrets/default/s1')).kv!.value, '{"data":"x"}');
      assert.equal((await b1.get('/registry/secrets/default/old')).kv!.value, '{"plain":true}', 'identity reads plaintext');
      assert.deepEqual((await b1.list('/registry/secrets/')).kvs.map((kv) => kv.value).sort(), ['{"data":"x"}', '{"plain":true}']);
      const deadline = Date.now() + 5000;
      while (events.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      w.close();
      assert.ok(events.includes('{"data":"x"}'));

      // Rotation: aesgcm key2 writes, key1 still reads.
      const cfg2 = parseEncryptionConfig({ resources: [{ resources: ['secrets'], providers: [{ aesgcm: { keys: [{ name: 'key2', secret: k2 }] } }, { aescbc: { keys: [{ name: 'key1', secret: k1 }] } }] }] });
      const b2 = new EncryptedBackend(raw, cfg2);
      assert.equal((await b2.get('/registry/secrets/default/s1')).kv!.value, '{"data":"x"}');
      const cur = (await raw.get('/registry/secrets/default/s1')).kv!;
      await b2.update('/registry/secrets/default/s1', '{"data":"z"}', cur.modRevision);
      assert.match((await raw.get('/registry/secrets/default/s1')).kv!.value, /^k8s:enc:aesgcm:v1:key2:/);
      assert.equal((await b2.get('/registry/secrets/default/s1')).kv!.value, '{"data":"z"}');
      // No identity: plaintext is refused; a wrong key cannot read.
      await assert.rejects(b2.get('/registry/secrets/default/old'), EncryptionError);
      const wrong = new EncryptedBackend(raw, parseEncryptionConfig({ resources: [{ resources: ['secrets'], providers: [{ aesgcm: { keys: [{ name: 'key2', secret: key() }] } }] }] }));
      await assert.rejects(wrong.get('/registry/secrets/default/s1'), /failed to decrypt/);
    } finally {
      await raw.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('validates configurations', () => {
    assert.throws(() => parseEncryptionConfig({ resources: [{ resources: ['secrets'], providers: [{ aescbc: { keys: [{ name: 'k', secret: Buffer.alloc(7).toString('base64') }] } }] }] }), /expected length/);
    assert.throws(() => parseEncryptionConfig({ resources: [{ resources: ['secrets'], providers: [{ secretbox: { keys: [{ name: 'k', secret: Buffer.alloc(16).toString('base64') }] } }] }] }), /expected length/);
  });

  it('encrypts with secretbox and refuses a tampered value', async () => {
    const raw = SqliteBackend.open(':memory:');
    try {
      const cfg = parseEncryptionConfig({ resources: [{ resources: ['secrets'], providers: [{ secretbox: { keys: [{ name: 'sb', secret: key() }] } }] }] });
      const b = new EncryptedBackend(raw, cfg);
      await b.create('/registry/secrets/default/s', '{"data":"z"}');
      const stored = (await raw.get('/registry/secrets/default/s')).kv!;
      assert.match(stored.value, /^k8s:enc:secretbox:v1:sb:/);
      assert.equal((await b.get('/registry/secrets/default/s')).kv!.value, '{"data":"z"}');
      const bytes = Buffer.from(stored.value.slice('k8s:enc:secretbox:v1:sb:'.length), 'base64');
      bytes[bytes.length - 1] ^= 1;
      await raw.update('/registry/secrets/default/s', `k8s:enc:secretbox:v1:sb:${bytes.toString('base64')}`, stored.modRevision);
      await assert.rejects(b.get('/registry/secrets/default/s'), EncryptionError);
    } finally {
      await raw.close();
    }
  });
});
