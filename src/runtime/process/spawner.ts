/**
 * How the process runtime starts processes. `child_process.spawn` forks the agent itself: with a
 * ~100 MB Node process that blocks the event loop for milliseconds per container, so a burst of
 * pods starts one after another. The helper spawner hands the fork to a tiny long-lived C helper
 * (spawner-helper.ts, compiled once with gcc and cached in a private directory) that starts processes on request, with
 * their group, cgroups and stdio; their stdout/stderr reach the agent over a unix socket.
 * Without gcc (or off Linux) the direct spawner keeps the old behaviour.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { constants as osConstants, tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { SPAWNER_C } from './spawner-helper.js';
import { which } from './which.js';

export interface SpawnSpec {
  /** Resolved executable (argv[0] is passed as given). */
  file: string;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  stdin: boolean;
  /** On a new pseudo-terminal (its controlling tty): stdout carries the terminal's output, stderr stays empty. */
  tty?: boolean;
  /** cgroup.procs files the process joins before it execs (no moment outside its cgroup). */
  cgroupProcs?: string[];
  /** Run as this user (root agents only): supplementary groups, gid, then uid, before the exec. */
  user?: SpawnUser;
  /** prctl(PR_SET_NO_NEW_PRIVS): setuid binaries and file capabilities grant nothing (allowPrivilegeEscalation: false). */
  noNewPrivs?: boolean;
}

export interface SpawnUser {
  uid: number;
  gid: number;
  groups: number[];
}

/** The part of a ChildProcess the runtime uses; 'exit' fires (code, signal) as ChildProcess does. */
export interface Spawned extends EventEmitter {
  readonly pid: number;
  readonly stdin: Writable | null;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Sets the terminal's size (TTY processes). */
  resize?(cols: number, rows: number): void;
}

export interface Spawner {
  readonly kind: 'helper' | 'direct';
  /** Resolves once the process runs; rejects (with errno text) when it could not start. */
  spawn(spec: SpawnSpec): Promise<Spawned>;
  close(): Promise<void>;
}

const signalNames = new Map(Object.entries(osConstants.signals).map(([k, v]) => [v as number, k as NodeJS.Signals]));

/** The old way: fork the agent (used without gcc, and for what needs a pipe of its own). */
export class DirectSpawner implements Spawner {
  readonly kind = 'direct' as const;
  spawn(spec: SpawnSpec): Promise<Spawned> {
    if (spec.tty) return Promise.reject(new Error('a terminal (tty) needs the spawner helper, which needs gcc on this machine'));
    let argv = spec.argv;
    let file = spec.file;
    if (spec.cgroupProcs?.length) {
      // Joins the cgroup from a shell before exec, as the helper does in C.
      argv = ['/bin/sh', '-c', `for f in ${spec.cgroupProcs.join(' ')}; do echo $$ > $f; done; exec "$@"`, 'sh', spec.file, ...spec.argv.slice(1)];
      file = '/bin/sh';
    }
    return new Promise((resolve, reject) => {
      let child: ChildProcess;
      try {
        // libuv drops supplementary groups with uid/gid: the helper keeps them, this fallback cannot.
        child = spawn(file, argv.slice(1), { argv0: argv[0], cwd: spec.cwd, env: spec.env, detached: true, stdio: [spec.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], uid: spec.user?.uid, gid: spec.user?.gid });
      } catch (e) {
        reject(e);
        return;
      }
      child.once('error', reject);
      child.once('spawn', () => {
        child.off('error', reject);
        child.on('error', () => undefined);
        resolve(child as unknown as Spawned);
      });
    });
  }
  async close(): Promise<void> {}
}

class HelperProcess extends EventEmitter implements Spawned {
  pid = 0;
  /** Stdio streams still to arrive from the helper (they may come after the process exited). */
  awaiting: number;
  stdin: Writable | null = null;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  resize?: (cols: number, rows: number) => void;
  constructor(readonly token: string, wantStdin: boolean, readonly tty: boolean) {
    super();
    this.awaiting = (wantStdin ? 1 : 0) + (tty ? 1 : 2);
    if (wantStdin) this.stdin = new PassThrough();
    if (tty) this.stderr.end(); // a terminal has one output stream
  }
}

interface Pending {
  proc: HelperProcess;
  resolve(p: Spawned): void;
  reject(e: Error): void;
}

