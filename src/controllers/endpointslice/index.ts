import { registerController } from '../manager.js';
import { EndpointSliceController } from './controller.js';
import { EndpointsController } from './endpointscontroller.js';
import { EndpointSliceMirroringController } from './mirroring.js';

// Names as kube-controller-manager's --controllers.
registerController('endpointslice', (ctx) => new EndpointSliceController(ctx));
registerController('endpoint', (ctx) => new EndpointsController(ctx));
registerController('endpointslicemirroring', (ctx) => new EndpointSliceMirroringController(ctx));
