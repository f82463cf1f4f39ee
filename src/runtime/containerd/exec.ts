/**
 * CRI Exec returns the URL of the runtime's streaming server; this dials it with the Kubernetes
 * websocket remotecommand protocol (v4.channel.k8s.io: one byte of channel id per binary
 * message; 0 stdin, 1 stdout, 2 stderr, 3 error/status JSON, 4 resize) and adapts it to the
 * ExecSession the kubelet's own server expects.
 */
import { PassThrough, Writable } from 'node:stream';
import WebSocket from 'ws';
import { RuntimeError, type ExecRequest, type ExecSession } from '../cri.js';

const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const ERROR = 3;
const RESIZE = 4;

/** The exit code a v4 status message carries (Success → 0; Failure with an ExitCode cause → that). */
export function exitCodeOf(status: any): number {
  if (status?.status === 'Success') return 0;
  const cause = (status?.details?.causes ?? []).find((c: any) => c.reason === 'ExitCode');
  if (cause) return Number(cause.message);
  return 126; // the command could not be run at all (upstream reports this as an error)
}

export function dialExec(url: string, req: ExecRequest): Promise<ExecSession> {
  const wsUrl = url.replace(/^http/, 'ws');
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, ['v4.channel.k8s.io']);
    const stdout = req.stdout !== false ? new PassThrough() : undefined;
    const stderr = req.stderr && !req.tty ? new PassThrough() : undefined;
    let status: any;
    let settle!: (code: number) => void;
    const exit = new Promise<number>((r) => (settle = r));
    const send = (channel: number, data: Buffer) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), data]));
    };
    ws.on('message', (raw: Buffer, isBinary: boolean) => {
      const buf = isBinary ? raw : Buffer.from(raw.toString());
      if (buf.length < 1) return;
      const payload = buf.subarray(1);
      if (payload.length === 0) return; // channel-open announcements
      if (buf[0] === STDOUT) stdout?.write(payload);
      else if (buf[0] === STDERR) stderr?.write(payload);
      else if (buf[0] === ERROR) {
        try {
          status = JSON.parse(payload.toString());
        } catch {
          status = { status: 'Failure', message: payload.toString() };
        }
      }
    });
    ws.once('close', () => {
      stdout?.end();
      stderr?.end();
      settle(status ? exitCodeOf(status) : 0);
    });
    ws.once('error', (e) => {
      stdout?.end();
      stderr?.end();
      reject(new RuntimeError('Internal', `exec stream ${wsUrl}: ${e.message}`));
      settle(126);
    });
    ws.once('open', () => {
      const stdin = req.stdin
        ? new Writable({
            write(chunk: Buffer, _enc, cb) {
              send(STDIN, Buffer.from(chunk));
              cb();
            },
            // v4 has no way to signal EOF on stdin; the process sees it when the stream closes.
          })
        : undefined;
      resolve({
        stdin,
        stdout,
        stderr,
        resize: (width, height) => send(RESIZE, Buffer.from(JSON.stringify({ Width: width, Height: height }))),
        exit,
        kill: () => ws.terminate(),
      });
    });
  });
}
