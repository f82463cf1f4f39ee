import type { Pod, Node } from 'kubernetes-types/core/v1.js';

export type { Pod, Node };
export type {
  Affinity,
  Container,
  NodeSelector,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  PodAffinityTerm,
  Taint,
  Toleration,
  TopologySpreadConstraint,
  WeightedPodAffinityTerm,
  PreferredSchedulingTerm,
} from 'kubernetes-types/core/v1.js';
export type { LabelSelector, LabelSelectorRequirement } from 'kubernetes-types/meta/v1.js';

/** Highest score a Score plugin may give a node, as upstream's framework.MaxNodeScore. */
export const MAX_NODE_SCORE = 100;
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;
