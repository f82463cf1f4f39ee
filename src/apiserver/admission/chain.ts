import type { AdmissionPlugin } from './types.js';
import { namespaceLifecyclePlugin } from './namespacelifecycle.js';
import { limitRangerPlugin } from './limitranger.js';
import { serviceAccountPlugin } from './serviceaccount.js';
import { podSecurityPlugin } from './podsecurity.js';
import { priorityPlugin } from './priority.js';
import { defaultTolerationSecondsPlugin } from './defaulttolerationseconds.js';
import { resourceQuotaPlugin } from './resourcequota.js';
import { defaultStorageClassPlugin } from './defaultstorageclass.js';
import { pvcResizePlugin } from './pvcresize.js';
import { runtimeClassPlugin } from './runtimeclass.js';
import { defaultIngressClassPlugin } from './defaultingressclass.js';
import { webhookPlugins, type WebhookOptions } from './webhook.js';

export interface AdmissionChainOptions {
  /** Upstream --disable-admission-plugins, by plugin name. */
  disable?: string[];
  webhooks?: WebhookOptions;
  /** Set by createSecurity; unused here (token volumes are projected by the kubelet). */
  serviceAccounts?: unknown;
}

/**
 * The default-enabled plugins in upstream's order (NamespaceLifecycle, LimitRanger, ServiceAccount,
 * PodSecurity, Priority, DefaultTolerationSeconds, DefaultStorageClass, PersistentVolumeClaimResize, RuntimeClass, DefaultIngressClass, MutatingAdmissionWebhook, ValidatingAdmissionWebhook,
 * ResourceQuota). runAdmission runs every admit in this order, then every validate.
 */
export function securityAdmissionChain(o: AdmissionChainOptions = {}): AdmissionPlugin[] {
  const hooks = webhookPlugins(o.webhooks);
  const all: AdmissionPlugin[] = [
    namespaceLifecyclePlugin,
    limitRangerPlugin,
    serviceAccountPlugin,
    podSecurityPlugin,
    priorityPlugin,
    defaultTolerationSecondsPlugin(),
    defaultStorageClassPlugin,
    pvcResizePlugin,
    runtimeClassPlugin,
    defaultIngressClassPlugin,
    hooks.mutating,
    hooks.validating,
    resourceQuotaPlugin(),
  ];
  const off = new Set(o.disable ?? []);
  return all.filter((p) => !off.has(p.name));
}
