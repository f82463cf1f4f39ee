import type { RestClient } from '../../client/rest.js';
import { isNotFound } from '../controller.js';
import type { SlicePlan } from './slices.js';

/**
 * Writes a Service's slice plan and remembers what it wrote, so a reconcile that runs before the
 * informer caught up with those writes waits instead of planning again from stale slices. Shared by
 * the EndpointSlice and EndpointSliceMirroring controllers.
 */
export class SliceWriter {
  /** key → slice name → resourceVersion written ('' = deleted). */
  private readonly expected = new Map<string, Map<string, string>>();

  constructor(private readonly client: RestClient) {}

  /** True while the cache has not yet caught up with slices written for this key. */
  stale(key: string, owned: any[]): boolean {
    const exp = this.expected.get(key);
    if (!exp?.size) return false;
    const have = new Map(owned.map((s) => [s.metadata.name, s.metadata.resourceVersion as string]));
    for (const [name, rv] of exp) {
      const cur = have.get(name);
      if (rv === '' ? cur === undefined : cur !== undefined && Number(cur) >= Number(rv)) exp.delete(name);
    }
    return exp.size > 0;
  }

  forget(key: string): void {
    this.expected.delete(key);
  }

  /** Creates and updates before deleting, so endpoints moving between slices never vanish. */
  async apply(key: string, base: string, plan: SlicePlan): Promise<void> {
    for (const s of plan.create) {
      const made = await this.client.create(base, s);
      this.expect(key, made.metadata.name, made.metadata.resourceVersion);
    }
    for (const s of plan.update) {
      const upd = await this.client.update(`${base}/${s.metadata.name}`, s);
      this.expect(key, upd.metadata.name, upd.metadata.resourceVersion);
    }
    for (const s of plan.delete) await this.remove(key, base, s);
  }

  async remove(key: string, base: string, s: any): Promise<void> {
    try {
      await this.client.delete(`${base}/${s.metadata.name}`, { apiVersion: 'v1', kind: 'DeleteOptions', preconditions: { uid: s.metadata.uid } });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    this.expect(key, s.metadata.name, '');
  }

  private expect(key: string, name: string, rv: string): void {
    let m = this.expected.get(key);
    if (!m) this.expected.set(key, (m = new Map()));
    m.set(name, rv);
  }
}
