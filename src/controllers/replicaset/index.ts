import { registerController } from '../manager.js';
import { ReplicaSetController } from './controller.js';

registerController('replicaset', (ctx) => new ReplicaSetController(ctx));
