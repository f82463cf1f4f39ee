/** v1 ComponentStatus: the Healthy condition's verdict, message and error, as upstream's printComponentStatus. */
import type { Printer } from './types.js';
import { NAME_COLUMN, col, str } from './common.js';

export const componentStatusPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Status', 'string', 'Status of the component conditions'),
    col('Message', 'string', 'Message of the component conditions'),
    col('Error', 'string', 'Error of the component conditions'),
  ],
  cells(cs: any): unknown[] {
    const c = (cs?.conditions ?? []).find((x: any) => x?.type === 'Healthy');
    const status = !c ? 'Unknown' : c.status === 'True' ? 'Healthy' : 'Unhealthy';
    return [str(cs?.metadata?.name), status, str(c?.message), str(c?.error)];
  },
};
