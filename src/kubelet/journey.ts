/**
 * The kubelet's part of the pod journey: when it first saw the pod, set up volumes, got the
 * sandbox and IP, ran each init container, started the containers, and saw the pod Ready (or
 * completed). Millisecond timestamps are kept in memory and written once, as the pod annotation
 * `skiff.dev/journey`, when the pod becomes Ready or finishes; `skiff trace` reads it alongside
 * Events and conditions.
 */
export const JOURNEY_ANNOTATION = 'skiff.dev/journey';

export interface JourneyStep {
  step: string;
  at: string;
  detail?: string;
}

export interface JourneyRecord {
  node?: string;
  steps: JourneyStep[];
}

interface Track {
  node?: string;
  steps: JourneyStep[];
  flushed: boolean;
  done: boolean;
}

export class Journey {
  private readonly tracks = new Map<string, Track>();

  record(pod: any, step: string, at: number, detail?: string): void {
    const uid = pod.metadata.uid;
    let t = this.tracks.get(uid);
    if (!t) this.tracks.set(uid, (t = { node: pod.spec?.nodeName, steps: [], flushed: false, done: false }));
    if (t.steps.some((s) => s.step === step)) return;
    t.steps.push({ step, at: new Date(at).toISOString(), ...(detail ? { detail } : {}) });
    if (step === 'ready' || step === 'completed') t.done = true;
  }

  /** The annotation value, once, after the pod became Ready or finished. */
  flushable(uid: string): string | undefined {
    const t = this.tracks.get(uid);
    if (!t || !t.done || t.flushed) return undefined;
    t.flushed = true;
    return JSON.stringify({ node: t.node, steps: t.steps } satisfies JourneyRecord);
  }

  /** The write carrying it failed: offer it again with the next status. */
  unflush(uid: string): void {
    const t = this.tracks.get(uid);
    if (t) t.flushed = false;
  }

  forget(uid: string): void {
    this.tracks.delete(uid);
  }
}
