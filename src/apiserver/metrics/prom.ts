/** Kept for src/apiserver/nonresource.ts until it imports from src/util/prometheus.ts; delete then. */
export { PROMETHEUS_CONTENT_TYPE } from '../../util/prometheus.js';
