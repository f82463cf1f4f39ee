/**
 * kubectl port-forward, the kubelet side (upstream pkg/kubelet/cri/streaming/portforward): over one
 * SPDY session the client opens, per forwarded connection, an `error` stream and a `data` stream
 * with the same `requestid` and the pod `port`; the kubelet dials the port in the pod's network and
 * copies bytes both ways, writing any failure to the error stream.
 */
import net from 'node:net';
import type { SpdySession, SpdyStream } from '../util/spdy.js';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';

export interface PortForwardTarget {
  /** What error messages name: `namespace/name`, uid. */
  pod: string;
  uid: string;
  /** Dials a port in the pod's network. */
  dial(port: number): net.Socket;
}

interface Pair {
  data?: SpdyStream;
  error?: SpdyStream;
  started?: boolean;
}

export function servePortForward(session: SpdySession, target: PortForwardTarget, log: (m: string) => void = () => undefined): void {
  const pairs = new Map<string, Pair>();
  session.on('stream', (s: SpdyStream) => {
    const type = s.headers.streamtype;
    const requestId = s.headers.requestid ?? String(s.id);
    void s.reply().catch(() => undefined);
    if (type !== 'data' && type !== 'error') {
      s.reset();
      return;
    }
    const pair = pairs.get(requestId) ?? {};
    pairs.set(requestId, pair);
    pair[type] = s;
    if (pair.data && pair.error && !pair.started) {
      pair.started = true;
      forward(pair.data, pair.error, target, log).finally(() => pairs.delete(requestId));
    }
  });
}

function forward(data: SpdyStream, error: SpdyStream, target: PortForwardTarget, log: (m: string) => void): Promise<void> {
  const port = Number(data.headers.port);
  return new Promise<void>((resolve) => {
    const fail = (message: string) => {
      log(`port-forward ${target.pod}:${data.headers.port}: ${message}`);
      error.end(`error forwarding port ${data.headers.port} to pod ${target.pod}, uid ${target.uid}: ${message}`);
      data.end();
      resolve();
    };
    if (!Number.isInteger(port) || port < 1 || port > 65535) return fail(`invalid port ${JSON.stringify(data.headers.port ?? '')}`);
    const conn = target.dial(port);
    let connected = false;
    conn.once('connect', () => {
      connected = true;
      conn.setNoDelay(true);
      data.pipe(conn);
      conn.pipe(data);
    });
    conn.on('error', (e) => {
      if (!connected) fail(e.message);
      else data.destroy();
    });
    conn.on('close', () => {
      if (connected) {
        error.end();
        resolve();
      }
    });
    data.on('error', () => conn.destroy());
    data.on('close', () => conn.destroy());
  });
}

/**
 * The WebSocket form of port-forward that clients without SPDY use (@kubernetes/client-node, the
 * Python and C# clients): upstream's kubelet streaming server answers `v4.channel.k8s.io` (binary
 * frames, first byte the channel), `v4.base64.channel.k8s.io` (text frames, an ASCII channel digit
 * then base64), or no subprotocol (binary). Ports come from the `ports` (or `port`) query, each
 * possibly comma-separated; port i gets data channel 2i and error channel 2i+1, and both start with
 * the port as a little-endian uint16. Each port has one connection, dialed at once; the socket
 * closes when every connection has ended.
 */
export const WS_PORT_FORWARD_PROTOCOLS = ['v4.channel.k8s.io', 'v4.base64.channel.k8s.io'];

/** Minimal WebSocket surface (the `ws` package's) so this module does not load it. */
export interface PortForwardSocket {
  protocol: string;
  send(data: Buffer | string, opts?: { binary?: boolean }): void;
  close(): void;
  on(ev: 'message', fn: (d: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): unknown;
  on(ev: 'close' | 'error', fn: () => void): unknown;
}

/** The ports a WebSocket port-forward asks for, or an error message (upstream's NewV4Options wording). */
export function parseWebSocketPorts(q: URLSearchParams): number[] | string {
  const raw = [...q.getAll('ports'), ...q.getAll('port')];
  if (raw.length === 0) return 'query parameter "port" is required';
  const ports: number[] = [];
  for (const s of raw) {
    if (s === '') return 'query parameter "port" cannot be empty';
    for (const p of s.split(',')) {
      const n = /^\d+$/.test(p) ? Number(p) : NaN;
      if (!(n >= 0 && n <= 65535)) return `unable to parse "${s}" as a port`;
      if (n < 1) return `port "${s}" must be > 0`;
      ports.push(n);
    }
  }
  return ports;
}

export function serveWebSocketPortForward(ws: PortForwardSocket, ports: number[], target: PortForwardTarget, log: (m: string) => void = () => undefined): void {
  const base64 = ws.protocol === 'v4.base64.channel.k8s.io';
  let closed = false;
  const send = (channel: number, data: Buffer) => {
    if (closed) return;
    if (base64) ws.send(String.fromCharCode(48 + channel) + data.toString('base64'));
    else ws.send(Buffer.concat([Buffer.from([channel]), data]), { binary: true });
  };
  const conns: net.Socket[] = [];
  let open = ports.length;
  const ended = () => {
    if (--open === 0 && !closed) {
      closed = true;
      ws.close();
    }
  };
  ports.forEach((port, i) => {
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    send(2 * i, portBytes);
    send(2 * i + 1, portBytes);
    const conn = target.dial(port);
    conns[i] = conn;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      ended();
    };
    let connected = false;
    conn.once('connect', () => {
      connected = true;
      conn.setNoDelay(true);
    });
    conn.on('data', (d: Buffer) => send(2 * i, d));
    conn.on('error', (e) => {
      const message = `error forwarding port ${port} to pod ${target.pod}, uid ${target.uid}: ${e.message}`;
      log(`port-forward ${target.pod}:${port}: ${e.message}`);
      if (!connected) send(2 * i + 1, Buffer.from(message));
      finish();
    });
    conn.on('close', finish);
  });
  ws.on('message', (d, isBinary) => {
    let buf: Buffer;
    let channel: number;
    const raw = Buffer.isBuffer(d) ? d : Array.isArray(d) ? Buffer.concat(d) : Buffer.from(d);
    if (base64 && !isBinary) {
      channel = raw[0] - 48;
      buf = Buffer.from(raw.subarray(1).toString(), 'base64');
    } else {
      channel = raw[0];
      buf = raw.subarray(1);
    }
    // Only data channels carry client bytes; anything else (error channels, v5 close) is ignored.
    if (channel % 2 !== 0 || raw.length === 0) return;
    const conn = conns[channel / 2];
    if (conn && !conn.destroyed && buf.length) conn.write(buf);
  });
  const teardown = () => {
    closed = true;
    for (const c of conns) c?.destroy();
  };
  ws.on('close', teardown);
  ws.on('error', teardown);
}
