/**
 * The NetworkPolicy agent of a node: watches NetworkPolicies, Pods and Namespaces and programs
 * one nftables table for the pods of this node (root network modes). Like the service proxy, one
 * sync runs at a time and changes seen meanwhile fold into the next (the table is replaced in one
 * transaction). In loopback mode nothing can be enforced: every NetworkPolicy gets a Warning
 * event saying so (and the kubelet reports it as a Node condition), never silently.
 */
import { R } from '../../client/factory.js';
import { Informer } from '../../client/informer.js';
import { EventRecorder, refOf } from '../../client/events.js';
import type { RestClient } from '../../client/rest.js';
import type { Component } from '../../cluster/component.js';
import { runNft } from '../proxy/nftables.js';
import { computeRules, renderTable } from './rules.js';
import { enableBridgeNetfilter } from '../pod/netnsutil.js';

export const POLICY_NOT_ENFORCED_REASON = 'NetworkPolicyNotEnforced';
export const POLICY_NOT_ENFORCED_MESSAGE = 'NetworkPolicy is not enforced on this node: its pod network runs in loopback mode (no root); run as root (cni or netns mode) to enforce it';

export interface NetworkPolicyAgentOptions {
  nodeName: string;
  /** `nftables` enforces (root); `none` only warns (loopback mode). */
  mode: 'nftables' | 'none';
  /** nftables table (default skiff-policy). */
  table?: string;
  log?: (msg: string) => void;
}

export interface NetworkPolicyAgent extends Component {
  /** Resolves once the rules reflect every change seen so far. */
  flush(): Promise<void>;
}

const NETWORKPOLICIES = { group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies' };

export function createNetworkPolicyAgent(client: RestClient, o: NetworkPolicyAgentOptions): NetworkPolicyAgent {
  const log = o.log ?? (() => undefined);
  const table = o.table ?? 'skiff-policy';
  const policies = new Informer(client, NETWORKPOLICIES);
  const pods = o.mode === 'nftables' ? new Informer(client, R.pods) : undefined;
  const namespaces = o.mode === 'nftables' ? new Informer(client, R.namespaces) : undefined;
  // Where cluster DNS really serves (see dnsPods in rules.ts). Optional: without permission to
  // read it, policies still apply, only DNS allow rules do not reach the node-local server.
  const dnsSlices = o.mode === 'nftables' ? new Informer(client, { ...R.endpointslices, namespace: 'kube-system', labelSelector: 'kubernetes.io/service-name=kube-dns' }) : undefined;
  const recorder = new EventRecorder(client, { component: 'skiff-network-policy', host: o.nodeName });
  const warned = new Set<string>();
  let dirty = false;
  let running: Promise<void> | undefined;
  let stopped = false;
  let applied = false;

  const sync = async () => {
    if (o.mode === 'none') {
      for (const p of policies.list()) {
        if (warned.has(p.metadata.uid)) continue;
        warned.add(p.metadata.uid);
        recorder.event(refOf(p, 'NetworkPolicy', 'networking.k8s.io/v1'), 'Warning', POLICY_NOT_ENFORCED_REASON, POLICY_NOT_ENFORCED_MESSAGE);
      }
      return;
    }
    const rules = computeRules({ policies: policies.list(), pods: pods!.list(), namespaces: namespaces!.list(), nodeName: o.nodeName, dnsSlices: dnsSlices!.list() });
    // No policy at all: no table (nothing in the packet path).
    if (!rules.chains.size && !applied) return;
    await runNft(renderTable(table, rules));
    applied = true;
  };
  const loop = async () => {
    while (dirty && !stopped) {
      dirty = false;
      try {
        await sync();
      } catch (e) {
        log(`network policy: sync failed: ${(e as Error).message}`);
        setTimeout(kick, 1000).unref();
      }
    }
  };
  const kick = () => {
    dirty = true;
    if (!running) running = loop().finally(() => (running = undefined));
  };
  const informers = [policies, pods, namespaces].filter((i): i is Informer => !!i);
  for (const inf of [...informers, dnsSlices].filter((i): i is Informer => !!i)) inf.addHandlers({ add: kick, update: kick, delete: kick });

  return {
    name: `network-policy (${o.mode})`,
    async start() {
      // Pods of one bridge talk through it: without this their traffic never meets the rules.
      if (o.mode === 'nftables') enableBridgeNetfilter();
      await Promise.all(informers.map((i) => i.start()));
      // Not awaited: it may be forbidden (older RBAC); its events kick a sync when they come.
      void dnsSlices?.start();
      if (o.mode === 'none') log(`network policy: ${POLICY_NOT_ENFORCED_MESSAGE}`);
      kick();
      await running;
    },
    async stop() {
      stopped = true;
      for (const i of informers) i.stop();
      dnsSlices?.stop();
      await running;
      if (applied) await runNft(`add table ip ${table}\ndelete table ip ${table}`).catch(() => undefined);
    },
    async flush() {
      while (running || dirty) {
        if (!running) kick();
        await running;
      }
    },
  };
}
