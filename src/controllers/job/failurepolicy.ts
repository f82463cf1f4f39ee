/** spec.podFailurePolicy evaluation (upstream's matchPodFailurePolicy), pure. */

export type FailureAction = 'FailJob' | 'FailIndex' | 'Ignore' | 'Count';

export interface PolicyMatch {
  action: FailureAction;
  /** For FailJob: the Job's failure message, in upstream's words. */
  message?: string;
}

/** The first rule matching a failed pod, or undefined (then the failure counts, as upstream). */
export function matchPodFailurePolicy(policy: any, pod: any): PolicyMatch | undefined {
  const rules: any[] = policy?.rules ?? [];
  const who = `${pod.metadata.namespace}/${pod.metadata.name}`;
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    if (r.onExitCodes) {
      const codes: number[] = r.onExitCodes.values ?? [];
      const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
      for (const cs of statuses) {
        if (r.onExitCodes.containerName && r.onExitCodes.containerName !== cs.name) continue;
        const code = cs.state?.terminated?.exitCode;
        // Exit code 0 is success, never a match (upstream skips it for both operators).
        if (typeof code !== 'number' || code === 0) continue;
        const hit = r.onExitCodes.operator === 'In' ? codes.includes(code) : r.onExitCodes.operator === 'NotIn' ? !codes.includes(code) : false;
        if (hit) return { action: r.action, message: `Container ${cs.name} for pod ${who} failed with exit code ${code} matching ${r.action} rule at index ${i}` };
      }
    }
    for (const pat of r.onPodConditions ?? []) {
      const c = (pod.status?.conditions ?? []).find((x: any) => x.type === pat.type && x.status === (pat.status ?? 'True'));
      if (c) return { action: r.action, message: `Pod ${who} has condition ${pat.type} matching ${r.action} rule at index ${i}` };
    }
  }
  return undefined;
}
