/**
 * Lifecycle hooks (postStart, preStop), as upstream's lifecycle.handlerRunner: exec runs in the
 * container, httpGet asks the pod, sleep waits. A failure comes back as upstream's message, which
 * the worker puts in the FailedPostStartHook event (preStop failures carry only "PreStopHook failed").
 */
import type { Runtime } from '../runtime/cri.js';
import { runProbe } from './prober/probe.js';
import { goQuote } from '../apiserver/validation/errors.js';

/** How runProbe reports an answer outside 200–399 (see prober/probe.ts). */
const HTTP_STATUS_FAILURE = 'HTTP probe failed with statuscode:';

const podDesc = (pod: any) => `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;

/** Runs one handler; resolves to upstream's failure message, or undefined when it succeeded. */
export async function runHook(runtime: Runtime, pod: any, spec: any, containerId: string, handler: any, podIP: string, timeoutSec: number): Promise<string | undefined> {
  if (handler.sleep) {
    await new Promise((r) => setTimeout(r, Math.min(handler.sleep.seconds ?? 0, timeoutSec) * 1000));
    return undefined;
  }
  if (handler.exec) {
    const cmd: string[] = handler.exec.command ?? [];
    // Upstream prints the command with %v ([a b c]), the CRI's exit error (the command joined with
    // spaces, the exit code and stderr), then all output quoted.
    const head = `Exec lifecycle hook ([${cmd.join(' ')}]) for Container ${goQuote(spec.name)} in Pod ${goQuote(podDesc(pod))} failed - error: `;
    try {
      const r = await runtime.execSync(containerId, cmd, timeoutSec);
      if (r.exitCode === 0) return undefined;
      const output = Buffer.concat([r.stdout, r.stderr]).toString();
      return `${head}command '${cmd.join(' ')}' exited with ${r.exitCode}: ${r.stderr.toString()}, message: ${goQuote(output)}`;
    } catch (e) {
      return `${head}${(e as Error).message}, message: ""`;
    }
  }
  if (handler.httpGet) {
    const out = await runProbe({ httpGet: handler.httpGet, timeoutSeconds: timeoutSec }, { runtime, containerId, podIP, container: spec });
    // Any answer will do: upstream's hook fails only when the request does (no status code check).
    if (out.ok || out.output.startsWith(HTTP_STATUS_FAILURE)) return undefined;
    return `HTTP lifecycle hook (${handler.httpGet.path ?? ''}) for Container ${goQuote(spec.name)} in Pod ${goQuote(podDesc(pod))} failed - error: ${out.output.trim()}`;
  }
  return undefined;
}
