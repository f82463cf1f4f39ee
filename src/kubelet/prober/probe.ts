/**
 * One probe attempt: exec, httpGet, tcpSocket or grpc, with upstream's success rules and failure
 * messages (pkg/probe/*): HTTP 200–399 succeeds, TCP connect succeeds, exec exit 0 succeeds, gRPC
 * health check SERVING succeeds.
 */
import http from 'node:http';
import https from 'node:https';
import type http2 from 'node:http2';
import { createRequire } from 'node:module';
import net from 'node:net';
import type { Runtime } from '../../runtime/cri.js';

export interface ProbeOutcome {
  ok: boolean;
  /** Upstream's failure text, used in the Unhealthy event. */
  output: string;
}

function resolvePort(port: any, container: any): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(String(port))) return Number(port);
  const p = (container?.ports ?? []).find((x: any) => x.name === port);
  if (!p) throw new Error(`unable to find port "${port}" in container`);
  return p.containerPort;
}

export async function runProbe(probe: any, ctx: { runtime: Runtime; containerId: string; podIP: string; container: any }): Promise<ProbeOutcome> {
  const timeoutSec = probe.timeoutSeconds ?? 1;
  try {
    if (probe.exec) return await execProbe(ctx.runtime, ctx.containerId, probe.exec.command ?? [], timeoutSec);
    if (probe.httpGet) return await httpProbe(probe.httpGet, ctx.podIP, resolvePort(probe.httpGet.port, ctx.container), timeoutSec);
    if (probe.tcpSocket) return await tcpProbe(probe.tcpSocket.host || ctx.podIP, resolvePort(probe.tcpSocket.port, ctx.container), timeoutSec);
    if (probe.grpc) return await grpcProbe(ctx.podIP, probe.grpc.port, probe.grpc.service ?? '', timeoutSec);
  } catch (e) {
    return { ok: false, output: (e as Error).message };
  }
  return { ok: false, output: 'missing probe handler' };
}

async function execProbe(runtime: Runtime, id: string, cmd: string[], timeoutSec: number): Promise<ProbeOutcome> {
  try {
    const r = await runtime.execSync(id, cmd, timeoutSec);
    const out = Buffer.concat([r.stdout, r.stderr]).toString();
    return { ok: r.exitCode === 0, output: out };
  } catch (e) {
    const msg = (e as Error).message;
    return { ok: false, output: /timed out/.test(msg) ? `command ${JSON.stringify(cmd.join(' '))} timed out` : msg };
  }
}

function httpProbe(h: any, podIP: string, port: number, timeoutSec: number): Promise<ProbeOutcome> {
  const scheme = (h.scheme ?? 'HTTP').toLowerCase();
  const host = h.host || podIP;
  const p = h.path ?? '/';
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}${p.startsWith('/') ? p : '/' + p}`;
  const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.32', Accept: '*/*' };
  for (const hd of h.httpHeaders ?? []) headers[hd.name] = hd.value;
  const lib = scheme === 'https' ? https : http;
  return new Promise((resolve) => {
    const req = lib.get(url, { headers, timeout: timeoutSec * 1000, rejectUnauthorized: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < 10 * 1024) chunks.push(c);
        size += c.length;
      });
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        const body = Buffer.concat(chunks).toString().slice(0, 10 * 1024);
        if (code >= 200 && code < 400) resolve({ ok: true, output: body });
        else resolve({ ok: false, output: `HTTP probe failed with statuscode: ${code}` });
      });
    });
    req.on('timeout', () => {
      req.destroy();
      resolve({ ok: false, output: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, output: `Get "${url}": ${dialError(host, port, e)}` }));
  });
}

function dialError(host: string, port: number, e: NodeJS.ErrnoException): string {
  if (e.code === 'ECONNREFUSED') return `dial tcp ${host}:${port}: connect: connection refused`;
  return e.message;
}

function tcpProbe(host: string, port: number, timeoutSec: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: timeoutSec * 1000 });
    s.once('connect', () => {
      s.destroy();
      resolve({ ok: true, output: '' });
    });
    s.once('timeout', () => {
      s.destroy();
      resolve({ ok: false, output: `dial tcp ${host}:${port}: i/o timeout` });
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, output: dialError(host, port, e) }));
  });
}

const GRPC_CODES = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated'];

/** Upstream's grpc prober messages for a Check that ended with a gRPC error status. */
export function grpcFailure(code: number, message: string, timeoutSec: number): string {
  if (code === 12) return `this server doesn't implement the grpc health protocol (grpc.health.v1.Health): ${message}`;
  if (code === 4) return `timeout: health rpc did not complete within ${timeoutSec}s`;
  return `error: health rpc probe failed: rpc error: code = ${GRPC_CODES[code] ?? `Code(${code})`} desc = ${message}`;
}

/** grpc.health.v1.Health/Check over HTTP/2 with hand-encoded protobuf (one string field, one enum). */
function grpcProbe(host: string, port: number, service: string, timeoutSec: number): Promise<ProbeOutcome> {
  // node:http2 loads on the first gRPC probe: most nodes never run one (~5 MB resident).
  const h2 = createRequire(import.meta.url)('node:http2') as typeof http2;
  return new Promise((resolve) => {
    const target = `${host}:${port}`;
    const session = h2.connect(`http://${target}`);
    const deadline = Date.now() + timeoutSec * 1000;
    let timer = setTimeout(() => {
      session.destroy();
      resolve({ ok: false, output: `timeout: health rpc did not complete within ${timeoutSec}s` });
    }, timeoutSec * 1000);
    const done = (o: ProbeOutcome) => {
      clearTimeout(timer);
      session.close();
      resolve(o);
    };
    let connected = false;
    session.once('connect', () => (connected = true));
    // grpc-go's blocking dial retries a refused connection until the deadline, so upstream reports a timeout.
    session.on('error', () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        session.destroy();
        resolve({ ok: false, output: `timeout: failed to connect service "${target}" within ${timeoutSec}s: context deadline exceeded` });
      }, Math.max(0, deadline - Date.now()));
    });
    const svc = Buffer.from(service);
    const msg = svc.length ? Buffer.concat([Buffer.from([0x0a, svc.length]), svc]) : Buffer.alloc(0);
    const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, msg.length]), msg]);
    const req = session.request({ ':method': 'POST', ':path': '/grpc.health.v1.Health/Check', 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: Buffer[] = [];
    let grpcStatus: string | undefined;
    let grpcMessage = '';
    req.on('response', (h) => {
      if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
      if (h['grpc-message'] !== undefined) grpcMessage = decodeURIComponent(String(h['grpc-message']));
    });
    req.on('trailers', (t) => {
      grpcStatus = String(t['grpc-status'] ?? grpcStatus);
      if (t['grpc-message'] !== undefined) grpcMessage = decodeURIComponent(String(t['grpc-message']));
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (grpcStatus && grpcStatus !== '0') return done({ ok: false, output: grpcFailure(Number(grpcStatus), grpcMessage, timeoutSec) });
      const payload = body.subarray(5);
      const status = payload[0] === 0x08 ? payload[1] : 0;
      const names = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];
      done(status === 1 ? { ok: true, output: '' } : { ok: false, output: `service unhealthy (responded with "${names[status] ?? status}")` });
    });
    // Before the connection is up a failure is the session's (reported as the dial timeout above).
    req.on('error', (e) => connected && done({ ok: false, output: e.message }));
    req.end(frame);
  });
}
