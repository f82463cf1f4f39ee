import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ANN_TERMINATION_PATH, ANN_TERMINATION_POLICY, lastLogString, terminationMessage } from './termination.js';

describe('termination messages', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'skt-'));
  const msgFile = path.join(dir, 'msg');
  const log = path.join(dir, 'log');
  const st = (over: any = {}) => ({
    annotations: { [ANN_TERMINATION_PATH]: '/dev/termination-log', [ANN_TERMINATION_POLICY]: 'File' },
    mounts: [{ containerPath: '/dev/termination-log', hostPath: msgFile }],
    logPath: log,
    exitCode: 1,
    reason: 'Error',
    ...over,
  });
  const line = (s: string, tag = 'F') => `2024-01-01T00:00:00.000000000Z stdout ${tag} ${s}\n`;

  it('reads the last 4 KiB of what the container wrote', () => {
    writeFileSync(msgFile, 'x'.repeat(5000) + 'END');
    const m = terminationMessage(st());
    assert.equal(m.length, 4096);
    assert.ok(m.endsWith('END'));
  });

  it('falls back to the last log lines only with FallbackToLogsOnError, a failure and no message', () => {
    writeFileSync(msgFile, '');
    writeFileSync(log, Array.from({ length: 100 }, (_, i) => line(`l${i}`)).join('') + line('part-', 'P') + line('end'));
    assert.equal(terminationMessage(st()), '', 'File policy: nothing');
    const fb = terminationMessage(st({ annotations: { [ANN_TERMINATION_PATH]: '/dev/termination-log', [ANN_TERMINATION_POLICY]: 'FallbackToLogsOnError' } }));
    const lines = fb.trimEnd().split('\n');
    assert.equal(lines.length, 80);
    assert.equal(lines.at(-1), 'part-end');
    assert.equal(lines[0], 'l21');
    assert.equal(terminationMessage(st({ exitCode: 0, annotations: { [ANN_TERMINATION_POLICY]: 'FallbackToLogsOnError' } })), '', 'success: no fallback');
    writeFileSync(log, Array.from({ length: 50 }, () => line('y'.repeat(100))).join(''));
    assert.equal(Buffer.byteLength(lastLogString(log)), 2048);
  });

  it('reports nothing without a mount or annotations', () => {
    assert.equal(terminationMessage({ exitCode: 1, reason: 'Error', logPath: log }), '');
    rmSync(dir, { recursive: true, force: true });
  });
});
