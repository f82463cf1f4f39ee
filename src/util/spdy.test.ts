import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FRAME, SpdyClientFrames, SpdySession, parseFrames, type SpdyStream } from './spdy.js';
import { until } from '../testing/wait.js';

/** A client and a server session joined in memory; bytes cross on a later turn, in order. */
function pair() {
  const toServer: Buffer[] = [];
  let server!: SpdySession;
  const client = new SpdySession(
    (b) => {
      toServer.push(b);
      setImmediate(() => server.feed(b));
    },
    { client: true },
  );
  server = new SpdySession((b) => setImmediate(() => client.feed(b)));
  const accepted: SpdyStream[] = [];
  server.on('stream', (s: SpdyStream) => {
    accepted.push(s);
    void s.reply({ ok: 'yes' });
  });
  return { client, server, accepted, clientFrames: () => parseFrames(Buffer.concat(toServer)) };
}

const collect = (s: NodeJS.ReadableStream) => {
  const st = { text: '', ended: false };
  s.on('data', (d: Buffer) => (st.text += d.toString()));
  s.on('end', () => (st.ended = true));
  return st;
};

test('a client opens streams with odd ids and headers, gets the reply, and both sides send data and FIN', async () => {
  const { client, server, accepted } = pair();
  try {
    const a = client.openStream({ streamType: 'stdin' });
    const b = client.openStream({ streamType: 'stdout' });
    assert.deepEqual([a.id, b.id], [1, 3]);
    assert.deepEqual(await a.replyHeaders, { ok: 'yes' });
    await b.replyHeaders;
    assert.deepEqual(accepted.map((s) => [s.id, s.headers.streamtype]), [
      [1, 'stdin'],
      [3, 'stdout'],
    ]);
    const [sa, sb] = accepted;
    const atServer = collect(sa);
    const atClient = collect(b);
    a.end('input');
    await until('client FIN at the server', () => atServer.ended);
    assert.equal(atServer.text, 'input');
    sb.write('out');
    sb.end();
    await until('server FIN at the client', () => atClient.ended);
    assert.equal(atClient.text, 'out');
  } finally {
    client.destroy();
    server.destroy();
  }
});

test('a client asked to answers every DATA frame with a WINDOW_UPDATE, so a peer that keeps a 64 KiB window sends far more', async () => {
  const out: Buffer[] = [];
  const client = new SpdySession((b) => out.push(b), { client: true, windowUpdates: true });
  const peer = new SpdyClientFrames(); // only its frame builders: the "server" here is written by hand
  try {
    const s = client.openStream({ streamType: 'stdout' });
    const got = collect(s);
    const total = 300 * 1024;
    const chunk = 16 * 1024;
    let window = 64 * 1024;
    let sent = 0;
    let seen = 0;
    const deadline = Date.now() + 10_000;
    // A sender that respects the window: it never has more than 64 KiB unacknowledged.
    while (sent < total) {
      const updates = parseFrames(Buffer.concat(out)).filter((f) => f.control && f.type === FRAME.WINDOW_UPDATE && f.streamId === s.id);
      for (const u of updates.slice(seen)) window += u.payload.readUInt32BE(4);
      seen = updates.length;
      if (window < chunk) {
        assert.ok(Date.now() < deadline, `stalled at ${sent} bytes: no window update`);
        await new Promise((r) => setImmediate(r));
        continue;
      }
      const n = Math.min(chunk, total - sent);
      client.feed(peer.data(s.id, Buffer.alloc(n, 'x'), sent + n === total));
      window -= n;
      sent += n;
    }
    await until('all data delivered', () => got.ended);
    assert.equal(got.text.length, total);
  } finally {
    client.destroy();
    peer.close();
  }
});

test('a reset stream closes on the other side; a reset before the reply rejects it', async () => {
  const { client, server, accepted } = pair();
  try {
    const a = client.openStream({ streamType: 'error' });
    await a.replyHeaders;
    let closed = false;
    a.on('close', () => (closed = true));
    accepted[0].reset();
    await until('client stream closed', () => closed);

    const b = client.openStream({ streamType: 'stdout' });
    await b.replyHeaders;
    let serverClosed = false;
    accepted[1].on('close', () => (serverClosed = true));
    b.reset();
    await until('server stream closed', () => serverClosed);

    // A server that refuses: RST instead of SYN_REPLY.
    server.removeAllListeners('stream');
    server.on('stream', (s: SpdyStream) => s.reset());
    const c = client.openStream({ streamType: 'stdin' });
    await assert.rejects(c.replyHeaders, /reset by the peer/);
  } finally {
    client.destroy();
    server.destroy();
  }
});

test('when the session ends, what arrived is still delivered and every stream ends', async () => {
  const { client, server, accepted } = pair();
  try {
    const a = client.openStream({ streamType: 'stdout' });
    const b = client.openStream({ streamType: 'stderr' });
    await a.replyHeaders;
    await b.replyHeaders;
    const got = collect(a);
    const quiet = collect(b);
    accepted[0].write('last words');
    await until('data arrived', () => got.text.length > 0);
    server.close(); // GOAWAY
    await until('both client streams ended', () => got.ended && quiet.ended);
    assert.equal(got.text, 'last words');
    assert.equal(quiet.text, '');
    assert.equal(client.isClosed, true);
    assert.throws(() => client.openStream({ streamType: 'x' }), /closed/);
  } finally {
    client.destroy();
    server.destroy();
  }
});

test('by default (spdystream peers: kubectl, CRI streaming) a session sends no WINDOW_UPDATE at all', async () => {
  const out: Buffer[] = [];
  const client = new SpdySession((b) => out.push(b), { client: true });
  const peer = new SpdyClientFrames();
  try {
    const s = client.openStream({ streamType: 'stdout' });
    const got = collect(s);
    for (let i = 0; i < 4; i++) client.feed(peer.data(s.id, Buffer.alloc(32 * 1024, 'x'), i === 3));
    await until('all data delivered', () => got.ended);
    assert.equal(got.text.length, 128 * 1024);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(parseFrames(Buffer.concat(out)).filter((f) => f.control && f.type === FRAME.WINDOW_UPDATE), []);
  } finally {
    client.destroy();
    peer.close();
  }
});
