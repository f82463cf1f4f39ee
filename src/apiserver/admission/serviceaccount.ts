import { randomInt } from 'node:crypto';
import { REGISTRY_PREFIX } from '../watchcache.js';
import type { AdmissionPlugin } from './types.js';
import { forbidden, isPodCreate, allContainers } from './util.js';

export const SA_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
const MIRROR = 'kubernetes.io/config.mirror';
const CHARS = 'bcdfghjklmnpqrstvwxz2456789';
/** Upstream's projected token lifetime (1 h + 7 s marks it as a kubelet-refreshed token). */
const TOKEN_SECONDS = 3607;

/**
 * ServiceAccount admission: pods run as `default` unless they name an account, which must exist; the
 * account's image pull secrets are copied; unless automount is off (pod first, then account), a
 * projected `kube-api-access-xxxxx` volume with token, CA and namespace is mounted in every container.
 */
export const serviceAccountPlugin: AdmissionPlugin = {
  name: 'ServiceAccount',
  handles: isPodCreate,
  async admit(req) {
    const pod = req.object;
    if (pod.metadata?.annotations?.[MIRROR] !== undefined) return;
    const spec = (pod.spec ??= {});
    spec.serviceAccountName ||= 'default';
    const name = spec.serviceAccountName;
    const key = `${REGISTRY_PREFIX}serviceaccounts/${req.namespace}/${name}`;
    let sa = req.registry.cache.get(key)?.obj;
    if (!sa) {
      await req.registry.cache.sync();
      sa = req.registry.cache.get(key)?.obj;
    }
    if (!sa) throw forbidden(req, `error looking up service account ${req.namespace}/${name}: serviceaccount "${name}" not found`);
    if (!spec.imagePullSecrets?.length && sa.imagePullSecrets?.length) spec.imagePullSecrets = sa.imagePullSecrets.map((s: any) => ({ name: s.name }));
    const automount = spec.automountServiceAccountToken ?? sa.automountServiceAccountToken ?? true;
    if (!automount) return;
    const volumes: any[] = (spec.volumes ??= []);
    let vol = volumes.find((v) => typeof v.name === 'string' && v.name.startsWith('kube-api-access-'));
    if (!vol) {
      let suffix = '';
      for (let i = 0; i < 5; i++) suffix += CHARS[randomInt(CHARS.length)];
      vol = {
        name: `kube-api-access-${suffix}`,
        projected: {
          defaultMode: 420,
          sources: [
            { serviceAccountToken: { expirationSeconds: TOKEN_SECONDS, path: 'token' } },
            { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
            { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
          ],
        },
      };
      volumes.push(vol);
    }
    for (const c of allContainers(spec)) {
      const mounts: any[] = (c.volumeMounts ??= []);
      if (mounts.some((m) => m.mountPath === SA_MOUNT_PATH)) continue;
      mounts.push({ name: vol.name, readOnly: true, mountPath: SA_MOUNT_PATH });
    }
  },
};
