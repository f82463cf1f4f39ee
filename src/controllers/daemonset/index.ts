import { registerController } from '../manager.js';
import { DaemonSetController } from './daemonset.js';

registerController('daemonset', (ctx) => new DaemonSetController(ctx));
