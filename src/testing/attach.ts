import { spawn, type ChildProcess } from 'node:child_process';
import { until } from './wait.js';

/**
 * Runs `kubectl attach -i …` and writes `line` until `echoed` shows in its output (the session may
 * not be up when the first line goes). Returns the process and its output so far; the caller ends it.
 */
export async function attachUntilEcho(kubectl: string, args: string[], env: NodeJS.ProcessEnv, line: string, echoed: RegExp): Promise<{ ch: ChildProcess; out: () => string }> {
  const ch = spawn(kubectl, ['attach', '-i', ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  ch.stdout!.on('data', (d) => (out += d));
  ch.stderr!.on('data', (d) => (err += d));
  try {
    await until(
      'an echo through attach',
      () => {
        if (ch.exitCode !== null) throw new Error(`kubectl attach exited ${ch.exitCode}: ${err}`);
        ch.stdin!.write(`${line}\n`);
        return echoed.test(out);
      },
      20_000,
      300,
    );
  } catch (e) {
    ch.kill();
    throw e;
  }
  return { ch, out: () => out };
}
