import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { FRAME, SpdyClientFrames, SpdySession, parseFrames } from '../util/spdy.js';
import {
  RemoteCommandStreams,
  ResizeDecoder,
  acceptStreams,
  expectedStreams,
  exitStatus,
  negotiate,
  offeredProtocols,
  spdyConn,
  spdyHandshake,
  statusPayload,
  terminalSize,
} from './remotecommand-spdy.js';
import { runRemoteCommand } from './server.js';
import { until } from '../testing/wait.js';
import type { ExecSession } from '../runtime/cri.js';

const V4 = 'v4.channel.k8s.io';

test('the protocol is the first one the client offers that the kubelet speaks', () => {
  assert.deepEqual(offeredProtocols('v4.channel.k8s.io, v3.channel.k8s.io,channel.k8s.io'), [V4, 'v3.channel.k8s.io', 'channel.k8s.io']);
  assert.deepEqual(offeredProtocols(['a', 'b, c']), ['a', 'b', 'c']);
  assert.deepEqual(offeredProtocols(undefined), []);
  assert.equal(negotiate([V4, 'v3.channel.k8s.io']), V4);
  assert.equal(negotiate(['v5.channel.k8s.io', 'v2.channel.k8s.io', V4]), 'v2.channel.k8s.io');
  assert.equal(negotiate(['v9.channel.k8s.io']), undefined);
});

test('the handshake answers 101 with the chosen protocol, 403 with the accepted ones, 400 without the SPDY upgrade', () => {
  const up = { connection: 'Upgrade', upgrade: 'SPDY/3.1' };
  const ok = spdyHandshake({ ...up, 'x-stream-protocol-version': 'v4.channel.k8s.io, v3.channel.k8s.io, v2.channel.k8s.io, channel.k8s.io' });
  assert.equal(ok.protocol, V4);
  assert.equal(ok.response, 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\n');

  const no = spdyHandshake({ ...up, 'x-stream-protocol-version': 'v9.channel.k8s.io' });
  assert.equal(no.protocol, undefined);
  assert.match(no.response, /^HTTP\/1\.1 403 Forbidden\r\n/);
  for (const p of [V4, 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io']) assert.ok(no.response.includes(`X-Accepted-Stream-Protocol-Versions: ${p}\r\n`), p);
  assert.ok(no.response.endsWith('\r\n\r\nunable to upgrade: unable to negotiate protocol: client supports [v9.channel.k8s.io], server accepts [v4.channel.k8s.io v3.channel.k8s.io v2.channel.k8s.io channel.k8s.io]\n'));

  // A client from before negotiation speaks the first protocol.
  assert.equal(spdyHandshake(up).protocol, 'channel.k8s.io');
  const bad = spdyHandshake({ 'x-stream-protocol-version': V4 });
  assert.equal(bad.protocol, undefined);
  assert.match(bad.response, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*unable to upgrade: missing upgrade headers in request\n$/);
});

test('the status for each end: Success, the exit code, an attach, and as v1–v3 write it', () => {
  assert.equal(JSON.stringify(exitStatus(0, ['echo', 'hi'])), '{"metadata":{},"status":"Success"}');
  const failed = exitStatus(3, ['sh', '-c', 'exit 3']);
  assert.deepEqual(failed, {
    metadata: {},
    status: 'Failure',
    message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: '3' }] },
  });
  assert.deepEqual(exitStatus(137, [], true), { metadata: {}, status: 'Success' });
  assert.deepEqual(JSON.parse(statusPayload(V4, failed)!.toString()), failed);
  assert.equal(statusPayload(V4, exitStatus(0, []))!.toString(), '{"metadata":{},"status":"Success"}');
  assert.equal(statusPayload('v3.channel.k8s.io', exitStatus(0, [])), undefined);
  assert.equal(statusPayload('v2.channel.k8s.io', failed)!.toString(), failed.message);
});

