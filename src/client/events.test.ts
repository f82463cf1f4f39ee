import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventRecorder } from './events.js';
import type { RestClient } from './rest.js';

function fakeClient(calls: string[]): RestClient {
  return {
    create: async (p: string, body: any) => void calls.push(`create ${p} ${body.reason}`),
    patch: async (p: string, body: any) => void calls.push(`patch ${p.split('/').pop()!.split('.')[0]} ${body.count}`),
  } as unknown as RestClient;
}
const pod = { kind: 'Pod', apiVersion: 'v1', name: 'p', namespace: 'ns', uid: 'u1' };

test('a repeated event bumps count on the existing Event', async () => {
  const calls: string[] = [];
  const r = new EventRecorder(fakeClient(calls), { component: 'test' });
  for (let i = 0; i < 3; i++) await r.record(pod, 'Warning', 'FailedScheduling', 'no room');
  assert.deepEqual(calls, ['create /api/v1/namespaces/ns/events FailedScheduling', 'patch p 2', 'patch p 3']);
});

test('with a series window, repeats within it are only counted', async () => {
  const calls: string[] = [];
  const r = new EventRecorder(fakeClient(calls), { component: 'test' }, { seriesWindowMs: 60_000 });
  for (let i = 0; i < 50; i++) await r.record(pod, 'Warning', 'FailedScheduling', 'no room');
  await r.record(pod, 'Normal', 'Scheduled', 'ok');
  assert.deepEqual(calls, ['create /api/v1/namespaces/ns/events FailedScheduling', 'create /api/v1/namespaces/ns/events Scheduled']);
});
