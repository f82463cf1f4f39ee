import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';

export const SIM_LABEL = 'skiff.dev/simulated';

function ts(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface NodeTemplate {
  name: string;
  index: number;
  capacity: Record<string, string>;
  labels: Record<string, string>;
  taints: Taint[];
  ip: string;
  podCIDR: string;
}

/** A simulated node as a kubelet would register it: capacity, addresses, Ready, kubelet version. */
export function nodeObject(t: NodeTemplate, now: Date): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: t.name,
      labels: {
        'kubernetes.io/hostname': t.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': 'simulated',
        type: 'kwok',
        [SIM_LABEL]: 'true',
        ...t.labels,
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'kwok.x-k8s.io/node': 'fake' },
    },
    spec: { podCIDR: t.podCIDR, podCIDRs: [t.podCIDR], taints: t.taints.length ? t.taints : undefined },
    status: nodeStatus(t, now),
  };
}

export function nodeStatus(t: Pick<NodeTemplate, 'capacity' | 'ip' | 'name'>, now: Date): NonNullable<Node['status']> {
  const stamp = ts(now);
  const cond = (type: string, status: string, reason: string, message: string) => ({ type, status, reason, message, lastHeartbeatTime: stamp, lastTransitionTime: stamp });
  return {
    capacity: t.capacity,
    allocatable: t.capacity,
    conditions: [
      cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
    ],
    addresses: [
      { type: 'InternalIP', address: t.ip },
      { type: 'Hostname', address: t.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      architecture: 'amd64',
      bootID: '',
      containerRuntimeVersion: 'skiff-sim://0.1.0',
      kernelVersion: '',
      kubeProxyVersion: '',
      kubeletVersion: 'v1.32.0-skiff-sim',
      machineID: '',
      operatingSystem: 'linux',
      osImage: 'Skiff simulated node',
      systemUUID: '',
    },
    phase: 'Running',
  };
}

export type PodAction = { kind: 'run'; status: NonNullable<Pod['status']> } | { kind: 'delete' } | undefined;

/**
 * What the simulated kubelet does with a pod bound to its node, as kwok's default stages: a
 * terminating pod is deleted for good (grace 0); a pending one becomes Running with every
 * container started and ready; anything else is left alone.
 */
export function podAction(pod: Pod, now: Date, ips: { hostIP: string; podIP: () => string | undefined }): PodAction {
  if (pod.metadata?.deletionTimestamp) return { kind: 'delete' };
  const phase = pod.status?.phase ?? 'Pending';
  if (phase !== 'Pending' || pod.status?.podIP || pod.status?.startTime) return undefined;
  const t = ts(now);
  const podIP = pod.spec?.hostNetwork ? ips.hostIP : ips.podIP() ?? ips.hostIP;
  const cond = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: t });
  const running = (c: any) => ({
    name: c.name,
    image: c.image,
    imageID: '',
    containerID: `skiff-sim://${pod.metadata?.uid}/${c.name}`,
    ready: true,
    started: true,
    restartCount: 0,
    state: { running: { startedAt: t } },
  });
  const status: any = {
    phase: 'Running',
    conditions: [cond('PodReadyToStartContainers'), cond('Initialized'), cond('Ready'), cond('ContainersReady'), cond('PodScheduled')],
    hostIP: ips.hostIP,
    hostIPs: [{ ip: ips.hostIP }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: t,
    containerStatuses: (pod.spec?.containers ?? []).map(running),
  };
  const inits = pod.spec?.initContainers ?? [];
  if (inits.length) {
    status.initContainerStatuses = inits.map((c: any) =>
      c.restartPolicy === 'Always'
        ? running(c)
        : { name: c.name, image: c.image, imageID: '', containerID: `skiff-sim://${pod.metadata?.uid}/${c.name}`, ready: true, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: t, finishedAt: t } } },
    );
  }
  return { kind: 'run', status };
}
