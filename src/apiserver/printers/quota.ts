/** ResourceQuotas: "used/hard" per resource, requests and limits in separate columns. */
import type { Printer } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, col, str } from './common.js';
import { formatAge } from './duration.js';
import { formatQuantity } from './quantity.js';

function quotaColumns(rq: any): [string, string] {
  const hard: Record<string, unknown> = rq?.status?.hard ?? {};
  const used: Record<string, unknown> = rq?.status?.used ?? {};
  const request: string[] = [];
  const limit: string[] = [];
  // Byte-wise order, as Go sorts the resource names.
  for (const resource of Object.keys(hard).sort()) {
    const pieces = resource.split('.');
    // "limits.cpu" and the like go to the Limit column; everything else is a request.
    const target = pieces.length > 1 && pieces[0] === 'limits' ? limit : request;
    target.push(`${resource}: ${formatQuantity(used[resource])}/${formatQuantity(hard[resource])}`);
  }
  return [request.join(', '), limit.join(', ')];
}

export const resourceQuotaPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
    col(
      'Limit',
      'string',
      'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.',
    ),
    AGE_COLUMN,
  ],
  cells(rq: any, now: Date): unknown[] {
    const [request, limit] = quotaColumns(rq);
    return [str(rq?.metadata?.name), request, limit, formatAge(rq?.metadata?.creationTimestamp, now)];
  },
};
