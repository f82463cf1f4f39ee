/** Small helpers shared by the printers: column constructors and upstream's list formatting. */
import type { TableColumn } from './types.js';
import { OBJECT_META } from './descriptions.js';

/** A column shown by default. */
export function col(name: string, type: string, description: string): TableColumn {
  return { name, type, format: '', description, priority: 0 };
}

/** A column shown only with -o wide. */
export function wide(name: string, type: string, description: string): TableColumn {
  return { name, type, format: '', description, priority: 1 };
}

/** The "Name" column every printer starts with. */
export const NAME_COLUMN: TableColumn = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: OBJECT_META.name,
  priority: 0,
};

/** The "Age" column. */
export const AGE_COLUMN: TableColumn = col('Age', 'string', OBJECT_META.creationTimestamp);

/** A string field, "" when absent (Go's zero value). */
export function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
}

/** An integer field, 0 when absent (Go's zero value). */
export function int(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : 0;
}

/** len() of a JSON array, 0 when absent. */
export function len(v: unknown): number {
  return Array.isArray(v) ? v.length : 0;
}

/** len() of a JSON map, 0 when absent. */
export function mapLen(v: unknown): number {
  return v && typeof v === 'object' ? Object.keys(v).length : 0;
}

/** layoutContainerCells: container names and images, each joined by commas. */
export function containerCells(containers: any[] | undefined): [string, string] {
  const cs = Array.isArray(containers) ? containers : [];
  return [cs.map((c) => str(c?.name)).join(','), cs.map((c) => str(c?.image)).join(',')];
}

/** listWithMoreString: "a,b,c + 2 more...", or "<unset>" for an empty list. */
export function listWithMore(list: string[], more: boolean, count: number, max: number): string {
  const ret = list.join(',');
  if (more) return `${ret} + ${count - max} more...`;
  return ret === '' ? '<unset>' : ret;
}

/** sets.NewString(...).List(): unique and sorted. */
export function sortedUnique(values: string[]): string[] {
  return [...new Set(values)].sort();
}

/** The first condition of the given type (Go loops stop at the first match). */
export function findCondition(conditions: unknown, type: string): any | undefined {
  if (!Array.isArray(conditions)) return undefined;
  return conditions.find((c) => c?.type === type);
}
