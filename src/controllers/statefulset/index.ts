import { registerController } from '../manager.js';
import { StatefulSetController } from './statefulset.js';

registerController('statefulset', (ctx) => new StatefulSetController(ctx));
