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