/**
 * This user's private directory for the helper binary and its sockets. The agent may run as root:
 * a binary or directory someone else could have planted in a shared /tmp must never be used.
 */
function privateDir(): string | undefined {
  const uid = process.getuid?.() ?? 0;
  const dir = path.join(tmpdir(), `skiff-${uid}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) return undefined;
    return dir;
  } catch {
    return undefined;
  }
}

async function compileHelper(dir: string): Promise<string | undefined> {
  // Cached by source hash: compiled once per machine and user, reused by every agent.
  const bin = path.join(dir, `spawner-${createHash('sha256').update(SPAWNER_C).digest('hex').slice(0, 16)}`);
  if (existsSync(bin)) return bin;
  const gcc = which('gcc') ?? which('cc');
  if (!gcc) return undefined;
  const tmp = `${bin}.${randomBytes(4).toString('hex')}`;
  writeFileSync(`${tmp}.c`, SPAWNER_C);
  try {
    await new Promise<void>((resolve, reject) => execFile(gcc, ['-O2', '-o', tmp, `${tmp}.c`], (err) => (err ? reject(err) : resolve())));
    renameSync(tmp, bin); // atomic: concurrent agents never run a half-written binary
    return bin;
  } catch {
    return undefined;
  } finally {
    rmSync(`${tmp}.c`, { force: true });
    rmSync(tmp, { force: true });
  }
}

export class HelperSpawner implements Spawner {
  readonly kind = 'helper' as const;
  private readonly pending = new Map<string, Pending>();
  private readonly starting = new Map<string, HelperProcess>();
  private readonly byPid = new Map<number, HelperProcess>();
  private seq = 0;
  private buf = '';
  private closed = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly server: net.Server,
    private readonly sockPath: string,
    /** The helper binary, which also runs as `--as uid gid groups file argv…` to change user. */
    readonly bin: string,
  ) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => this.onReplies(d));
    child.stdin!.on('error', () => undefined);
    child.once('exit', () => this.onHelperExit());
    server.on('connection', (s) => this.onStream(s));
    // Alive only while a request or a process is outstanding, as a ChildProcess keeps its parent;
    // when the agent exits, the helper sees EOF and kills the rest.
    child.unref();
    server.unref();
    (child.stdin as unknown as net.Socket).unref?.();
    this.refresh();
  }

  /** Compiles (once per machine) and starts the helper; undefined when it cannot be built. */
  static async start(): Promise<HelperSpawner | undefined> {
    if (process.platform !== 'linux') return undefined;
    const dir = privateDir();
    if (!dir) return undefined;
    const bin = await compileHelper(dir);
    if (!bin) return undefined;
    const sockPath = path.join(dir, `${process.pid}-${randomBytes(4).toString('hex')}.sock`);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(sockPath, () => resolve());
    });
    // The helper is spawned once, while the agent is still small; it is the only fork we pay for.
    const child = spawn(bin, [sockPath], { stdio: ['pipe', 'pipe', 'inherit'] });
    const ok = await new Promise<boolean>((resolve) => {
      child.once('spawn', () => resolve(true));
      child.once('error', () => resolve(false));
    });
    if (!ok) {
      server.close();
      rmSync(sockPath, { force: true });
      return undefined;
    }
    return new HelperSpawner(child, server, sockPath, bin);
  }

  private refresh(): void {
    const out = this.child.stdout as unknown as net.Socket;
    // The helper itself too: if it dies, its 'exit' is what reports the outstanding processes gone,
    // and it must not lose the race with the EOFs of its pipes (an unref'd child's exit never comes
    // once nothing else keeps the loop alive).
    if (this.pending.size + this.byPid.size > 0) {
      out.ref?.();
      this.child.ref();
    } else {
      out.unref?.();
      this.child.unref();
    }
  }

  spawn(spec: SpawnSpec): Promise<Spawned> {
    if (this.closed) return Promise.reject(new Error('spawner is closed'));
    const token = String(++this.seq);
    const proc = new HelperProcess(token, spec.stdin, !!spec.tty);
    const env = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
    const cg = spec.cgroupProcs ?? [];
    const flags = `${spec.stdin ? 'i' : ''}${spec.tty ? 't' : ''}${spec.noNewPrivs ? 'n' : ''}`;
    const fields = [token, spec.file, spec.cwd, flags, String(spec.argv.length), ...spec.argv, String(env.length), ...env, String(cg.length), ...cg];
    if (spec.user) fields.push(String(spec.user.uid), String(spec.user.gid), spec.user.groups.join(','));
    return new Promise<Spawned>((resolve, reject) => {
      this.pending.set(token, { proc, resolve, reject });
      this.starting.set(token, proc);
      this.refresh();
      this.send(fields);
    });
  }

  /** One record of NUL-terminated fields, length-prefixed. */
  private send(fields: string[]): void {
    if (this.closed) return;
    const body = Buffer.from(fields.map((f) => `${f}\0`).join(''));
    this.child.stdin!.write(Buffer.concat([Buffer.from(`${body.length}\n`), body]));
  }

  private onReplies(d: string): void {
    this.buf += d;
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const [kind, a, b, c] = this.buf.slice(0, i).split(' ');
      this.buf = this.buf.slice(i + 1);
      if (kind === 'P' || kind === 'E') {
        const p = this.pending.get(a);
        if (!p) continue;
        this.pending.delete(a);
        if (kind === 'P') {
          p.proc.pid = Number(b);
          const pid = p.proc.pid;
          if (p.proc.tty) p.proc.resize = (cols, rows) => this.send(['R', String(pid), String(Math.max(0, cols | 0)), String(Math.max(0, rows | 0))]);
          this.byPid.set(p.proc.pid, p.proc);
          p.resolve(p.proc);
        } else {
          this.starting.delete(a);
          endStreams(p.proc);
          const errno = Number(b);
          const name = Object.entries(osConstants.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;
          const err = Object.assign(new Error(`spawn ${name}`), { code: name, errno: -errno });
          p.reject(err);
        }
      } else if (kind === 'X') {
        const proc = this.byPid.get(Number(a));
        if (!proc) continue;
        this.byPid.delete(proc.pid);
        const code = Number(b);
        // Later, not now: its P may be in this same chunk, and whoever awaits spawn() has not yet
        // had the chance to listen for 'exit'.
        setImmediate(() => proc.emit('exit', code >= 0 ? code : null, code >= 0 ? null : signalNames.get(Number(c)) ?? null));
      }
    }
    this.refresh();
  }

  /** A process's stdio stream: the helper's first line names its token and fd. */
  private onStream(s: net.Socket): void {
    // Ref'd, as a ChildProcess's pipes are: they end when the process (and its group) is gone.
    let head = '';
    s.on('error', () => undefined);
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      const i = head.indexOf('\n');
      if (i < 0) return;
      s.off('data', onData);
      s.pause();
      const [token, fd] = head.slice(0, i).split(' ');
      const rest = Buffer.from(head.slice(i + 1), 'latin1');
      const proc = this.starting.get(token);
      if (!proc) {
        s.destroy();
        return;
      }
      if (--proc.awaiting === 0) this.starting.delete(token);
      if (fd === '0') {
        proc.stdin!.pipe(s);
        return;
      }
      const out = fd === '1' ? proc.stdout : proc.stderr;
      if (rest.length) out.write(rest);
      s.pipe(out);
      s.resume();
    };
    s.on('data', onData);
  }

  /** The helper died (killed from outside): its children lost their reaper; report them gone. */
  private onHelperExit(): void {
    this.closed = true;
    const err = new Error('spawner helper exited');
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.starting.clear();
    for (const proc of this.byPid.values()) {
      // Reported as killed, so make it true: nothing would reap or relay for them any more.
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        // gone already
      }
      endStreams(proc);
      setImmediate(() => proc.emit('exit', null, 'SIGKILL'));
    }
    this.byPid.clear();
    this.server.close();
    rmSync(this.sockPath, { force: true });
  }

  get alive(): boolean {
    return !this.closed;
  }

  /** The helper's pid (tests). */
  get helperPid(): number | undefined {
    return this.child.pid;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.ref(); // someone awaits this
    (this.child.stdout as unknown as net.Socket).ref?.();
    this.child.stdin!.end(); // EOF: the helper kills what is left and exits
    await exited;
  }
}

function endStreams(p: HelperProcess): void {
  p.stdout.end();
  p.stderr.end();
}

/** The helper when it can be built and started here, else the direct spawner. */
export async function createSpawner(kind: 'helper' | 'direct' | undefined = process.env.SKIFF_PROCESS_SPAWNER as any): Promise<Spawner> {
  if (kind === 'direct') return new DirectSpawner();
  return (await HelperSpawner.start().catch(() => undefined)) ?? new DirectSpawner();
}
