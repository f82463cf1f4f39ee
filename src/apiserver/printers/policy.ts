/** policy/v1 PodDisruptionBudgets and scheduling.k8s.io/v1 PriorityClasses, with upstream's columns. */
import type { Printer } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, col, str } from './common.js';
import { formatAge } from './duration.js';

const intOrStr = (v: unknown) => (v === undefined || v === null ? 'N/A' : String(v));

export const podDisruptionBudgetPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Min Available', 'string', 'The minimum number of pods that must be available.'),
    col('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
    col('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
    AGE_COLUMN,
  ],
  cells(p: any, now: Date): unknown[] {
    return [str(p?.metadata?.name), intOrStr(p?.spec?.minAvailable), intOrStr(p?.spec?.maxUnavailable), p?.status?.disruptionsAllowed ?? 0, formatAge(p?.metadata?.creationTimestamp, now)];
  },
};

export const priorityClassPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Value', 'integer', "The value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec."),
    col('Global-Default', 'boolean', 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class.'),
    AGE_COLUMN,
    col('PreemptionPolicy', 'string', 'PreemptionPolicy is the Policy for preempting pods with lower priority.'),
  ],
  cells(p: any, now: Date): unknown[] {
    return [str(p?.metadata?.name), p?.value ?? 0, p?.globalDefault ?? false, formatAge(p?.metadata?.creationTimestamp, now), p?.preemptionPolicy ?? 'PreemptLowerPriority'];
  },
};
