/** Server-side printing (meta.k8s.io/v1 Table) for one resource, with upstream columns. */
export interface TableColumn {
  name: string;
  /** OpenAPI type: string, integer, number, boolean, date. */
  type: string;
  /** "name" for the name column; "" otherwise. */
  format: string;
  description: string;
  /** 0: always shown; 1: only with -o wide. */
  priority: number;
}

export interface Printer {
  columns: TableColumn[];
  /** One row's cells for the object, in column order. `now` is injected so rows are testable. */
  cells(obj: any, now: Date): unknown[];
  /** The order rows of a list are printed in, where upstream's printer sorts (FlowSchemas by precedence). */
  order?(a: any, b: any): number;
}
