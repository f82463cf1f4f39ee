/** The Invalid (422) Status message and body, as errors.NewInvalid builds them. */
import type { FieldError } from './types.js';
import { errorString, goQuote } from './errors.js';

/** utilerrors.Aggregate.Error() over field errors, with upstream's de-duplication. */
export function aggregateMessage(errors: readonly FieldError[]): string {
  const seen: string[] = [];
  for (const e of errors) {
    const s = errorString(e);
    if (!seen.includes(s)) seen.push(s);
  }
  if (seen.length === 1) return seen[0];
  return '[' + seen.join(', ') + ']';
}

/**
 * `Pod "x" is invalid: spec.containers[0].name: Required value`, or `[a, b]` for several.
 * `kind` is the qualified kind upstream prints (GroupKind.String()), e.g. "Deployment.apps";
 * pass `group` to have it appended for you.
 */
export function formatInvalidMessage(kind: string, name: string, errors: readonly FieldError[], group?: string): string {
  const qualified = group ? `${kind}.${group}` : kind;
  return `${qualified} ${goQuote(name)} is invalid: ${aggregateMessage(errors)}`;
}

export interface InvalidStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: 'Invalid';
  details: { name?: string; group?: string; kind: string; causes: { reason: string; message: string; field: string }[] };
  code: 422;
}

/** The whole Status body of an Invalid error (details.kind is the Kind, details.group its group). */
export function invalidStatus(kind: string, group: string, name: string, errors: readonly FieldError[]): InvalidStatus {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: formatInvalidMessage(kind, name, errors, group || undefined),
    reason: 'Invalid',
    // Empty name and group are omitted, as Go's omitempty does.
    details: {
      ...(name ? { name } : {}),
      ...(group ? { group } : {}),
      kind,
      causes: errors.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
    },
    code: 422,
  };
}
