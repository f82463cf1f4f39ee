/** flowcontrol.apiserver.k8s.io/v1 FlowSchemas and PriorityLevelConfigurations, with upstream's columns. */
import type { Printer } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, col, int, str } from './common.js';
import { formatAge } from './duration.js';

export const flowSchemaPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('PriorityLevel', 'string', '`name` is the name of the priority level configuration being referenced'),
    col('MatchingPrecedence', 'string', '`matchingPrecedence` is used to choose among the FlowSchemas that match a given request.'),
    col('DistinguisherMethod', 'string', '`distinguisherMethod` defines how to compute the flow distinguisher for requests that match this schema.'),
    AGE_COLUMN,
    col('MissingPL', 'string', 'references a broken or non-existent PriorityLevelConfiguration'),
  ],
  cells(fs: any, now: Date): unknown[] {
    const s = fs?.spec ?? {};
    const dm = s.distinguisherMethod;
    const conds: any[] = Array.isArray(fs?.status?.conditions) ? fs.status.conditions : [];
    const dangling = conds.find((c) => c?.type === 'Dangling');
    return [str(fs?.metadata?.name), str(s.priorityLevelConfiguration?.name), int(s.matchingPrecedence), dm && typeof dm === 'object' ? str(dm.type) : '<none>', formatAge(fs?.metadata?.creationTimestamp, now), dangling ? str(dangling.status) : '?'];
  },
  // As upstream's FlowSchemaSequence: the order requests are matched in (precedence, then name).
  order(a: any, b: any): number {
    const pa = Number(a?.spec?.matchingPrecedence) || 0;
    const pb = Number(b?.spec?.matchingPrecedence) || 0;
    if (pa !== pb) return pa - pb;
    const na = String(a?.metadata?.name ?? '');
    const nb = String(b?.metadata?.name ?? '');
    return na < nb ? -1 : na > nb ? 1 : 0;
  },
};

export const priorityLevelConfigurationPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Type', 'string', '`type` indicates whether this priority level is subject to limitation on request execution.'),
    col('NominalConcurrencyShares', 'string', '`nominalConcurrencyShares` (NCS) contributes to the computation of the NominalConcurrencyLimit (NominalCL) of this level.'),
    col('Queues', 'string', '`queues` is the number of queues for this priority level.'),
    col('HandSize', 'string', '`handSize` is a small positive number that configures the shuffle sharding of requests into queues.'),
    col('QueueLengthLimit', 'string', '`queueLengthLimit` is the maximum number of requests allowed to be waiting in a given queue of this priority level at a time.'),
    AGE_COLUMN,
  ],
  cells(pl: any, now: Date): unknown[] {
    const s = pl?.spec ?? {};
    let ncs: unknown = '<none>';
    let queues: unknown = '<none>';
    let handSize: unknown = '<none>';
    let qll: unknown = '<none>';
    const l = s.limited;
    if (l && typeof l === 'object') {
      ncs = int(l.nominalConcurrencyShares);
      const q = l.limitResponse?.queuing;
      if (q && typeof q === 'object') {
        queues = int(q.queues);
        handSize = int(q.handSize);
        qll = int(q.queueLengthLimit);
      }
    }
    return [str(pl?.metadata?.name), str(s.type), ncs, queues, handSize, qll, formatAge(pl?.metadata?.creationTimestamp, now)];
  },
};
