import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { which } from './which.js';

/**
 * Node has no PTY of its own, so a TTY exec runs through a tiny Python helper: it forks the
 * command on a pseudo-terminal, copies stdin/stdout, reads "COLS ROWS" lines on fd 3 to resize,
 * and exits with the command's status. Falls back to util-linux `script` (no resize) without Python.
 */
const HELPER = String.raw`
import os, pty, sys, select, struct, fcntl, termios, signal
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
ctl = os.fdopen(3, 'rb', 0)
def resize(line):
    try:
        c, r = [int(x) for x in line.split()]
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', r, c, 0, 0))
        os.kill(pid, signal.SIGWINCH)
    except Exception:
        pass
inputs = [0, fd, 3]
buf = b''
while True:
    try:
        r, _, _ = select.select(inputs, [], [])
    except InterruptedError:
        continue
    if fd in r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b''
        if not data:
            break
        os.write(1, data)
    if 0 in r:
        data = os.read(0, 65536)
        if not data:
            inputs.remove(0)
        else:
            os.write(fd, data)
    if 3 in r:
        data = os.read(3, 4096)
        if not data:
            inputs.remove(3)
        else:
            buf += data
            while b'\n' in buf:
                line, buf = buf.split(b'\n', 1)
                resize(line.decode())
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, 'waitstatus_to_exitcode') else (status >> 8))
`;

export interface PtyProcess {
  child: ChildProcess;
  resize(cols: number, rows: number): void;
}

export function spawnPty(argv: string[], opts: SpawnOptions): PtyProcess {
  const py = which('python3');
  if (py) {
    const child = spawn(py, ['-c', HELPER, ...argv], { ...opts, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    const ctl = child.stdio[3] as NodeJS.WritableStream;
    ctl.on?.('error', () => undefined);
    return { child, resize: (c, r) => void ctl.write(`${c} ${r}\n`) };
  }
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qfec', quoted, '/dev/null'], { ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
  return { child, resize: () => undefined };
}
