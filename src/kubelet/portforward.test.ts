import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { FRAME, SPDY3_DICTIONARY, SpdyClientFrames, SpdySession, parseFrames } from '../util/spdy.js';
import { servePortForward } from './portforward.js';
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
