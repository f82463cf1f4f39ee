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
try {
  await plane.start();
} catch (e) {
  // Tell the primary why (a taken or privileged port: EADDRINUSE/EACCES), so `skiff up` can fall back
  // to another port pair; an uncaught rejection would only say "exited with 1".
  const err = e as NodeJS.ErrnoException & { address?: string; port?: number };
  process.send!({ type: 'error', code: err.code, message: err.message, address: err.address, port: err.port }, () => process.exit(1));
  await new Promise(() => undefined); // exit once the message is out
}
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
