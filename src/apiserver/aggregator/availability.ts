/**
 * Whether a service-backed APIService is Available, as upstream's AvailableConditionController
 * judges it (v1.32, on Endpoints): the Service exists, listens on the APIService's port, has a
 * ready endpoint for that port, and its server answers GET /apis/<group>/<version> with a 2xx in
 * time. Pure checks here; the discovery request is the only I/O.
 */
import https from 'node:https';
import type { Condition, ServiceRef } from './apiservice.js';
import type { Backend, ProxyClientCert } from './proxy.js';

const rfc3339 = (d = new Date()) => d.toISOString().replace(/\.\d+Z$/, 'Z');

function unavailable(reason: string, message: string, status: Condition['status'] = 'False'): Condition {
  return { type: 'Available', status, lastTransitionTime: rfc3339(), reason, message };
}

export function passed(): Condition {
  return { type: 'Available', status: 'True', lastTransitionTime: rfc3339(), reason: 'Passed', message: 'all checks passed' };
}

/**
 * The checks before the discovery request: a condition when the APIService is already known to be
 * unavailable, else undefined.
 */
export function serviceCheck(ref: ServiceRef, svc: any | undefined, eps: any | undefined): Condition | undefined {
  if (!svc) return unavailable('ServiceNotFound', `service/${ref.name} in "${ref.namespace}" is not present`);
  const type = svc.spec?.type ?? 'ClusterIP';
  if (type !== 'ClusterIP') return undefined;
  const port = (svc.spec?.ports ?? []).find((p: any) => p?.port === ref.port);
  if (!port) return unavailable('ServicePortError', `service/${ref.name} in "${ref.namespace}" is not listening on port ${ref.port}`);
  if (!eps) return unavailable('EndpointsNotFound', `cannot find endpoints for service/${ref.name} in "${ref.namespace}"`);
  const portName = port.name ?? '';
  const ok = (eps.subsets ?? []).some((ss: any) => (ss?.addresses ?? []).length > 0 && (ss?.ports ?? []).some((p: any) => (p?.name ?? '') === portName));
  if (!ok) return unavailable('MissingEndpoints', `endpoints for service/${ref.name} in "${ref.namespace}" have no addresses with port name "${portName}"`);
  return undefined;
}

export function failedDiscovery(message: string): Condition {
  return unavailable('FailedDiscoveryCheck', message);
}

export interface DiscoveryResult {
  condition: Condition;
  /** The APIResourceList's resources, when the server answered with one. */
  resources?: any[];
}

/**
 * GET /apis/<group>/<version> on the backend as the aggregator itself (system:masters, with the
 * proxy client certificate when there is one), without verifying the server's certificate
 * (upstream: a best-effort liveness probe), within `timeoutMs`.
 */
export function discoveryCheck(backend: Backend, group: string, version: string, timeoutMs = 5000, clientCert?: ProxyClientCert): Promise<DiscoveryResult> {
  const host = backend.host.includes(':') ? `[${backend.host}]` : backend.host;
  const url = `https://${host}:${backend.port}/apis/${group}/${version}`;
  const fail = (why: string): DiscoveryResult => ({ condition: failedDiscovery(`failing or missing response from ${url}: ${why}`) });
  return new Promise((resolve) => {
    let settled = false;
    const settle = (r: DiscoveryResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = https.request(
      {
        host: backend.host,
        port: backend.port,
        path: `/apis/${group}/${version}`,
        method: 'GET',
        rejectUnauthorized: false,
        agent: false,
        ...(clientCert ? { cert: clientCert.certPem, key: clientCert.keyPem } : {}),
        headers: { accept: 'application/json', 'x-remote-user': 'system:kube-aggregator', 'x-remote-group': 'system:masters' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          // A discovery document is small: a runaway answer is cut off, not buffered.
          size += c.length;
          if (size <= 4 << 20) chunks.push(c);
          else res.destroy();
        });
        res.on('error', (e) => settle(fail(e.message)));
        res.on('end', () => {
          const code = res.statusCode ?? 0;
          if (code < 200 || code >= 300) return settle(fail(`bad status from ${url}: ${code}`));
          let resources: any[] | undefined;
          try {
            const doc = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            if (doc && Array.isArray(doc.resources)) resources = doc.resources.filter((r: any) => r && typeof r === 'object' && typeof r.name === 'string');
          } catch {
            // A 2xx without a resource list still passes, as upstream; discovery just lists nothing.
          }
          settle({ condition: passed(), ...(resources ? { resources } : {}) });
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      settle(fail(`Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`));
    }, timeoutMs);
    // Transport errors read as Go's http client words them.
    req.on('error', (e: NodeJS.ErrnoException) => settle(fail(`Get "${url}": ${e.code === 'ECONNREFUSED' ? `dial tcp ${host}:${backend.port}: connect: connection refused` : e.message}`)));
    req.end();
  });
}
