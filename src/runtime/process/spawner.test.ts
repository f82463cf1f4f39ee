import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DirectSpawner, HelperSpawner, type Spawned, type Spawner } from './spawner.js';
import { needs } from '../../testing/real.js';

const dir = mkdtempSync(path.join(tmpdir(), 'skiff-spawner-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function collect(s: Spawned): Promise<{ out: string; err: string; code: number | null; signal: string | null }> {
  let out = '';
  let err = '';
  s.stdout.on('data', (d: Buffer) => (out += d));
  s.stderr.on('data', (d: Buffer) => (err += d));
  const ended = (r: NodeJS.ReadableStream) => new Promise((res) => r.once('end', res));
  const exited = new Promise<[number | null, string | null]>((res) => s.once('exit', (c: number | null, sig: string | null) => res([c, sig])));
  return Promise.all([exited, ended(s.stdout), ended(s.stderr)]).then(([[code, signal]]) => ({ out, err, code, signal }));
}

const sh = (script: string, extra: Partial<Parameters<Spawner['spawn']>[0]> = {}) => ({ file: '/bin/sh', argv: ['sh', '-c', script], cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', X: 'y' }, stdin: false, ...extra });

describe('helper spawner, when the helper dies', () => {
  it('reports its processes killed (and kills them) and refuses new work', async (t) => {
    const sp = await HelperSpawner.start();
    if (!sp) return void needs(t, 'no C compiler (gcc) or not Linux');
    const p = await sp.spawn(sh('sleep 30'));
    const r = collect(p);
    process.kill(sp.helperPid!, 'SIGKILL');
    const { code, signal } = await r;
    assert.equal(code, null);
    assert.equal(signal, 'SIGKILL');
    // The process is gone too: no /proc entry, or a zombie waiting for whoever adopted it.
    const dead = () => {
      try {
        return readFileSync(`/proc/${p.pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
      } catch {
        return true;
      }
    };
    const deadline = Date.now() + 10_000;
    while (!dead() && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    assert.ok(dead());
    assert.equal(sp.alive, false);
    await assert.rejects(sp.spawn(sh('true')));
  });
});

for (const kind of ['helper', 'direct'] as const) {
  describe(`${kind} spawner`, async () => {
    const sp: Spawner | undefined = kind === 'direct' ? new DirectSpawner() : await HelperSpawner.start();
    after(() => sp?.close());

    it('runs a process with its argv, env and cwd; streams stdout and stderr; reports the exit code', async (t) => {
      if (!sp) return void needs(t, 'no C compiler (gcc) or not Linux');
      const p = await sp.spawn(sh('echo out:$X:$(pwd); echo err >&2; exit 7'));
      assert.ok(p.pid > 0);
      const r = await collect(p);
      assert.equal(r.out, `out:y:${dir}\n`);
      assert.equal(r.err, 'err\n');
      assert.equal(r.code, 7);
    });

    it('makes the process its own group leader, and reports death by signal', async (t) => {
      if (!sp) return void needs(t, 'no C compiler (gcc) or not Linux');
      const p = await sp.spawn(sh('sleep 30'));
      const r = collect(p);
      process.kill(-p.pid, 'SIGKILL'); // throws unless pid leads its own group
      const { code, signal } = await r;
      assert.equal(code, null);
      assert.equal(signal, 'SIGKILL');
    });

    it('writes the pid into the cgroup.procs files before the command runs', async (t) => {
      if (!sp) return void needs(t, 'no C compiler (gcc) or not Linux');
      const procs = path.join(dir, `procs-${kind}`);
      writeFileSync(procs, '');
      const p = await sp.spawn(sh('cat "$0"', { argv: ['sh', '-c', 'cat "$0"', procs], cgroupProcs: [procs] }));
      const r = await collect(p);
      assert.equal(r.out.trim(), String(p.pid));
      assert.equal(readFileSync(procs, 'utf8').trim(), String(p.pid));
    });

    it('passes stdin when asked', async (t) => {
      if (!sp) return void needs(t, 'no C compiler (gcc) or not Linux');
      const p = await sp.spawn(sh('read x; echo got:$x', { stdin: true }));
      const r = collect(p);
      p.stdin!.end('hi\n');
      assert.equal((await r).out, 'got:hi\n');
    });

    it('gives the process stdout and stderr it can open by name (/dev/stdout), as pipes are', async (t) => {
      if (!sp) return void needs(t, 'no C compiler (gcc) or not Linux');
      if (kind === 'direct') {
        // A known limit of direct spawning: Node's stdio "pipes" are socketpairs, which open(2) refuses.
        const d = await collect(await sp!.spawn(sh('echo a > /dev/stdout')));
        assert.match(d.err, /No such device or address/);
        return;
      }
      const r = await collect(await sp!.spawn(sh('echo a > /dev/stdout; echo b > /dev/stderr')));
      assert.equal(r.out, 'a\n');
      assert.equal(r.err, 'b\n');
    });

    it('stalls only the process whose output nobody reads', async (t) => {
      if (!sp) return void needs(t, 'no C compiler (gcc) or not Linux');
      const flood = await sp.spawn(sh('head -c 4000000 /dev/zero; sleep 30'));
      const r = await collect(await sp.spawn(sh('echo ok')));
      assert.equal(r.out, 'ok\n');
      process.kill(-flood.pid, 'SIGKILL');
      flood.stdout.resume();
      flood.stderr.resume();
    });

    it('rejects a missing executable with ENOENT', async (t) => {
      if (!sp) return void needs(t, 'no C compiler (gcc) or not Linux');
      await assert.rejects(sp.spawn({ ...sh(''), file: path.join(dir, 'no-such-binary'), argv: ['no-such-binary'] }), /ENOENT/);
    });

    it('reports every exit and all output of a burst of short-lived processes', async (t) => {
      if (!sp) return void needs(t, 'no C compiler (gcc) or not Linux');
      const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => sp.spawn(sh(`echo ${i}`)).then(collect)));
      rs.forEach((r, i) => {
        assert.equal(r.out, `${i}\n`);
        assert.equal(r.code, 0);
      });
    });
  });
}

describe('helper spawner, TTY', () => {
  it('runs a process on its own terminal: isatty, controlling tty, stdin relayed, resize seen by the process', async (t) => {
    const sp = await HelperSpawner.start();
    if (!sp) return void needs(t, 'no C compiler (gcc) or not Linux');
    try {
      // stty reads the size from its controlling terminal; the shell echoes what it reads.
      const p = await sp.spawn(sh('[ -t 0 ] && [ -t 1 ] && echo tty-yes; while read line; do echo "got:$line"; [ "$line" = q ] && exit 0; stty size; done', { stdin: true, tty: true }));
      assert.ok(p.resize, 'a TTY process can be resized');
      p.resize!(100, 40); // before any input: the helper handles it before the input is even typed
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d));
      const exited = new Promise<number | null>((res) => p.once('exit', (c: number | null) => res(c)));
      const waitFor = async (re: RegExp, poke?: string) => {
        const deadline = Date.now() + 10_000;
        while (!re.test(out) && Date.now() < deadline) {
          // A resize and typed input travel apart (the helper's control pipe, the stdin socket): ask again until the size shows.
          if (poke) p.stdin!.write(poke);
          await new Promise((res) => setTimeout(res, poke ? 50 : 10));
        }
        assert.match(out, re);
      };
      await waitFor(/tty-yes/);
      p.stdin!.write('hello\n');
      await waitFor(/got:hello\r?\n/);
      await waitFor(/40 100/);
      p.resize!(120, 50);
      await waitFor(/50 120/, 'x\n');
      p.stdin!.write('q\n');
      assert.equal(await exited, 0);
      // A terminal has one output: stderr is empty and ended.
      assert.equal(p.stderr.readableEnded || p.stderr.readableLength === 0, true);
    } finally {
      await sp.close();
    }
  });

  it('the direct spawner refuses a TTY with a clear message', async () => {
    await assert.rejects(new DirectSpawner().spawn(sh('true', { tty: true })), /tty.*spawner helper/);
  });
});
