/** coordination.k8s.io/v1 Leases: who holds each lease. */
import type { Printer } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, col, str } from './common.js';
import { LEASE_HOLDER } from './descriptions.js';
import { formatAge } from './duration.js';

export const leasePrinter: Printer = {
  columns: [NAME_COLUMN, col('Holder', 'string', LEASE_HOLDER), AGE_COLUMN],
  cells(l: any, now: Date): unknown[] {
    return [str(l?.metadata?.name), str(l?.spec?.holderIdentity), formatAge(l?.metadata?.creationTimestamp, now)];
  },
};
