import https from 'node:https';
import { readFile } from 'node:fs/promises';
import YAML from 'yaml';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): any;
}

/** A bare HTTPS client with the kubeconfig's credentials, for tests and benchmarks that speak the REST API directly. */
export interface ApiClient {
  readonly base: URL;
  readonly agent: https.Agent;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<RawResponse>;
  close(): void;
}

export async function clientFromKubeconfig(kubeconfigPath: string, opts: { anonymous?: boolean } = {}): Promise<ApiClient> {
  const kc = YAML.parse(await readFile(kubeconfigPath, 'utf8'));
  const b64 = (s: string) => Buffer.from(s, 'base64');
  const agent = new https.Agent({
    keepAlive: true,
    maxSockets: 256,
    ca: b64(kc.clusters[0].cluster['certificate-authority-data']),
    ...(opts.anonymous ? {} : { cert: b64(kc.users[0].user['client-certificate-data']), key: b64(kc.users[0].user['client-key-data']) }),
  });
  const base = new URL(kc.clusters[0].cluster.server);
  return {
    base,
    agent,
    request(method, p, body, headers = {}) {
      return new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
        const h: Record<string, string | number> = { ...headers };
        if (data !== undefined) {
          h['content-type'] ??= 'application/json';
          h['content-length'] = Buffer.byteLength(data);
        }
        const req = https.request({ host: base.hostname, port: base.port, path: p, method, agent, headers: h }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) });
          });
        });
        req.on('error', reject);
        req.end(data);
      });
    },
    close: () => agent.destroy(),
  };
}
