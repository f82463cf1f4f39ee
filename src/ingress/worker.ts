/** Entry point of one data plane worker process (see workers.ts). */
import { DataPlane, type DataPlaneConfig } from './dataplane.js';
import { RemoteGate, type LimitReply } from './limitgate.js';

// The primary owns this process's lifetime: Ctrl-C or a SIGTERM to the whole process group must not
// kill workers behind its back (it would fork replacements while shutting down); without the
// primary there is nothing to serve for.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
process.on('disconnect', () => process.exit(0));

const opts = JSON.parse(process.env.SKIFF_INGRESS_WORKER ?? '{}');
// Rate and connection limits are counted by the primary, for all workers together (limitgate.ts).
const limitGate = new RemoteGate((m) => process.send!(m));
const plane = new DataPlane({ ...opts, limitGate });
await plane.start();
process.on('message', (m: { type: string; cfg?: DataPlaneConfig; generation?: number; id?: number }) => {
  if (m.type === 'limit-verdict') {
    limitGate.onReply(m as LimitReply);
  } else if (m.type === 'config') {
    plane.apply(m.cfg!);
    process.send!({ type: 'applied', generation: m.generation });
  } else if (m.type === 'metrics') {
    process.send!({ type: 'metrics', id: m.id, metrics: plane.metrics.snapshot() });
  } else if (m.type === 'stop') {
    void plane.stop().then(() => process.exit(0));
  }
});
process.send!({ type: 'ready', ports: plane.ports });