test('the expected streams: error, one per channel, resize with a TTY from v3, never stderr with a TTY', () => {
  const o = { stdin: false, stdout: true, stderr: true, tty: false };
  assert.equal(expectedStreams(o, V4), 3);
  assert.equal(expectedStreams({ ...o, stdin: true }, V4), 4);
  assert.equal(expectedStreams({ ...o, stdin: true, tty: true }, V4), 4); // error stdin stdout resize
  assert.equal(expectedStreams({ ...o, stdin: true, tty: true }, 'v3.channel.k8s.io'), 4);
  assert.equal(expectedStreams({ ...o, stdin: true, tty: true }, 'v2.channel.k8s.io'), 3);

  const s = new RemoteCommandStreams<string>('v2.channel.k8s.io', 2);
  assert.equal(s.add('resize', 'r'), false, 'v2 has no resize stream');
  assert.equal(s.add('bogus', 'b'), false);
  assert.equal(s.add('error', 'e'), true);
  assert.equal(s.ready, false);
  assert.equal(s.add('stdout', 'o'), true);
  assert.equal(s.ready, true);
  assert.deepEqual(s.byType, { error: 'e', stdout: 'o' });
});

test('terminal sizes are read from JSON objects however the bytes are split', () => {
  const d = new ResizeDecoder();
  assert.deepEqual(d.feed('{"Width":80,"He'), []);
  assert.deepEqual(d.feed('ight":24}\n{"Width":100,"Height":30}\n{"Wid'), [
    { Width: 80, Height: 24 },
    { Width: 100, Height: 30 },
  ]);
  assert.deepEqual(d.feed('th":1,"Height":2,"x":"}{"}'), [{ Width: 1, Height: 2 }]);
  assert.deepEqual(d.feed('{"Width":"wide"}{"Width":5,"Height":6}'), [{ Width: 5, Height: 6 }]);
  // Keys match case-insensitively, as encoding/json: @kubernetes/client-node sends lower case.
  assert.deepEqual(d.feed('{"height":30,"width":100}'), [{ Width: 100, Height: 30 }]);
});

test('a resize message names its fields in any case (encoding/json matching)', () => {
  assert.deepEqual(terminalSize({ height: 30, width: 100 }), { Width: 100, Height: 30 });
  assert.deepEqual(terminalSize({ WIDTH: 1, Height: 2 }), { Width: 1, Height: 2 });
  assert.equal(terminalSize({ width: 'x', height: 2 }), undefined);
  assert.equal(terminalSize([1, 2]), undefined);
});

/** A fake process: what it reads from stdin it echoes to stdout; it exits with `code` once stdin ends. */
function fakeExec(code: number) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const sizes: [number, number][] = [];
  let killed = false;
  let input = '';
  let done!: (c: number) => void;
  const exit = new Promise<number>((r) => (done = r));
  stdin.on('data', (d) => {
    input += d;
    stdout.write(`out:${d}`);
  });
  stdin.on('end', () => {
    stderr.end('bye\n');
    stdout.end();
    done(code);
  });
  const sess: ExecSession = { stdin, stdout, stderr, exit, resize: (w, h) => sizes.push([w, h]), kill: () => (killed = true) };
  return { sess, sizes, input: () => input, killed: () => killed };
}

function harness() {
  const written: Buffer[] = [];
  const session = new SpdySession((b) => written.push(b));
  const frames = () => parseFrames(Buffer.concat(written));
  const payload = (id: number) => Buffer.concat(frames().filter((f) => !f.control && f.streamId === id).map((f) => f.payload)).toString();
  const fin = (id: number) => frames().some((f) => !f.control && f.streamId === id && f.flags & FRAME.FLAG_FIN);
  return { session, frames, payload, fin };
}

