import { printerFor as builtinPrinter } from './printers/index.js';
import { customPrinter } from './crd/custom.js';
import type { Printer } from './printers/types.js';

const customPrinters = new WeakMap<ResourceInfo, Printer>();
function printerOf(info: ResourceInfo): Printer {
  if (!info.custom) return builtinPrinter(info.key);
  let p = customPrinters.get(info);
  if (!p) customPrinters.set(info, (p = customPrinter(info)));
  return p;
}
import type { ResourceInfo } from './resources.js';
import type { TableColumn } from './printers/types.js';

/** What the client asked the response to be, from its Accept header. */
export type ResponseForm = 'object' | 'table' | 'metadata';

/**
 * Picks the first form of the Accept list the server can produce, as upstream's negotiation:
 * `application/json;as=Table;v=v1;g=meta.k8s.io` → table, PartialObjectMetadata(List) → metadata.
 */
export function negotiateForm(accept: string | undefined): ResponseForm | 'unacceptable' {
  if (!accept) return 'object';
  for (const clause of accept.split(',')) {
    const [type, ...params] = clause.split(';').map((s) => s.trim());
    const p = Object.fromEntries(params.map((x) => x.split('=').map((s) => s.trim())));
    const t = type.toLowerCase();
    if (t !== 'application/json' && t !== '*/*' && t !== 'application/*' && t !== 'application/yaml') continue;
    if (!p.as) return 'object';
    if (p.g !== 'meta.k8s.io' || (p.v !== 'v1' && p.v !== 'v1beta1')) continue;
    if (p.as === 'Table') return 'table';
    if (p.as === 'PartialObjectMetadata' || p.as === 'PartialObjectMetadataList') return 'metadata';
  }
  return 'unacceptable';
}

export function partialObjectMetadata(obj: any): any {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export function tableColumns(info: ResourceInfo): TableColumn[] {
  return printerOf(info).columns;
}

/** A Table of rows; `includeObject` is None, Metadata (default) or Object. */
export function toTable(info: ResourceInfo, objs: any[], opts: { includeObject?: string; resourceVersion?: string; continue?: string; remainingItemCount?: number; columns?: boolean }, now = new Date()): any {
  const printer = printerOf(info);
  const rows = (printer.order ? [...objs].sort(printer.order) : objs).map((o) => {
    const row: any = { cells: printer.cells(o, now) };
    const inc = opts.includeObject ?? 'Metadata';
    if (inc === 'Object') row.object = o;
    else if (inc !== 'None') row.object = partialObjectMetadata(o);
    return row;
  });
  const meta: any = {};
  if (opts.resourceVersion) meta.resourceVersion = opts.resourceVersion;
  if (opts.continue) meta.continue = opts.continue;
  if (opts.remainingItemCount !== undefined) meta.remainingItemCount = opts.remainingItemCount;
  const t: any = { kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: meta };
  t.columnDefinitions = opts.columns === false ? null : printer.columns;
  t.rows = rows;
  return t;
}
