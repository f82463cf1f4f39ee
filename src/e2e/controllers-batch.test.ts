/**
 * Jobs and CronJobs end to end with the real kubectl: completions/parallelism, Indexed mode,
 * backoffLimit, podFailurePolicy, suspend, ttlSecondsAfterFinished, and a CronJob driven by a test
 * clock. The fake kubelet binds pods and reports them Running; a "completer" here then finishes
 * Job pods with the exit code their `e2e/exit` label asks for, as containers would.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCluster, type TestCluster } from '../testing/cluster.js';
import { needs, which } from '../testing/real.js';
import { RestClient, configFromKubeconfig } from '../client/rest.js';
import { Informer, keyOf } from '../client/informer.js';
import { SharedInformerFactory } from '../client/factory.js';
import { EventRecorder } from '../client/events.js';
import type { Clock } from '../client/workqueue.js';
import { createControllerManager, type ControllerManager } from '../controllers/manager.js';
import type { ControllerContext } from '../controllers/controller.js';
import { CronJobController } from '../controllers/cronjob/cronjob.js';
import { startFakeKubelet, type FakeKubelet } from './fakekubelet.js';
import { until } from '../testing/wait.js';


/** Real time plus an offset the test moves forward; timers due after a jump fire at once. */
class TestClock implements Clock {
  private offset = 0;
  private readonly timers = new Set<{ at: number; fn: () => void; h: NodeJS.Timeout }>();
  now(): number {
    return Date.now() + this.offset;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const rec = { at: this.now() + ms, fn, h: undefined as unknown as NodeJS.Timeout };
    rec.h = setTimeout(() => {
      this.timers.delete(rec);
      fn();
    }, ms);
    rec.h.unref();
    this.timers.add(rec);
    return rec;
  }
  clearTimeout(h: unknown): void {
    const rec = h as { h: NodeJS.Timeout };
    clearTimeout(rec?.h);
    this.timers.delete(rec as any);
  }
  /** Moves to `t` (epoch ms) if that is later. */
  jumpTo(t: number): void {
    if (t <= this.now()) return;
    this.offset += t - this.now();
    for (const r of [...this.timers]) {
      if (r.at <= this.now()) {
        clearTimeout(r.h);
        this.timers.delete(r);
        r.fn();
      }
    }
  }
}

const kubectlMissing = which('kubectl') ? undefined : 'kubectl is not on PATH';

