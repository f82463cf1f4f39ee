/** Namespaces: name, phase (Active/Terminating) and age. */
import type { Printer } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, col, str } from './common.js';
import { formatAge } from './duration.js';

export const namespacePrinter: Printer = {
  columns: [NAME_COLUMN, col('Status', 'string', 'The status of the namespace'), AGE_COLUMN],
  cells(ns: any, now: Date): unknown[] {
    return [str(ns?.metadata?.name), str(ns?.status?.phase), formatAge(ns?.metadata?.creationTimestamp, now)];
  },
};
