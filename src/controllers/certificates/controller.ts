import type { Informer, ResourceRef } from '../../client/informer.js';
import { QueueController, nowTime, type ControllerContext } from '../controller.js';
import { ApiError } from '../../client/rest.js';
import { decide, signRequest, wantsSigning, type SigningCA } from './signer.js';

export const CSRS: ResourceRef = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' };
const CSR_PATH = '/apis/certificates.k8s.io/v1/certificatesigningrequests';

/**
 * kube-controller-manager's csrsigning controller for the kubernetes.io client, kubelet-client and
 * kubelet-serving signers, all with the cluster CA: an approved request gets status.certificate
 * (through /status), one the signer refuses a Failed condition.
 */
export class CSRSigningController extends QueueController {
  private readonly csrs: Informer;

  constructor(
    ctx: ControllerContext,
    private readonly ca: SigningCA,
    private readonly maxTTLSeconds?: number,
  ) {
    super(ctx, 'csrsigning-controller', 2);
    this.csrs = ctx.informers.for(CSRS);
    const maybe = (csr: any) => wantsSigning(csr) && this.enqueue(csr.metadata.name);
    this.csrs.addHandlers({ add: maybe, update: (_old, csr) => maybe(csr) });
  }

  protected async reconcile(name: string): Promise<void> {
    const cached = this.csrs.get(name);
    if (!cached) return;
    let d;
    try {
      d = decide(cached);
    } catch (e) {
      // The API server checked the request on create: a request that does not parse here is not retried.
      this.ctx.log(`${this.name}: unable to parse csr "${name}": ${(e as Error).message}`);
      return;
    }
    if (d.action === 'ignore') return;
    const csr = structuredClone(cached);
    if (d.action === 'fail') {
      csr.status = { ...csr.status, conditions: [...(csr.status?.conditions ?? []), { type: 'Failed', status: 'True', reason: d.reason, message: d.message, lastUpdateTime: nowTime(this.ctx.clock) }] };
    } else {
      const pem = await signRequest(d.csr, csr.spec.usages ?? [], csr.spec.expirationSeconds, this.ca, this.ctx.clock.now(), this.maxTTLSeconds);
      csr.status = { ...csr.status, certificate: Buffer.from(pem).toString('base64') };
    }
    try {
      await this.ctx.client.update(`${CSR_PATH}/${encodeURIComponent(name)}/status`, csr);
    } catch (e) {
      // A conflict means a newer version is on its way through the informer.
      if (!(e instanceof ApiError && e.status === 409)) throw e;
    }
  }
}
