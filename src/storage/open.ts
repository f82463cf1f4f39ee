import { join } from 'node:path';
import type { Backend } from './backend.js';
import { SqliteBackend } from './sqlite.js';
import { SkiffError } from '../util/errors.js';

const USAGE = 'expected "sqlite" or "etcd://host:port[,host:port...]"';

/** Parse "etcd://h1:p1,h2:p2" into client URLs; undefined if the value is not an etcd datastore. */
export function parseEtcdDatastore(datastore: string): string[] {
  const rest = datastore.slice('etcd://'.length);
  const endpoints = rest.split(',').map((hostPort) => {
    // host:port, with IPv6 hosts in brackets: [::1]:2379
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(hostPort.trim());
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) {
      throw new SkiffError(
        'BAD_DATASTORE',
        `invalid etcd endpoint "${hostPort}" in datastore "${datastore}": ${USAGE}`,
      );
    }
    return `http://${m[1]}:${port}`;
  });
  return endpoints;
}

/**
 * Open the datastore named by a --datastore value: "sqlite" (or empty) keeps state in
 * `${dataDir}/state.db`; "etcd://host:port,..." uses an external etcd.
 */
export async function openBackend(datastore: string, dataDir: string): Promise<Backend> {
  const ds = datastore.trim();
  if (ds === '' || ds === 'sqlite') return SqliteBackend.open(join(dataDir, 'state.db'));
  if (ds.startsWith('etcd://')) {
    const endpoints = parseEtcdDatastore(ds);
    // The gRPC client costs ~150 ms to load: only pay for it when etcd is used.
    const { EtcdBackend } = await import('./etcd.js');
    return EtcdBackend.connect(endpoints);
  }
  throw new SkiffError('BAD_DATASTORE', `unknown datastore "${datastore}": ${USAGE}`);
}
