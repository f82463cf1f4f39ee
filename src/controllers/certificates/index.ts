/**
 * The csrsigning controller needs the cluster CA's key, which only the process that owns the PKI
 * has: it is registered by that process (`skiff up`) rather than at import, like the others.
 */
import { registerController } from '../manager.js';
import { CSRSigningController } from './controller.js';
import type { SigningCA } from './signer.js';

export { CSRSigningController } from './controller.js';
export type { SigningCA } from './signer.js';

export function registerCSRSigning(ca: SigningCA, opts: { maxTTLSeconds?: number } = {}): void {
  registerController('csrsigning', (ctx) => new CSRSigningController(ctx, ca, opts.maxTTLSeconds));
}
