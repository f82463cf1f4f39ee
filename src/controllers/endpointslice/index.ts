import { registerController } from '../manager.js';
import { EndpointSliceController } from './controller.js';
import { EndpointsController } from './endpointscontroller.js';

// Names as kube-controller-manager's --controllers.
registerController('endpointslice', (ctx) => new EndpointSliceController(ctx));
registerController('endpoint', (ctx) => new EndpointsController(ctx));
