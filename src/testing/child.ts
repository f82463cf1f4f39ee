import type { ChildProcess } from 'node:child_process';

/**
 * Resolves on the child's first output on stdout (it says it is up); rejects if it exits first (with
 * its stderr, which must be piped) or stays silent for `ms`, so a server that never starts fails the
 * test instead of hanging it.
 */
export function firstOutput(child: ChildProcess, what: string, ms = 15_000): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('close', onClose);
      child.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    const onData = () => done();
    const onClose = (code: number | null, signal: string | null) => done(new Error(`${what} exited (${code ?? signal}) before it was up: ${stderr.trim()}`));
    const timer = setTimeout(() => done(new Error(`${what} was not up within ${ms / 1000} s: ${stderr.trim()}`)), ms);
    child.stdout!.once('data', onData);
    child.once('close', onClose);
    child.once('error', done);
  });
}
