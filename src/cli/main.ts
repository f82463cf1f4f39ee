import { Command, InvalidArgumentError } from 'commander';
import { up } from '../cluster/up.js';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command();
  program.name('skiff').description('A Kubernetes-compatible cluster: real kubectl, real protocols, every step visible.');

  program
    .command('up')
    .description('run a single-node cluster in the foreground')
    .option('--data-dir <dir>', 'where state, certificates and the kubeconfig live', './.skiff')
    .option('--api-port <port>', 'API server port', port, 6443)
    .option('--datastore <store>', 'sqlite (embedded, default) or etcd://host:port[,host:port…]', 'sqlite')
    .action(async (o: { dataDir: string; apiPort: number; datastore: string }) => {
      const t0 = performance.now();
      const quiet = process.env.SKIFF_QUIET === '1';
      // A bug in one request or component must not take the whole cluster down: log it and go on.
      process.on('unhandledRejection', (e) => console.error('skiff: unhandled rejection:', e));
      let cluster;
      try {
        cluster = await up({ dataDir: o.dataDir, apiPort: o.apiPort, datastore: o.datastore, log: quiet ? undefined : (m) => console.error(`skiff: ${m}`) });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new Error(`port ${o.apiPort} is already in use: stop what holds it or pass --api-port`, { cause: e });
        throw e;
      }
      const ms = (performance.now() - t0).toFixed(0);
      console.log(`Skiff is up in ${ms} ms: API server at ${cluster.server} (datastore: ${o.datastore}).`);
      console.log('Point kubectl at it:');
      console.log(`  export KUBECONFIG=${cluster.kubeconfigPath}`);
      console.log('  kubectl get namespaces');
      let stopping = false;
      const shutdown = async (sig: string) => {
        if (stopping) return;
        stopping = true;
        console.error(`skiff: ${sig} received, shutting down`);
        await cluster.stop();
        process.exit(0);
      };
      process.on('SIGINT', () => void shutdown('SIGINT'));
      process.on('SIGTERM', () => void shutdown('SIGTERM'));
    });

  await program.parseAsync(argv);
}
