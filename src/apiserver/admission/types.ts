import type { Registry } from '../registry.js';
import type { ResourceInfo } from '../resources.js';
import type { UserInfo } from '../auth/types.js';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

export interface AdmissionRequest {
  info: ResourceInfo;
  operation: Operation;
  /** The object being written (mutable for mutating plugins). */
  object: any;
  oldObject?: any;
  namespace?: string;
  subresource?: string;
  dryRun: boolean;
  registry: Registry;
  user?: UserInfo;
  /** Warnings for the client (Warning headers); the registry passes WriteOptions.warnings. */
  warnings?: string[];
  /** Audit annotations plugins add (e.g. pod-security.kubernetes.io/audit-violations). */
  auditAnnotations?: Record<string, string>;
}

/**
 * One admission plugin, as upstream's admission.Interface: `admit` may change the object, `validate`
 * may only refuse it (by throwing a StatusError). Mutating plugins all run before validating ones.
 */
export interface AdmissionPlugin {
  readonly name: string;
  handles(req: AdmissionRequest): boolean;
  admit?(req: AdmissionRequest): void | Promise<void>;
  validate?(req: AdmissionRequest): void | Promise<void>;
}
