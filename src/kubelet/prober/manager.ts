/**
 * Probe workers per container, with upstream's timing semantics (pkg/kubelet/prober/worker.go):
 * nothing runs before initialDelaySeconds; then one attempt every periodSeconds, each bounded by
 * timeoutSeconds; a result flips after successThreshold consecutive successes or failureThreshold
 * consecutive failures. Until the startup probe succeeds, liveness and readiness do not run.
 * Initial results: readiness Failure, liveness Success, startup "not started".
 */
import type { Clock } from '../../client/workqueue.js';
import type { Runtime } from '../../runtime/cri.js';
import type { EventSink, ProbeView } from '../podworker/worker.js';
import { fieldPathOf } from '../podworker/worker.js';
import { runProbe, type ProbeOutcome } from './probe.js';

type Kind = 'Liveness' | 'Readiness' | 'Startup';

interface ContainerProbes {
  uid: string;
  name: string;
  started: boolean;
  ready: boolean;
  failure?: { probe: 'Liveness' | 'Startup'; message: string };
  timers: Set<unknown>;
  stopped: boolean;
}

export interface ProbeManagerOptions {
  runtime: Runtime;
  clock: Clock;
  events: EventSink;
  /** A result changed: the pod needs a sync. */
  onChange(uid: string): void;
  podIP(uid: string): string;
  /** Injectable for tests. */
  run?: (probe: any, ctx: { runtime: Runtime; containerId: string; podIP: string; container: any }) => Promise<ProbeOutcome>;
}

export class ProbeManager implements ProbeView {
  private readonly byId = new Map<string, ContainerProbes>();

  constructor(private readonly o: ProbeManagerOptions) {}

  ready(_uid: string, _name: string, id: string): boolean {
    return this.byId.get(id)?.ready ?? true;
  }
  started(_uid: string, _name: string, id: string): boolean {
    return this.byId.get(id)?.started ?? true;
  }
  failure(_uid: string, _name: string, id: string) {
    return this.byId.get(id)?.failure;
  }

  containerStarted(pod: any, spec: any, id: string, isInit: boolean): void {
    const sidecarOrApp = !isInit || spec.restartPolicy === 'Always';
    const st: ContainerProbes = {
      uid: pod.metadata.uid,
      name: spec.name,
      started: !(sidecarOrApp && spec.startupProbe),
      ready: !(sidecarOrApp && spec.readinessProbe),
      timers: new Set(),
      stopped: false,
    };
    this.byId.set(id, st);
    if (!sidecarOrApp) return;
    if (spec.startupProbe) this.worker(pod, spec, id, st, 'Startup', spec.startupProbe);
    else this.startMain(pod, spec, id, st);
  }

  private startMain(pod: any, spec: any, id: string, st: ContainerProbes): void {
    if (spec.livenessProbe) this.worker(pod, spec, id, st, 'Liveness', spec.livenessProbe);
    if (spec.readinessProbe) this.worker(pod, spec, id, st, 'Readiness', spec.readinessProbe);
  }

  containerStopped(_uid: string, id: string): void {
    const st = this.byId.get(id);
    if (!st) return;
    st.stopped = true;
    for (const t of st.timers) this.o.clock.clearTimeout(t);
    this.byId.delete(id);
  }

  podRemoved(uid: string): void {
    for (const [id, st] of this.byId) if (st.uid === uid) this.containerStopped(uid, id);
  }

  stopAll(): void {
    for (const [id, st] of this.byId) this.containerStopped(st.uid, id);
  }

  private worker(pod: any, spec: any, id: string, st: ContainerProbes, kind: Kind, probe: any): void {
    const period = Math.max(1, probe.periodSeconds ?? 10) * 1000;
    const successThreshold = Math.max(1, probe.successThreshold ?? 1);
    const failureThreshold = Math.max(1, probe.failureThreshold ?? 3);
    const run = this.o.run ?? runProbe;
    let successes = 0;
    let failures = 0;
    const schedule = (ms: number) => {
      const t = this.o.clock.setTimeout(() => {
        st.timers.delete(t);
        void tick();
      }, ms);
      st.timers.add(t);
    };
    const tick = async () => {
      if (st.stopped) return;
      const out = await run(probe, { runtime: this.o.runtime, containerId: id, podIP: this.o.podIP(st.uid), container: spec });
      if (st.stopped) return;
      if (out.ok) {
        failures = 0;
        successes++;
      } else {
        successes = 0;
        failures++;
        this.o.events(pod, 'Warning', 'Unhealthy', `${kind} probe failed: ${out.output.trim()}`.slice(0, 1000), fieldPathOf(pod, spec.name));
      }
      if (kind === 'Startup') {
        if (successes >= successThreshold) {
          st.started = true;
          this.o.onChange(st.uid);
          this.startMain(pod, spec, id, st);
          return;
        }
        if (failures >= failureThreshold) {
          st.failure = { probe: 'Startup', message: out.output };
          this.o.onChange(st.uid);
          return;
        }
      } else if (kind === 'Liveness') {
        if (failures >= failureThreshold) {
          st.failure = { probe: 'Liveness', message: out.output };
          this.o.onChange(st.uid);
          return;
        }
      } else {
        const before = st.ready;
        if (successes >= successThreshold) st.ready = true;
        if (failures >= failureThreshold) st.ready = false;
        if (st.ready !== before) this.o.onChange(st.uid);
      }
      schedule(period);
    };
    schedule(Math.max(0, (probe.initialDelaySeconds ?? 0) * 1000));
  }
}
