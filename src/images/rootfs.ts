/**
 * Root filesystems for the test images, assembled offline from what Debian installed on this
 * host: busybox from `busybox-static`, nginx from its binary plus the shared libraries `ldd`
 * lists, and a static `pause` compiled with `gcc -static`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../util/errors.js';
import type { TarEntry } from './tar.js';

export class ImageBuildError extends SkiffError {
  constructor(message: string) {
    super('ImageBuildError', message);
  }
}

const BUSYBOX = '/bin/busybox';

/** Why the busybox image cannot be built here, or undefined. */
export function busyboxMissing(): string | undefined {
  if (!existsSync(BUSYBOX)) return 'busybox-static is not installed (apt-get install busybox-static)';
  try {
    execFileSync('ldd', [BUSYBOX], { stdio: 'pipe' });
    return `${BUSYBOX} is not statically linked (install busybox-static)`;
  } catch {
    return undefined; // "not a dynamic executable": what we want
  }
}

/** Adds every parent directory of `paths` (sorted, once) in front of the entries. */
function withDirs(entries: TarEntry[], extraDirs: string[] = []): TarEntry[] {
  const dirs = new Set<string>(extraDirs);
  for (const e of [...entries.map((x) => x.path), ...extraDirs]) {
    const parts = e.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const dirEntries: TarEntry[] = [...dirs].filter(Boolean).sort().map((d) => ({ type: 'dir', path: d, mode: d === 'tmp' ? 0o1777 : 0o755 }));
  return [...dirEntries, ...[...entries].sort((a, b) => a.path.localeCompare(b.path))];
}

function baseFiles(): TarEntry[] {
  return [
    { type: 'file', path: 'etc/passwd', data: Buffer.from('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nwww-data:x:33:33:www-data:/var/www:/bin/false\n') },
    { type: 'file', path: 'etc/group', data: Buffer.from('root:x:0:\nnogroup:x:65534:\nwww-data:x:33:\n') },
  ];
}

const BASE_DIRS = ['tmp', 'root', 'proc', 'sys', 'dev', 'etc', 'var', 'bin', 'sbin', 'usr/bin', 'usr/sbin'];

function busyboxEntries(): TarEntry[] {
  const why = busyboxMissing();
  if (why) throw new ImageBuildError(why);
  const list = execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const entries: TarEntry[] = [{ type: 'file', path: 'bin/busybox', data: readFileSync(BUSYBOX), mode: 0o755 }];
  for (const p of list) if (p !== 'bin/busybox') entries.push({ type: 'symlink', path: p, target: '/bin/busybox' });
  return entries;
}

export function busyboxRootfs(): TarEntry[] {
  return withDirs([...busyboxEntries(), ...baseFiles()], BASE_DIRS);
}

/** Shared libraries of a dynamic executable (and its loader), by `ldd`. */
function libraries(exe: string): string[] {
  const out = execFileSync('ldd', [exe], { encoding: 'utf8' });
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]);
  }
  return libs;
}

export function nginxMissing(): string | undefined {
  if (!existsSync('/usr/sbin/nginx')) return 'nginx is not installed (apt-get install nginx-light)';
  return busyboxMissing();
}

const NGINX_CONF = `user root;
worker_processes 1;
pid /run/nginx.pid;
error_log /dev/stderr;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  access_log /dev/stdout;
  server {
    listen 80 default_server;
    root /usr/share/nginx/html;
    index index.html;
  }
}
`;

const WELCOME = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>
</body>
</html>
`;

/** nginx as the Docker Hub image runs it (foreground, logs to stdout/stderr), plus busybox for exec. */
export function nginxRootfs(): TarEntry[] {
  const why = nginxMissing();
  if (why) throw new ImageBuildError(why);
  const exe = '/usr/sbin/nginx';
  const entries: TarEntry[] = [...busyboxEntries(), ...baseFiles()].filter((e) => e.path !== 'usr/sbin/nginx');
  entries.push({ type: 'file', path: 'usr/sbin/nginx', data: readFileSync(exe), mode: 0o755 });
  for (const lib of libraries(exe)) {
    entries.push({ type: 'file', path: lib.slice(1), data: readFileSync(realpathSync(lib)), mode: 0o755 });
  }
  entries.push(
    { type: 'file', path: 'etc/nginx/nginx.conf', data: Buffer.from(NGINX_CONF) },
    { type: 'file', path: 'etc/nginx/mime.types', data: readFileSync('/etc/nginx/mime.types') },
    { type: 'file', path: 'usr/share/nginx/html/index.html', data: Buffer.from(WELCOME) },
  );
  const seen = new Set<string>();
  const unique = entries.filter((e) => (seen.has(e.path) ? false : (seen.add(e.path), true)));
  return withDirs(unique, [...BASE_DIRS, "run", "var/lock", 'var/log/nginx', 'var/lib/nginx', 'var/lib/nginx/body', 'var/cache/nginx']);
}

const PAUSE_C = `#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
static void die(int s) { (void)s; _exit(0); }
static void reap(int s) { (void)s; while (waitpid(-1, NULL, WNOHANG) > 0) {} }
int main(void) {
  struct sigaction a = {0}, r = {0};
  a.sa_handler = die; sigaction(SIGINT, &a, NULL); sigaction(SIGTERM, &a, NULL);
  r.sa_handler = reap; r.sa_flags = SA_NOCLDSTOP; sigaction(SIGCHLD, &r, NULL);
  for (;;) pause();
}
`;

/** The pause binary, compiled once into `cacheDir` with `gcc -static`. */
export function pauseRootfs(cacheDir: string): TarEntry[] {
  mkdirSync(cacheDir, { recursive: true });
  const bin = path.join(cacheDir, 'pause');
  if (!existsSync(bin)) {
    const src = path.join(cacheDir, 'pause.c');
    writeFileSync(src, PAUSE_C);
    try {
      execFileSync('gcc', ['-static', '-Os', '-s', '-o', `${bin}.tmp`, src], { stdio: 'pipe' });
      execFileSync('mv', [`${bin}.tmp`, bin]);
    } catch (e) {
      throw new ImageBuildError(`building the pause binary with gcc -static failed: ${(e as Error).message}`);
    }
  }
  return withDirs([{ type: 'file', path: 'pause', data: readFileSync(bin), mode: 0o755 }], ['proc', 'sys', 'dev', 'etc']);
}
