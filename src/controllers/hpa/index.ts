import { registerController } from '../manager.js';
import { HPA_RESOURCE, HorizontalController } from './controller.js';

/**
 * As kube-controller-manager, the controller starts only when the API server serves
 * autoscaling/v2 horizontalpodautoscalers: otherwise its informer could never sync.
 */
registerController('horizontal-pod-autoscaler', async (ctx) => {
  let served = false;
  try {
    const list = await ctx.client.get(`/apis/${HPA_RESOURCE.group}/${HPA_RESOURCE.version}`);
    served = (list.resources ?? []).some((r: any) => r.name === HPA_RESOURCE.resource);
  } catch {
    served = false;
  }
  if (!served) {
    ctx.log('horizontal-pod-autoscaler: autoscaling/v2 horizontalpodautoscalers is not served; not starting');
    return { run() {}, stop() {} };
  }
  return new HorizontalController(ctx);
});
