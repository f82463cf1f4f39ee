/**
 * Writes a self-contained kubeconfig (certificates inline as `*-data`), so the file keeps
 * working if the PKI directory moves and kubectl needs no extra paths.
 */
import { chmod, mkdir, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import YAML from 'yaml';

export interface KubeconfigOptions {
  server: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  clusterName?: string;
  userName?: string;
  contextName?: string;
  /** Namespace for the context; kubectl defaults to "default" when absent. */
  namespace?: string;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** The kubeconfig document as YAML text. */
export function renderKubeconfig(opts: KubeconfigOptions): string {
  const cluster = opts.clusterName ?? 'skiff';
  const user = opts.userName ?? 'skiff';
  const context = opts.contextName ?? 'skiff';
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [{ name: cluster, cluster: { server: opts.server, 'certificate-authority-data': b64(opts.caPem) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(opts.certPem), 'client-key-data': b64(opts.keyPem) } }],
    contexts: [
      { name: context, context: { cluster, user, ...(opts.namespace ? { namespace: opts.namespace } : {}) } },
    ],
    'current-context': context,
  };
  // No line folding: base64 blobs must stay on one line for readability and diffing.
  return YAML.stringify(doc, { lineWidth: 0 });
}

/** Writes the kubeconfig with mode 0600 (it holds a private key), replacing any old file atomically. */
export async function writeKubeconfig(path: string, opts: KubeconfigOptions): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, renderKubeconfig(opts), { mode: 0o600 });
  await chmod(tmp, 0o600); // writeFile's mode is filtered by the umask
  await rename(tmp, path);
}
