/**
 * Authorization attributes of a request for an aggregated API, as upstream's RequestInfoFactory
 * derives them from any /apis path: the server does not know the resources, only the URL shape.
 */
import type { Attributes, UserInfo } from '../auth/types.js';
import { requestVerb } from '../request.js';

export function aggregatedAttributes(method: string, path: string, q: URLSearchParams, user: UserInfo): Attributes {
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  // /apis/<group>/<version> and shorter are discovery: non-resource requests.
  if (parts[0] !== 'apis' || parts.length < 4) return { user, verb: method.toLowerCase(), resourceRequest: false, path };
  const [, group, version] = parts;
  let rest = parts.slice(3);
  let verb = '';
  if (rest[0] === 'watch' && rest.length > 1) {
    verb = 'watch';
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  // namespaces/<ns>/<resource>… names a namespaced resource; namespaces/<name> is the namespace itself.
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  } else if (rest[0] === 'namespaces' && rest.length === 2) {
    namespace = rest[1];
  }
  const [resource, name, ...sub] = rest;
  // A named read stays a get, as upstream: only a read of a collection becomes list or watch.
  if (!verb) verb = requestVerb(method, { named: !!name, watch: !name && (q.get('watch') === 'true' || q.get('watch') === '1') });
  return { user, verb, resourceRequest: true, path, namespace, apiGroup: group, apiVersion: version, resource, subresource: sub.length ? sub.join('/') : undefined, name };
}
