import { registerController } from '../manager.js';
import { PersistentVolumeController } from './controller.js';
import { PVCProtectionController, PVProtectionController } from './protection.js';

// kube-controller-manager's names for them.
registerController('persistentvolume-binder', (ctx) => new PersistentVolumeController(ctx));
registerController('persistentvolumeclaim-protection', (ctx) => new PVCProtectionController(ctx));
registerController('persistentvolume-protection', (ctx) => new PVProtectionController(ctx));
