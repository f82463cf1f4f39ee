import type { AdmissionPlugin, AdmissionRequest } from './types.js';
import { priorityPlugin } from './priority.js';
import { runtimeClassPlugin } from './runtimeclass.js';

export type { AdmissionPlugin, AdmissionRequest } from './types.js';

/** The admission chain in upstream's order (the ones Skiff has so far). */
export const DEFAULT_PLUGINS: AdmissionPlugin[] = [priorityPlugin, runtimeClassPlugin];

export async function runAdmission(plugins: AdmissionPlugin[], req: AdmissionRequest): Promise<void> {
  const active = plugins.filter((p) => p.handles(req));
  for (const p of active) if (p.admit) await p.admit(req);
  for (const p of active) if (p.validate) await p.validate(req);
}
