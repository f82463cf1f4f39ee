/** apiregistration.k8s.io/v1 APIServices: kube-aggregator's own table (NAME, SERVICE, AVAILABLE, AGE). */
import type { Printer } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, col, str } from './common.js';
import { formatAge } from './duration.js';

export const apiServicePrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Service', 'string', 'The reference to the service that hosts this API endpoint.'),
    col('Available', 'string', 'Whether this service is available.'),
    AGE_COLUMN,
  ],
  cells(obj: any, now: Date): unknown[] {
    const svc = obj?.spec?.service;
    const service = svc !== null && typeof svc === 'object' ? `${str(svc.namespace)}/${str(svc.name)}` : 'Local';
    const conds: any[] = Array.isArray(obj?.status?.conditions) ? obj.status.conditions : [];
    const c = conds.find((x) => x?.type === 'Available');
    // True alone; otherwise the reason, when there is one, beside the status.
    let available = 'Unknown';
    if (c) available = c.status === 'True' || !c.reason ? str(c.status) : `${str(c.status)} (${str(c.reason)})`;
    return [str(obj?.metadata?.name), service, available, formatAge(obj?.metadata?.creationTimestamp, now)];
  },
};
