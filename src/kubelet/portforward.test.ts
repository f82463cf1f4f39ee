import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { FRAME, SPDY3_DICTIONARY, SpdyClientFrames, SpdySession, parseFrames } from '../util/spdy.js';
import { parseWebSocketPorts, servePortForward, serveWebSocketPortForward } from './portforward.js';
import { until } from '../testing/wait.js';

test('the SPDY/3 header dictionary has the spec length', () => {
  assert.equal(SPDY3_DICTIONARY.length, 1423);
});

/** A session wired to an in-memory peer: what the server writes is collected and parsed. */
function harness(dialPort: () => number) {
  const written: Buffer[] = [];
  const session = new SpdySession((b) => written.push(b));
  servePortForward(session, { pod: 'default/p', uid: 'u1', dial: (port) => net.connect({ host: '127.0.0.1', port: port === 1 ? dialPort() : port }) });
  const frames = () => parseFrames(Buffer.concat(written));
  return { session, frames };
}

test('port-forward pairs the error and data streams, replies to both, and relays bytes both ways', async () => {
  const echo = net.createServer((s) => s.on('data', (d) => s.write(Buffer.from(`echo:${d}`))).on('end', () => s.end()));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  const port = (echo.address() as net.AddressInfo).port;
  const client = new SpdyClientFrames();
  const { session, frames } = harness(() => port);
  try {
    session.feed(await client.synStream(1, { streamtype: 'error', port: '1', requestid: '0' }));
    session.feed(await client.synStream(3, { streamtype: 'data', port: '1', requestid: '0' }));
    await until('both streams answered', () => frames().filter((f) => f.control && f.type === FRAME.SYN_REPLY).length === 2);
    session.feed(client.ping(7));
    session.feed(client.data(3, Buffer.from('hi'), true));
    await until('data stream finished', () => frames().some((f) => !f.control && f.streamId === 3 && f.flags & FRAME.FLAG_FIN));
    const data = Buffer.concat(frames().filter((f) => !f.control && f.streamId === 3).map((f) => f.payload)).toString();
    assert.equal(data, 'echo:hi');
    assert.ok(frames().some((f) => f.control && f.type === FRAME.PING && f.payload.readUInt32BE(0) === 7), 'ping echoed');
    await until('error stream closed empty', () => frames().some((f) => !f.control && f.streamId === 1 && f.flags & FRAME.FLAG_FIN));
    assert.equal(Buffer.concat(frames().filter((f) => !f.control && f.streamId === 1).map((f) => f.payload)).length, 0);
  } finally {
    session.destroy();
    client.close();
    echo.close();
  }
});

test('a port nobody listens on is reported on the error stream, as the kubelet words it', async () => {
  // The discard port: nothing listens there (a port just freed could be bound again by another test).
  const closedPort = 9;
  const client = new SpdyClientFrames();
  const { session, frames } = harness(() => closedPort);
  try {
    session.feed(await client.synStream(1, { streamtype: 'error', port: '1', requestid: '5' }));
    session.feed(await client.synStream(3, { streamtype: 'data', port: '1', requestid: '5' }));
    await until('error reported', () => frames().some((f) => !f.control && f.streamId === 1 && f.flags & FRAME.FLAG_FIN));
    const msg = Buffer.concat(frames().filter((f) => !f.control && f.streamId === 1).map((f) => f.payload)).toString();
    assert.match(msg, /^error forwarding port 1 to pod default\/p, uid u1: .*ECONNREFUSED/);
  } finally {
    session.destroy();
    client.close();
  }
});

/** A stand-in WebSocket: what the server sends is recorded, and the test plays the client. */
function fakeSocket(protocol: string) {
  const sent: (Buffer | string)[] = [];
  const handlers: Record<string, ((...a: any[]) => void)[]> = {};
  let closed = false;
  return {
    sent,
    get closed() {
      return closed;
    },
    emit: (ev: string, ...a: any[]) => handlers[ev]?.forEach((h) => h(...a)),
    ws: {
      protocol,
      send: (d: Buffer | string) => void sent.push(d),
      close: () => void (closed = true),
      on: (ev: string, fn: (...a: any[]) => void) => void (handlers[ev] ??= []).push(fn),
    },
  };
}

test('WebSocket port-forward (v4.channel.k8s.io): port prefixes on both channels, bytes both ways, closes when the pod does', async () => {
  const echo = net.createServer((s) => s.on('data', (d) => s.end(Buffer.from(`echo:${d}`))));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  const port = (echo.address() as net.AddressInfo).port;
  const f = fakeSocket('v4.channel.k8s.io');
  try {
    serveWebSocketPortForward(f.ws, [port], { pod: 'default/p', uid: 'u1', dial: (p) => net.connect({ host: '127.0.0.1', port: p }) });
    const le = Buffer.alloc(2);
    le.writeUInt16LE(port);
    assert.deepEqual(f.sent.slice(0, 2), [Buffer.concat([Buffer.from([0]), le]), Buffer.concat([Buffer.from([1]), le])]);
    f.emit('message', Buffer.from('\x00hi'), true);
    await until('the socket closed after the pod closed its end', () => f.closed);
    const data = Buffer.concat((f.sent.slice(2) as Buffer[]).filter((b) => b[0] === 0).map((b) => b.subarray(1))).toString();
    assert.equal(data, 'echo:hi');
  } finally {
    echo.close();
  }
});

test('WebSocket port-forward (v4.base64): text frames, dial errors on the error channel', async () => {
  const f = fakeSocket('v4.base64.channel.k8s.io');
  serveWebSocketPortForward(f.ws, [9], { pod: 'default/p', uid: 'u1', dial: (p) => net.connect({ host: '127.0.0.1', port: p }) });
  assert.deepEqual(f.sent.slice(0, 2), ['0CQA=', '1CQA=']);
  await until('the socket closed', () => f.closed);
  const errs = (f.sent.slice(2) as string[]).filter((s) => s[0] === '1').map((s) => Buffer.from(s.slice(1), 'base64').toString());
  assert.equal(errs.length, 1);
  assert.match(errs[0], /^error forwarding port 9 to pod default\/p, uid u1: .*ECONNREFUSED/);
});

test('WebSocket port-forward ports come from the query as upstream parses them', () => {
  assert.deepEqual(parseWebSocketPorts(new URLSearchParams('ports=80,8080&ports=9000')), [80, 8080, 9000]);
  assert.deepEqual(parseWebSocketPorts(new URLSearchParams('port=53')), [53]);
  assert.equal(parseWebSocketPorts(new URLSearchParams('')), 'query parameter "port" is required');
  assert.equal(parseWebSocketPorts(new URLSearchParams('ports=0')), 'port "0" must be > 0');
  assert.equal(parseWebSocketPorts(new URLSearchParams('ports=x')), 'unable to parse "x" as a port');
});
