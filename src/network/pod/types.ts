/**
 * How the kubelet gives a pod its network, whatever the mode: `setUp` before the pod's first
 * container starts, `tearDown` after its last one stopped. Three implementations:
 * `cni` (real CNI plugins: bridge + host-local + loopback + portmap), `netns` (the same built with
 * iproute2, for root without plugins) and `loopback` (no root: an address of the node's range
 * whose 127 alias the pod's processes use).
 */
export type NetworkMode = 'cni' | 'netns' | 'loopback';

export interface PodRef {
  uid: string;
  namespace: string;
  name: string;
  /** The sandbox (CNI container id). */
  sandboxId: string;
}

export interface PodNetworkResult {
  /** The pod IP: what status.podIP shows and EndpointSlices carry. */
  ip: string;
  /** Where the pod's processes must run (root modes): `ip netns exec <name>` / nsenter --net=<path>. */
  netnsPath?: string;
  netnsName?: string;
  /** The address the pod's processes actually bind (the 127 alias in loopback mode; else ip). */
  listenIP: string;
  gateway?: string;
}

export interface PodNetwork {
  readonly mode: NetworkMode;
  /** The node's podCIDR; setUp fails until it is known. */
  configure(podCIDR: string): Promise<void>;
  setUp(pod: PodRef): Promise<PodNetworkResult>;
  /** Idempotent; a pod never set up is fine. */
  tearDown(pod: PodRef): Promise<void>;
  close(): Promise<void>;
}