describe('batch controllers (kubectl)', () => {
  let c: TestCluster;
  let client: RestClient;
  let mgr: ControllerManager;
  let kubelet: FakeKubelet;
  let completer: Informer;
  before(async () => {
    c = await startTestCluster();
    client = new RestClient(configFromKubeconfig(c.kubeconfig, 'e2e-batch'));
    kubelet = await startFakeKubelet(client, { nodes: ['node-a', 'node-b'] });
    mgr = createControllerManager(client, { identity: 'e2e-batch', controllers: ['job', 'ttl-after-finished', 'garbage-collector', 'serviceaccount'] });
    await mgr.start();
    await mgr.whenRunning();
    // Containers "run" until the fake kubelet reports Running, then exit as labelled.
    completer = new Informer(client, { group: '', version: 'v1', resource: 'pods' });
    const finish = (p: any) => {
      if (p.status?.phase !== 'Running' || p.metadata.deletionTimestamp || p.metadata.labels?.['e2e/run'] === 'forever') return;
      if (!(p.metadata.ownerReferences ?? []).some((r: any) => r.kind === 'Job')) return;
      const code = Number(p.metadata.labels?.['e2e/exit'] ?? '0');
      const t = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const cond = (type: string) => ({ type, status: 'False', lastTransitionTime: t, reason: code ? 'PodFailed' : 'PodCompleted' });
      void client
        .patch(`/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}/status`, {
          status: {
            phase: code ? 'Failed' : 'Succeeded',
            conditions: [cond('Ready'), cond('ContainersReady')],
            containerStatuses: (p.spec.containers ?? []).map((ct: any) => ({ name: ct.name, image: ct.image, imageID: '', ready: false, restartCount: 0, started: false, state: { terminated: { exitCode: code, reason: code ? 'Error' : 'Completed', startedAt: t, finishedAt: t } } })),
          },
        }, 'strategic')
        .catch(() => undefined);
    };
    completer.addHandlers({ add: finish, update: (_o, p) => finish(p) });
    await completer.start();
  });
  after(async () => {
    completer?.stop();
    await mgr?.stop();
    await kubelet?.stop();
    client?.close();
    await c?.stop();
  });

  const k = (args: string[], input?: string) => c.run(args, input);
  const job = (name: string, spec: any, podLabels: Record<string, string> = {}) =>
    JSON.stringify({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name },
      spec: { ...spec, template: { metadata: { labels: podLabels }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['true'] }] } } },
    });
  const getJob = (name: string) => client.get(`/apis/batch/v1/namespaces/default/jobs/${name}`);
  const cond = (j: any, type: string) => (j.status?.conditions ?? []).find((x: any) => x.type === type && x.status === 'True');

  it('a Job with completions 5 and parallelism 2 completes, never running more than 2 pods', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    // Watch the job's pods from before its creation: at no point may more than 2 run.
    const watcher = new Informer(client, { group: '', version: 'v1', resource: 'pods', labelSelector: 'batch.kubernetes.io/job-name=five' });
    let maxActive = 0;
    const active = new Set<string>();
    const see = (p: any) => {
      const running = !['Succeeded', 'Failed'].includes(p.status?.phase) && !p.metadata.deletionTimestamp;
      if (running) active.add(keyOf(p));
      else active.delete(keyOf(p));
      maxActive = Math.max(maxActive, active.size);
    };
    watcher.addHandlers({ add: see, update: (_o, p) => see(p), delete: (p) => active.delete(keyOf(p)) });
    await watcher.start();
    try {
      await k(['apply', '-f', '-'], job('five', { completions: 5, parallelism: 2 }));
      await k(['wait', '--for=condition=complete', 'job/five', '--timeout=60s']);
    } finally {
      watcher.stop();
    }
    const j = await getJob('five');
    assert.equal(j.status.succeeded, 5);
    assert.equal(j.status.failed ?? 0, 0);
    assert.ok(j.status.completionTime);
    assert.ok(cond(j, 'SuccessCriteriaMet'), 'SuccessCriteriaMet precedes Complete');
    assert.equal(cond(j, 'Complete').reason, 'CompletionsReached');
    assert.ok(maxActive >= 1 && maxActive <= 2, `at most 2 pods ran at once (saw ${maxActive})`);
    const pods = (await client.get('/api/v1/namespaces/default/pods', { labelSelector: 'batch.kubernetes.io/job-name=five' })).items;
    assert.equal(pods.length, 5);
    for (const p of pods) assert.ok(!(p.metadata.finalizers ?? []).includes('batch.kubernetes.io/job-tracking'), 'tracking finalizer removed');
    const out = await k(['get', 'job', 'five']);
    assert.match(out, /five\s+Complete\s+5\/5/);
    const events = await k(['get', 'events', '--field-selector', 'involvedObject.name=five', '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}']);
    assert.match(events, /SuccessfulCreate/);
    assert.match(events, /Completed/);
  });

  it('an Indexed Job gives each pod its completion index', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    await k(['apply', '-f', '-'], job('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }));
    await k(['wait', '--for=condition=complete', 'job/idx', '--timeout=60s']);
    const j = await getJob('idx');
    assert.equal(j.status.completedIndexes, '0-2');
    const pods = (await client.get('/api/v1/namespaces/default/pods', { labelSelector: 'batch.kubernetes.io/job-name=idx' })).items;
    const idx = pods.map((p: any) => p.metadata.annotations['batch.kubernetes.io/job-completion-index']).sort();
    assert.deepEqual(idx, ['0', '1', '2']);
    for (const p of pods) {
      const i = p.metadata.annotations['batch.kubernetes.io/job-completion-index'];
      assert.equal(p.metadata.labels['batch.kubernetes.io/job-completion-index'], i);
      assert.equal(p.spec.hostname, `idx-${i}`);
      assert.ok(p.metadata.name.startsWith(`idx-${i}-`));
      const env = p.spec.containers[0].env.find((e: any) => e.name === 'JOB_COMPLETION_INDEX');
      assert.equal(env.valueFrom.fieldRef.fieldPath, "metadata.annotations['batch.kubernetes.io/job-completion-index']");
    }
  });

  it('backoffLimit and podFailurePolicy fail Jobs with upstream reasons', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    await k(['apply', '-f', '-'], job('boom', { backoffLimit: 0 }, { 'e2e/exit': '1' }));
    const policy = { rules: [{ action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } }] };
    await k(['apply', '-f', '-'], job('fatal', { backoffLimit: 6, podFailurePolicy: policy }, { 'e2e/exit': '42' }));
    await k(['wait', '--for=condition=failed', 'job/boom', 'job/fatal', '--timeout=60s']);
    const boom = await getJob('boom');
    assert.equal(cond(boom, 'Failed').reason, 'BackoffLimitExceeded');
    assert.equal(cond(boom, 'Failed').message, 'Job has reached the specified backoff limit');
    assert.equal(boom.status.failed, 1);
    const fatal = await getJob('fatal');
    assert.equal(cond(fatal, 'Failed').reason, 'PodFailurePolicy');
    assert.match(cond(fatal, 'Failed').message, /^Container main for pod default\/fatal-\w+ failed with exit code 42 matching FailJob rule at index 0$/);
    assert.equal(fatal.status.failed, 1, 'no retry after FailJob');
    const events = await k(['get', 'events', '--field-selector', 'involvedObject.name=boom', '-o', 'jsonpath={range .items[*]}{.type}/{.reason}{"\\n"}{end}']);
    assert.match(events, /Warning\/BackoffLimitExceeded/);
  });

  it('suspend holds a Job; resuming runs it; ttlSecondsAfterFinished deletes it', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    await k(['apply', '-f', '-'], job('later', { suspend: true, ttlSecondsAfterFinished: 0 }));
    const suspended = await until('Suspended condition', async () => cond(await getJob('later'), 'Suspended') && (await getJob('later')));
    assert.equal(cond(suspended, 'Suspended').reason, 'JobSuspended');
    assert.equal((await client.get('/api/v1/namespaces/default/pods', { labelSelector: 'batch.kubernetes.io/job-name=later' })).items.length, 0);
    await k(['patch', 'job', 'later', '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    // Completes, then the TTL controller deletes it (and the garbage collector its pods).
    await until('job deleted after finishing', async () => {
      try {
        await getJob('later');
        return false;
      } catch (e) {
        return (e as any).status === 404;
      }
    });
    await until('pods collected', async () => (await client.get('/api/v1/namespaces/default/pods', { labelSelector: 'batch.kubernetes.io/job-name=later' })).items.length === 0);
  });

  it('a CronJob runs on schedule under a test clock and keeps its history limit', async (t) => {
    if (!needs(t, kubectlMissing)) return;
    // The CronJob controller runs beside the manager with its own clock, which the test moves.
    const clock = new TestClock();
    const informers = new SharedInformerFactory(client);
    const ctx: ControllerContext = { client, informers, recorder: (component) => new EventRecorder(client, { component, host: 'e2e' }), clock, identity: 'e2e', log: () => undefined };
    const cron = new CronJobController(ctx);
    await informers.start();
    cron.run();
    try {
      let r = await c.kubectl(['create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/1 * * * *', '--', 'true']);
      if (r.code !== 0) {
        t.diagnostic(`kubectl create cronjob failed (${r.stderr.trim()}); using kubectl apply`);
        r = await c.kubectl(['apply', '-f', '-'], {
          input: JSON.stringify({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'tick' }, spec: { schedule: '*/1 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'tick', image: 'busybox', command: ['true'] }] } } } } } }),
        });
        assert.equal(r.code, 0, r.stderr);
      }
      await k(['patch', 'cronjob', 'tick', '--type=merge', '-p', '{"spec":{"successfulJobsHistoryLimit":2}}']);
      const jobsOf = async () => (await client.get('/apis/batch/v1/namespaces/default/jobs')).items.filter((j: any) => j.metadata.ownerReferences?.[0]?.name === 'tick');
      assert.equal((await jobsOf()).length, 0, 'nothing before the first minute');
      const names = new Set<string>();
      for (let i = 1; i <= 3; i++) {
        const next = (Math.floor(clock.now() / 60_000) + 1) * 60_000;
        clock.jumpTo(next + 1000);
        const expected = `tick-${next / 60_000}`;
        const j = await until(`job ${expected}`, async () => (await jobsOf()).find((x: any) => x.metadata.name === expected));
        names.add(j.metadata.name);
        assert.equal(j.metadata.ownerReferences[0].kind, 'CronJob');
        assert.ok(j.metadata.annotations['batch.kubernetes.io/cronjob-scheduled-timestamp']);
        await k(['wait', '--for=condition=complete', `job/${expected}`, '--timeout=60s']);
        const cj = await until('SawCompletedJob recorded', async () => {
          const x = await client.get('/apis/batch/v1/namespaces/default/cronjobs/tick');
          return x.status?.lastSuccessfulTime && !(x.status.active ?? []).length && Date.parse(x.status.lastScheduleTime) === next && x;
        });
        assert.equal(cj.status.lastScheduleTime, new Date(next).toISOString().replace('.000Z', 'Z'));
      }
      // Three ran; the oldest was pruned to keep two.
      await until('history limited to 2', async () => (await jobsOf()).filter((j: any) => !j.metadata.deletionTimestamp).length === 2);
      const events = await k(['get', 'events', '--field-selector', 'involvedObject.name=tick', '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}']);
      for (const reason of ['SuccessfulCreate', 'SawCompletedJob', 'SuccessfulDelete']) assert.match(events, new RegExp(reason));
      assert.match(await k(['get', 'cronjob', 'tick']), /tick\s+\*\/1 \* \* \* \*/);
    } finally {
      cron.stop();
      informers.stop();
    }
  });
});
