/**
 * Custom resources: the Name column plus the CRD version's additionalPrinterColumns, as the
 * apiextensions table convertor builds them. Without any columns the CRD serves a single
 * "Age" column (type date) which prints as an age, not as the "Created At" timestamp
 * built-in kinds without a printer show.
 */
import type { Printer, TableColumn } from './types.js';
import { NAME_COLUMN, str } from './common.js';
import { OBJECT_META } from './descriptions.js';
import { formatAge } from './duration.js';
import { evaluate, parseJsonPath } from './jsonpath.js';

/** apiextensions.k8s.io/v1 CustomResourceColumnDefinition. */
export interface CustomResourceColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath: string;
}

const DEFAULT_COLUMNS: CustomResourceColumn[] = [
  { name: 'Age', type: 'date', description: OBJECT_META.creationTimestamp, jsonPath: '.metadata.creationTimestamp' },
];

/**
 * A JSON number as jsonpath prints it. Whole numbers decode as int64 and print plainly; others
 * are float64 under Go's %v: shortest digits, exponent form when the exponent is below -4 or at
 * least 6 ("1.2345675e+06", "1e-07").
 */
function goNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  const [mant, exp] = n.toExponential().split('e') as [string, string];
  const e = Number(exp);
  if (e < -4 || e >= 6) return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return String(n);
}

/** encoding/json output: sorted keys, HTML-sensitive characters escaped. */
function goJson(v: unknown): string {
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort);
    if (x && typeof x === 'object') {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) o[k] = sort((x as Record<string, unknown>)[k]);
      return o;
    }
    return x;
  };
  return JSON.stringify(sort(v))
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** How jsonpath's PrintResults renders a value for a "string" column: objects and arrays as JSON. */
function printResult(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return goNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return goJson(v);
}

/** RFC 3339 as metav1.Time.UnmarshalQueryParameter accepts it. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** cellForJSONValue: a typed cell, or null when the value does not fit the column type. */
function typedCell(type: string, v: unknown, now: Date): unknown {
  if (v === null || v === undefined) return null;
  switch (type) {
    case 'integer':
      return typeof v === 'number' ? Math.trunc(v) : null;
    case 'number':
      return typeof v === 'number' ? v : null;
    case 'boolean':
      return typeof v === 'boolean' ? v : null;
    case 'date':
      if (typeof v !== 'string') return null;
      if (v === '' || v === 'null') return '<unknown>';
      if (!RFC3339.test(v)) return '<invalid>';
      return formatAge(v, now);
  }
  return null;
}

/** The printer for a custom resource version with these additionalPrinterColumns. */
export function customResourcePrinter(additionalPrinterColumns?: CustomResourceColumn[] | null): Printer {
  const defs = additionalPrinterColumns && additionalPrinterColumns.length > 0 ? additionalPrinterColumns : DEFAULT_COLUMNS;
  const columns: TableColumn[] = [NAME_COLUMN];
  const paths = defs.map((d) => {
    columns.push({
      name: d.name,
      type: d.type,
      format: d.format ?? '',
      description: d.description ? d.description : `Custom resource definition column (in JSONPath format): ${d.jsonPath}`,
      priority: d.priority ?? 0,
    });
    try {
      return parseJsonPath(d.jsonPath);
    } catch {
      // Upstream keeps serving the CRD; a column it cannot evaluate stays empty.
      return undefined;
    }
  });
  return {
    columns,
    cells(obj: any, now: Date): unknown[] {
      const cells: unknown[] = [str(obj?.metadata?.name)];
      paths.forEach((path, i) => {
        const results = path ? evaluate(obj, path) : [];
        if (results.length === 0) {
          cells.push(null);
          return;
        }
        // Only the first match is shown.
        const v = results[0];
        const type = defs[i]!.type;
        cells.push(type === 'string' ? printResult(v) : typedCell(type, v, now));
      });
      return cells;
    },
  };
}
