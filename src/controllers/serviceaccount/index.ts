import { registerController } from '../manager.js';
import { ServiceAccountsController } from './serviceaccounts.js';
import { RootCAPublisher } from './rootca.js';

registerController('serviceaccount', (ctx) => new ServiceAccountsController(ctx));
registerController('root-ca-cert-publisher', (ctx) => {
  // Without a CA to publish there is nothing to do, as upstream when --root-ca-file is unset.
  if (!ctx.caPem) return { run() {}, stop() {} };
  return new RootCAPublisher(ctx, ctx.caPem);
});
