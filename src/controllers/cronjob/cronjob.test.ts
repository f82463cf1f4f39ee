/**
 * The CronJob controller against in-memory informers and a scripted API (no sockets).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CronJobController } from './cronjob.js';

const NOW = Date.parse('2026-01-01T12:02:30Z');

class FakeInformer {
  readonly items = new Map<string, any>();
  addHandlers(): void {}
  get(k: string) {
    return this.items.get(k);
  }
  list() {
    return [...this.items.values()];
  }
}

function setup() {
  const cronjobs = new FakeInformer();
  const jobs = new FakeInformer();
  const events: string[] = [];
  let conflict = false;
  const client = {
    async update(_p: string, body: any) {
      if (conflict) throw Object.assign(new Error('Operation cannot be fulfilled on cronjobs.batch "cj": the object has been modified'), { status: 409 });
      return body;
    },
    async get() {
      throw Object.assign(new Error('not found'), { status: 404 });
    },
  };
  const clock = { now: () => NOW, setTimeout: () => 0, clearTimeout: () => undefined };
  const ctx: any = {
    client,
    informers: { for: (ref: any) => (ref.resource === 'jobs' ? jobs : cronjobs) },
    recorder: () => ({ event: (_o: any, type: string, reason: string, message: string) => events.push(`${type} ${reason} ${message}`) }),
    clock,
    identity: 't',
    log: () => undefined,
  };
  const c = new CronJobController(ctx, { clock: clock as any });
  // Scheduled every hour, last run at 12:00: nothing is due at 12:02:30.
  const cj = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'cj', namespace: 'default', uid: 'u-cj', resourceVersion: '7', creationTimestamp: '2026-01-01T11:00:00Z' }, spec: { schedule: '0 * * * *', jobTemplate: { spec: {} } }, status: { lastScheduleTime: '2026-01-01T12:00:00Z' } };
  const job = (finished?: string) => ({
    metadata: { name: 'cj-29450160', namespace: 'default', uid: 'u-job', resourceVersion: '9', ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'cj', uid: 'u-cj', controller: true }] },
    status: finished ? { conditions: [{ type: finished, status: 'True' }], completionTime: '2026-01-01T12:00:05Z' } : { active: 1 },
  });
  return { c, cronjobs, jobs, events, cj, job, setConflict: (v: boolean) => (conflict = v) };
}

test('a stale cache that has not seen our own status write records no UnexpectedJob', async () => {
  const f = setup();
  f.cronjobs.items.set('default/cj', f.cj);
  f.jobs.items.set('default/cj-29450160', f.job());
  f.setConflict(true);
  await assert.rejects((f.c as any).reconcile('default/cj'), (e: any) => e.status === 409);
  assert.deepEqual(f.events, []);
  // A Job nobody listed, with the status write going through: upstream's warning.
  f.setConflict(false);
  await (f.c as any).reconcile('default/cj');
  assert.deepEqual(f.events, ['Warning UnexpectedJob Saw a job that the controller did not create or forgot: cj-29450160']);
});

test('SawCompletedJob is recorded once, with the status that drops the Job from active', async () => {
  const f = setup();
  const active = [{ kind: 'Job', namespace: 'default', name: 'cj-29450160', uid: 'u-job', apiVersion: 'batch/v1', resourceVersion: '8' }];
  f.cronjobs.items.set('default/cj', { ...f.cj, status: { ...f.cj.status, active } });
  f.jobs.items.set('default/cj-29450160', f.job('Complete'));
  await (f.c as any).reconcile('default/cj');
  f.setConflict(true);
  await assert.rejects((f.c as any).reconcile('default/cj'), (e: any) => e.status === 409);
  assert.deepEqual(f.events, ['Normal SawCompletedJob Saw completed job: cj-29450160, condition: Complete']);
});
