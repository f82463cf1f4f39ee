import { findResource, type ResourceInfo } from './resources.js';

/** What a resource request addresses, parsed from its path as upstream's RequestInfoFactory. */
export interface ResourceRequest {
  info: ResourceInfo;
  group: string;
  version: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** For `…/proxy/<path>`: the path after the subresource as upstream forwards it (proxySubpath), with a leading '/'. */
  proxyPath?: string;
  /** The path used the legacy /watch/ prefix. */
  legacyWatch: boolean;
}

export type ParsedPath =
  | { type: 'resource'; req: ResourceRequest }
  | { type: 'unknown-resource'; group: string; version: string; resource: string }
  | { type: 'other' };

export function parseResourcePath(path: string): ParsedPath {
  // Most paths have nothing escaped: decodeURIComponent only where there is something to decode.
  const raw = path.split('/').filter(Boolean);
  const parts = raw.map((p) => (p.includes('%') ? decodeURIComponent(p) : p));
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1];
    version = parts[2];
    rest = parts.slice(3);
  } else {
    return { type: 'other' };
  }
  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  const restAt = parts.length - rest.length;
  const trailing = path.length > 1 && path.endsWith('/');
  let proxyPath: string | undefined;
  let namespace: string | undefined;
  let resource: string;
  let name: string | undefined;
  let subresource: string | undefined;
  // namespaces/{ns}/{resource}/… is a namespaced resource, except the namespace's own subresources.
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
    namespace = rest[1];
    resource = rest[2];
    name = rest[3];
    subresource = rest[4];
    if (subresource === 'proxy') proxyPath = proxySubpath(parts.slice(restAt + 5), trailing);
    else if (rest.length > 5) return { type: 'other' };
  } else {
    resource = rest[0];
    name = rest[1];
    subresource = rest[2];
    if (subresource === 'proxy') proxyPath = proxySubpath(parts.slice(restAt + 3), trailing);
    else if (rest.length > 3) return { type: 'other' };
  }
  const info = findResource(group, version, resource);
  if (!info) return { type: 'unknown-resource', group, version, resource };
  return { type: 'resource', req: { info, group, version, namespace, name, subresource, ...(proxyPath !== undefined ? { proxyPath } : {}), legacyWatch } };
}

/**
 * The authorization verb of a resource request, as upstream's RequestInfoFactory maps methods:
 * reads are get (named), list or watch; DELETE without a name is deletecollection.
 */
export function requestVerb(method: string, o: { named: boolean; watch: boolean }): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return o.watch ? 'watch' : o.named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return o.named ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

/**
 * The path a proxy subresource forwards, as kube-apiserver builds it: from the decoded path's
 * segments (its RequestInfo splits URL.Path, so a client's %2F is a '/': client libraries escape
 * the whole `path` parameter), keeping a trailing slash (JoinPreservingTrailingSlash), then escaped
 * as Go's URL.EscapedPath.
 */
function proxySubpath(segments: string[], trailing: boolean): string {
  const p = '/' + segments.join('/') + (trailing && segments.length ? '/' : '');
  return escapePath(p);
}

/** Go's url.PathEscape-like escaping of a whole path (shouldEscape with encodePath: '/' and "$&+,:;=@" stay). */
export function escapePath(p: string): string {
  if (/^[A-Za-z0-9\-_.~$&+,/:;=@]*$/.test(p)) return p;
  let out = '';
  for (const b of Buffer.from(p, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.~$&+,/:;=@]/.test(c) && b < 0x80 ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
