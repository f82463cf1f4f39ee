import type { PluginFactory } from './interface.js';
import { newDefaultBinder } from './plugins/defaultbinder/defaultbinder.js';
import { newDefaultPreemption } from './plugins/defaultpreemption/defaultpreemption.js';
import { newImageLocality } from './plugins/imagelocality/imagelocality.js';
import { newInterPodAffinity } from './plugins/interpodaffinity/interpodaffinity.js';
import { newNodeAffinity } from './plugins/nodeaffinity/nodeaffinity.js';
import { newNodeName } from './plugins/nodename/nodename.js';
import { newNodePorts } from './plugins/nodeports/nodeports.js';
import { newBalancedAllocation } from './plugins/noderesources/balanced.js';
import { newNodeResourcesFit } from './plugins/noderesources/fit.js';
import { newNodeUnschedulable } from './plugins/nodeunschedulable/nodeunschedulable.js';
import { newPodTopologySpread } from './plugins/podtopologyspread/podtopologyspread.js';
import { newPrioritySort } from './plugins/prioritysort/prioritysort.js';
import { newSchedulingGates } from './plugins/schedulinggates/schedulinggates.js';
import { newTaintToleration } from './plugins/tainttoleration/tainttoleration.js';
import { newVolumeBinding } from './plugins/volumebinding/volumebinding.js';

/** Plugin name → factory; out-of-tree plugins are added with register(). */
export class Registry extends Map<string, PluginFactory> {
  register(name: string, f: PluginFactory): this {
    return this.set(name, f);
  }
}

export function inTreeRegistry(): Registry {
  return new Registry([
    ['PrioritySort', () => newPrioritySort()],
    ['SchedulingGates', () => newSchedulingGates()],
    ['NodeUnschedulable', () => newNodeUnschedulable()],
    ['NodeName', () => newNodeName()],
    ['TaintToleration', () => newTaintToleration()],
    ['NodeAffinity', (a) => newNodeAffinity(a)],
    ['NodePorts', () => newNodePorts()],
    ['NodeResourcesFit', (a) => newNodeResourcesFit(a)],
    ['VolumeBinding', (a, h) => newVolumeBinding(a, h)],
    ['NodeResourcesBalancedAllocation', (a) => newBalancedAllocation(a)],
    ['ImageLocality', (a, h) => newImageLocality(a, h)],
    ['InterPodAffinity', (a, h) => newInterPodAffinity(a, h)],
    ['PodTopologySpread', (a, h) => newPodTopologySpread(a, h)],
    ['DefaultPreemption', (a, h) => newDefaultPreemption(a, h)],
    ['DefaultBinder', (a, h) => newDefaultBinder(a, h)],
  ]);
}
