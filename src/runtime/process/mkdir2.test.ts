import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { mkdirParentAndSelf } from './mkdir2.js';

describe('mkdirParentAndSelf', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'skiff-mkdir2-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('makes the parent and the directory, again without error, and deeper paths too', async () => {
    await mkdirParentAndSelf(path.join(root, 'pod', 'c1'));
    await mkdirParentAndSelf(path.join(root, 'pod', 'c1'));
    await mkdirParentAndSelf(path.join(root, 'pod', 'c2'));
    await mkdirParentAndSelf(path.join(root, 'a', 'b', 'c', 'd'));
    for (const d of ['pod/c1', 'pod/c2', 'a/b/c/d']) assert.ok(statSync(path.join(root, d)).isDirectory());
  });

  it('fails when a file is in the way', async () => {
    writeFileSync(path.join(root, 'file'), '');
    await assert.rejects(mkdirParentAndSelf(path.join(root, 'file', 'x')));
  });
});
