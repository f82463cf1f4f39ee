import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lockDataDir, tryLockFile } from './lock.js';

/** The pid of a process that has exited (a lock it left behind is stale). */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '0']).pid!;
}

test('a lock file is exclusive, reports its live holder, and is free again once released', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const release = lockDataDir(dir);
  assert.throws(() => lockDataDir(dir), new RegExp(`pid ${process.pid}`));
  assert.equal(tryLockFile(path.join(dir, 'skiff.lock')), process.pid);
  release();
  const again = tryLockFile(path.join(dir, 'skiff.lock'));
  assert.equal(typeof again, 'function');
  (again as () => void)();
  assert.deepEqual(readdirSync(dir), [], 'no lock, takeover or temp file is left behind');
});

test("a stale lock (its process gone) is taken over, and so is a takeover lock a waiter left seconds ago", (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'x.lock');
  writeFileSync(file, `${deadPid()} stale`);
  writeFileSync(`${file}.takeover`, `${deadPid()} crashed`);
  const longAgo = new Date(Date.now() - 60_000);
  utimesSync(`${file}.takeover`, longAgo, longAgo);
  const release = tryLockFile(file);
  assert.equal(typeof release, 'function');
  assert.match(readFileSync(file, 'utf8'), new RegExp(`^${process.pid} `));
  (release as () => void)();
  assert.deepEqual(readdirSync(dir), []);
});

test('waiters racing for one stale lock: exactly one takes it over, the others see that one', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skiff-lock-'));
  const file = path.join(dir, 'x.lock');
  const lockUrl = new URL('./lock.js', import.meta.url).href;
  // Each waiter, on a `go` line, tries once and prints what it got (holding a lock it won); on `release` it lets go.
  const script = `
    const { tryLockFile } = await import(${JSON.stringify(lockUrl)});
    let release;
    process.stdin.setEncoding('utf8');
    let buf = '';
    process.stdin.on('data', (d) => {
      buf += d;
      for (let i; (i = buf.indexOf('\\n')) >= 0; ) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line === 'go') {
          const got = tryLockFile(${JSON.stringify(file)});
          if (typeof got === 'function') release = got;
          console.log(typeof got === 'function' ? 'got' : 'held ' + got);
        } else if (line === 'release') {
          release?.();
          release = undefined;
          console.log('released');
        }
      }
    });
    console.log('ready');`;
  const waiters = Array.from({ length: 4 }, () => spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const lines = waiters.map((w) => {
    const queue: string[] = [];
    const wanted: ((l: string) => void)[] = [];
    createInterface({ input: w.stdout! }).on('line', (l) => (wanted.length ? wanted.shift()!(l) : queue.push(l)));
    return () =>
      new Promise<string>((resolve, reject) => {
        if (queue.length) return resolve(queue.shift()!);
        const timer = setTimeout(() => reject(new Error('a waiter did not answer within 15 s')), 15_000);
        wanted.push((l) => (clearTimeout(timer), resolve(l)));
      });
  });
  t.after(() => {
    for (const w of waiters) w.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  for (const next of lines) assert.equal(await next(), 'ready');
  for (let round = 0; round < 15; round++) {
    writeFileSync(file, `${deadPid()} stale`);
    for (const w of waiters) w.stdin!.write('go\n');
    const got = await Promise.all(lines.map((next) => next()));
    const winners = waiters.filter((_, i) => got[i] === 'got');
    assert.equal(winners.length, 1, `round ${round}: ${got.join(', ')}`);
    const holder = winners[0].pid!;
    assert.match(readFileSync(file, 'utf8'), new RegExp(`^${holder} `));
    // Every loser was told the winner's pid.
    for (const g of got) if (g !== 'got') assert.equal(g, `held ${holder}`);
    for (const w of waiters) w.stdin!.write('release\n');
    for (const next of lines) assert.equal(await next(), 'released');
  }
});
