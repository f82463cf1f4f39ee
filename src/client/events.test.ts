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

test('repeats recorded while the first is still being created count on it instead of creating their own', async () => {
  const calls: string[] = [];
  let release!: () => void;
  const slow = new Promise<void>((r) => (release = r));
  const client = {
    create: async (p: string, body: any) => {
      calls.push(`create ${p} ${body.reason}`);
      await slow;
    },
    patch: async (p: string, body: any) => void calls.push(`patch ${p.split('/').pop()!.split('.')[0]} ${body.count}`),
  } as unknown as RestClient;
  const r = new EventRecorder(client, { component: 'test' });
  const all = [r.record(pod, 'Normal', 'Pulled', 'image present'), r.record(pod, 'Normal', 'Pulled', 'image present')];
  await new Promise((res) => setImmediate(res));
  release();
  await Promise.all(all);
  assert.deepEqual(calls, ['create /api/v1/namespaces/ns/events Pulled', 'patch p 2']);
});

test('after a failed create, the next repeat creates the Event again', async () => {
  const calls: string[] = [];
  let fail = true;
  const client = {
    create: async (p: string, body: any) => {
      calls.push(`create ${p} ${body.reason}`);
      if (fail) throw new Error('down');
    },
    patch: async (p: string, body: any) => void calls.push(`patch ${p.split('/').pop()!.split('.')[0]} ${body.count}`),
  } as unknown as RestClient;
  const r = new EventRecorder(client, { component: 'test' });
  await assert.rejects(r.record(pod, 'Warning', 'BackOff', 'again'));
  fail = false;
  await r.record(pod, 'Warning', 'BackOff', 'again');
  assert.deepEqual(calls, ['create /api/v1/namespaces/ns/events BackOff', 'create /api/v1/namespaces/ns/events BackOff']);
});
