import { registerController } from '../manager.js';
import { PersistentVolumeController } from './controller.js';

// kube-controller-manager's name for it.
registerController('persistentvolume-binder', (ctx) => new PersistentVolumeController(ctx));