test('a session over client-opened SPDY streams: input (early input waits), output, then the status and FIN on every output stream', async () => {
  const { session, frames, payload, fin } = harness();
  const client = new SpdyClientFrames();
  const p = fakeExec(3);
  try {
    const o = { stdin: true, stdout: true, stderr: true, tty: false };
    const accepted = acceptStreams(session, V4, o);
    // Input sent before the session starts waits for it.
    session.feed(await client.synStream(1, { streamtype: 'error' }, true));
    session.feed(await client.synStream(3, { streamtype: 'stdin' }));
    session.feed(client.data(3, Buffer.from('early\n')));
    session.feed(await client.synStream(5, { streamtype: 'stdout' }));
    session.feed(await client.synStream(7, { streamtype: 'stderr' }));
    const streams = await accepted;
    assert.equal(frames().filter((f) => f.control && f.type === FRAME.SYN_REPLY).length, 4);
    const run = runRemoteCommand(spdyConn(session, streams), async () => p.sess, ['sh', '-c', 'exit 3']);
    session.feed(client.data(3, Buffer.from('late\n'), true));
    await run;
    assert.equal(p.input(), 'early\nlate\n');
    await until('output streams finished', () => fin(1) && fin(5) && fin(7));
    assert.equal(payload(5), 'out:early\nout:late\n');
    assert.equal(payload(7), 'bye\n');
    assert.deepEqual(JSON.parse(payload(1)), exitStatus(3, ['sh', '-c', 'exit 3']));
    // The kubelet leaves the hang-up to the client, which then has read everything.
    assert.equal(session.isClosed, false);
    assert.equal(p.killed(), false);
    session.destroy();
    assert.equal(p.killed(), true);
  } finally {
    session.destroy();
    client.close();
  }
});

test('a TTY session reads terminal sizes from the resize stream', async () => {
  const { session, fin } = harness();
  const client = new SpdyClientFrames();
  const p = fakeExec(0);
  try {
    const accepted = acceptStreams(session, V4, { stdin: true, stdout: true, stderr: true, tty: true });
    session.feed(await client.synStream(1, { streamtype: 'error' }, true));
    session.feed(await client.synStream(3, { streamtype: 'stdin' }));
    session.feed(await client.synStream(5, { streamtype: 'stdout' }));
    session.feed(await client.synStream(7, { streamtype: 'resize' }));
    session.feed(client.data(7, Buffer.from('{"Width":80,"Height":24}\n')));
    const run = runRemoteCommand(spdyConn(session, await accepted), async () => p.sess);
    session.feed(client.data(7, Buffer.from('{"Width":100,"Height":30}\n')));
    await until('both sizes', () => p.sizes.length === 2);
    assert.deepEqual(p.sizes, [
      [80, 24],
      [100, 30],
    ]);
    session.feed(client.data(3, Buffer.alloc(0), true));
    await run;
    await until('status written', () => fin(1));
  } finally {
    session.destroy();
    client.close();
  }
});

test('a client that never opens all its streams is given up on; one that leaves first too', async () => {
  const { session } = harness();
  const client = new SpdyClientFrames();
  try {
    const accepted = acceptStreams(session, V4, { stdin: false, stdout: true, stderr: false, tty: false }, 50);
    session.feed(await client.synStream(1, { streamtype: 'error' }));
    await assert.rejects(accepted, /timed out waiting for client to create streams/);
    const left = acceptStreams(session, V4, { stdin: false, stdout: true, stderr: false, tty: false });
    session.destroy();
    await assert.rejects(left, /connection closed/);
  } finally {
    session.destroy();
    client.close();
  }
});

test('a session the runtime refuses ends with an InternalError status', async () => {
  const { session, payload, fin } = harness();
  const client = new SpdyClientFrames();
  try {
    const accepted = acceptStreams(session, V4, { stdin: false, stdout: true, stderr: false, tty: false });
    session.feed(await client.synStream(1, { streamtype: 'error' }, true));
    session.feed(await client.synStream(3, { streamtype: 'stdout' }));
    await runRemoteCommand(spdyConn(session, await accepted), async () => {
      throw new Error('no such container');
    });
    await until('status written', () => fin(1) && fin(3));
    assert.deepEqual(JSON.parse(payload(1)), { metadata: {}, status: 'Failure', message: 'no such container', reason: 'InternalError', code: 500 });
  } finally {
    session.destroy();
    client.close();
  }
});
