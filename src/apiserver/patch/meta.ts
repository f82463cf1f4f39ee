/**
 * What strategic merge patch needs to know about a field, derived from the OpenAPI schema
 * (`x-kubernetes-patch-merge-key` / `x-kubernetes-patch-strategy`), as upstream's PatchMeta.
 */
export interface PatchMeta {
  /** 'struct' has known fields; 'map' has arbitrary keys (additionalProperties); 'list'; 'primitive'; 'unknown' (no schema: treat like JSON merge patch). */
  readonly kind: 'struct' | 'map' | 'list' | 'primitive' | 'unknown';
  /** Strategies of this field, e.g. ['merge'], ['retainKeys'], ['merge', 'retainKeys'] (from x-kubernetes-patch-strategy, comma separated). */
  readonly strategies: readonly string[];
  /** For a list with strategy 'merge' of objects: the merge key (x-kubernetes-patch-merge-key). */
  readonly mergeKey?: string;
  /** For 'struct': the meta of a named field (undefined when unknown). For 'map': the meta of any value. */
  field(name: string): PatchMeta | undefined;
  /** For 'list': the meta of its items. */
  items(): PatchMeta | undefined;
}
