import { randomUUID, randomInt } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { Backend } from '../storage/backend.js';
import { CompactedError } from '../storage/errors.js';
import type { ResourceInfo } from './resources.js';
import { findByKey } from './resources.js';
import { strategyFor, type Strategy } from './strategy.js';
import { REGISTRY_PREFIX, storageOrder, type CachedObject, type WatchCache } from './watchcache.js';
import { deepCopy } from './clone.js';
import {
  StatusError,
  alreadyExists,
  badRequest,
  conflict,
  expired,
  invalid,
  namespaceTerminating,
  notFound,
  OPTIMISTIC_LOCK_MESSAGE,
} from './status.js';
import { validateObject, validateObjectUpdate, validateStatusUpdate, formatInvalidMessage } from './validation/index.js';
import { applyDefaults } from './defaults/index.js';
import { parseLabelSelector, type LabelSelector } from './selectors/labels.js';
import { parseFieldSelector, fieldsFor, convertFieldSelector } from './selectors/fields.js';
import { SelectorError } from './selectors/labels.js';
import { applyStrategicMergePatch, PatchError } from './patch/strategic.js';
import { applyMergePatch } from './patch/merge.js';
import { applyJsonPatch } from './patch/json.js';
import { patchMetaFor } from './openapi/schemas.js';
import { allocateServiceAddresses } from './serviceips.js';
import { DEFAULT_PLUGINS, runAdmission, type AdmissionPlugin } from './admission/index.js';
import type { UserInfo } from './auth/types.js';
import { admitCustom, normalizeCustom, validateCustom } from './crd/custom.js';
import { celWarnings } from './crd/validation.js';
import { applyConfiguration, managedFieldsAfterUpdate, type WriteContext } from './fieldmanager/manager.js';

export interface WriteOptions {
  dryRun?: boolean;
  /** Warnings to send back (Warning headers). */
  warnings?: string[];
  /** Who is writing (admission plugins may depend on it). */
  user?: UserInfo;
  /** Field validation of the object a patch produced (Strict/Warn/Ignore); returns the object to store. */
  check?: (obj: any) => any;
  /** Who owns the fields this write sets (metadata.managedFields); server-internal writes have none. */
  fieldManager?: string;
  /** Server-side apply: `force` takes fields other managers own. */
  apply?: { force: boolean };
  /** For server-internal writes on behalf of a client (scale): the subresource its managedFields entry names. */
  trackSubresource?: string;
  /**
   * The caller only serialises the result (the API handler): it may share parts with cached objects,
   * so no defensive copy is made. Anyone else gets a copy of their own.
   */
  forResponse?: boolean;
  /**
   * A storage-level update (upstream's binding): the object is stored as the mutation returns it,
   * without the strategy's update preparation and defaulting (which would reach into parts the
   * mutation shares with the stored object).
   */
  storageOnly?: boolean;
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListResult {
  items: CachedObject[];
  resourceVersion: string;
  continue?: string;
  /** Items after this page (a paginated list without selectors), as ListMeta.remainingItemCount. */
  remainingItemCount?: number;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
  user?: UserInfo;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

/** A compiled filter for lists and watches. */
export interface Filter {
  namespace?: string;
  label?: LabelSelector;
  field?: { matches(f: Record<string, string>): boolean };
  resourceKey: string;
}

const CRD_KEY = 'apiextensions.k8s.io/customresourcedefinitions';

/** Marks a server-internal write (not a client's main-resource update, which may not touch status). */
const INTERNAL_WRITE = '*internal*';

const GENERATE_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

let lastSecond = NaN;
let lastText = '';

/** RFC 3339 at second precision; formatted once per second (every write stamps a time or two). */
export function nowRFC3339(d = new Date()): string {
  const second = Math.floor(d.getTime() / 1000);
  if (second !== lastSecond) {
    lastText = d.toISOString().replace(/\.\d{3}Z$/, 'Z');
    lastSecond = second;
  }
  return lastText;
}

/**
 * The generic REST store over the backend and the watch cache, with upstream semantics for every
 * verb. One instance serves every resource; per-resource behaviour comes from strategy.ts.
 */
export class Registry {
  constructor(
    readonly backend: Backend,
    readonly cache: WatchCache,
    readonly admission: AdmissionPlugin[] = DEFAULT_PLUGINS,
  ) {}

  keyFor(info: ResourceInfo, namespace: string | undefined, name: string): string {
    return info.namespaced ? `${REGISTRY_PREFIX}${info.storageKey}/${namespace}/${name}` : `${REGISTRY_PREFIX}${info.storageKey}/${name}`;
  }

  prefixFor(info: ResourceInfo, namespace: string | undefined): string {
    return info.namespaced && namespace ? `${REGISTRY_PREFIX}${info.storageKey}/${namespace}/` : `${REGISTRY_PREFIX}${info.storageKey}/`;
  }

  /** Stored object → the shape this resource serves (a fresh copy the caller may change). */
  output(info: ResourceInfo, c: CachedObject): any {
    // A fresh copy from the cached JSON: parsing builds clean objects in one native pass, where
    // copying the cached graph (shapes as requests and defaulting left them) cost ~2x under load.
    const obj = JSON.parse(c.raw);
    const s = strategyFor(info);
    return s.fromStorage ? s.fromStorage(obj) : withTypeMeta(info, obj);
  }

  /** Serialized form for responses: the cached JSON when no conversion is needed. */
  outputRaw(info: ResourceInfo, c: CachedObject): string {
    const s = strategyFor(info);
    if (s.fromStorage) return JSON.stringify(s.fromStorage(JSON.parse(c.raw)));
    return c.raw;
  }

  async get(info: ResourceInfo, namespace: string | undefined, name: string, resourceVersion?: string): Promise<CachedObject> {
    if (resourceVersion !== '0') await this.cache.sync();
    const c = this.cache.get(this.keyFor(info, namespace, name));
    if (!c) throw notFound(info.group, info.resource, name);
    return c;
  }

  compileFilter(info: ResourceInfo, namespace: string | undefined, opts: { labelSelector?: string; fieldSelector?: string }): Filter {
    const f: Filter = { namespace: info.namespaced ? namespace : undefined, resourceKey: info.key };
    try {
      if (opts.labelSelector) f.label = parseLabelSelector(opts.labelSelector);
    } catch (e) {
      if (e instanceof SelectorError) throw badRequest(e.message);
      throw e;
    }
    if (opts.fieldSelector) {
      try {
        f.field = convertFieldSelector(info.key, parseFieldSelector(opts.fieldSelector), info.custom ? { crd: { namespaced: info.namespaced, selectableFields: info.custom.selectableFields } } : undefined);
      } catch (e) {
        if (e instanceof SelectorError) throw badRequest(e.message);
        throw e;
      }
    }
    return f;
  }

  matches(info: ResourceInfo, f: Filter, obj: any): boolean {
    if (f.namespace && obj.metadata?.namespace !== f.namespace) return false;
    if (f.label && !f.label.matches(obj.metadata?.labels ?? {})) return false;
    if (f.field && !f.field.matches(fieldsFor(info.key, obj, info.custom ? { crd: { namespaced: info.namespaced, selectableFields: info.custom.selectableFields } } : undefined))) return false;
    return true;
  }

  async list(info: ResourceInfo, namespace: string | undefined, opts: ListOptions): Promise<ListResult> {
    const filter = this.compileFilter(info, namespace, opts);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const prefix = this.prefixFor(info, namespace);
    if (opts.continue) return this.listContinue(info, filter, prefix, limit, opts.continue);
    const rv = opts.resourceVersion;
    if (rv && rv !== '0' && opts.resourceVersionMatch === 'Exact') {
      return this.listFromBackend(info, filter, prefix, limit, parseRV(rv), prefix);
    }
    if (rv && rv !== '0') await this.cache.waitFor(parseRV(rv)).catch((e) => { throw new StatusError(504, 'Timeout', e.message); });
    else if (rv !== '0') await this.cache.sync();
    const revision = this.cache.revision;
    const all = this.cache.list(info.storageKey, prefix);
    const items: CachedObject[] = [];
    let next: string | undefined;
    let remaining: number | undefined;
    for (let i = 0; i < all.length; i++) {
      const c = all[i];
      if (!this.matches(info, filter, c.obj)) continue;
      if (limit && items.length === limit) {
        next = c.key;
        // As upstream: how many items follow, when no selector makes that a guess (the prefix is exact).
        if (!filter.label && !filter.field) remaining = all.length - i;
        break;
      }
      items.push(c);
    }
    return { items, resourceVersion: String(revision), continue: next ? encodeContinue(revision, next) : undefined, remainingItemCount: remaining };
  }

  private async listContinue(info: ResourceInfo, filter: Filter, prefix: string, limit: number, token: string): Promise<ListResult> {
    const { rv, start } = decodeContinue(token);
    return this.listFromBackend(info, filter, prefix, limit, rv, start);
  }

  /** Pages at a fixed revision come from the backend, which keeps history until compaction. */
  private async listFromBackend(info: ResourceInfo, filter: Filter, prefix: string, limit: number, revision: number, startKey: string): Promise<ListResult> {
    const items: CachedObject[] = [];
    let start = startKey;
    let next: string | undefined;
    try {
      for (;;) {
        const page = await this.backend.list(prefix, { revision, startKey: start, limit: limit ? limit + 1 : 0 });
        for (const kv of page.kvs) {
          const obj = JSON.parse(kv.value);
          obj.metadata.resourceVersion = String(kv.modRevision);
          if (!this.matches(info, filter, obj)) continue;
          if (limit && items.length === limit) {
            next = kv.key;
            break;
          }
          items.push({ key: kv.key, obj, raw: JSON.stringify(obj), rv: kv.modRevision });
        }
        if (next || !page.more || page.kvs.length === 0) break;
        start = page.kvs[page.kvs.length - 1].key + '\0';
      }
    } catch (e) {
      if (e instanceof CompactedError) {
        throw expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
      }
      throw e;
    }
    return { items, resourceVersion: String(revision), continue: next ? encodeContinue(revision, next) : undefined };
  }

  async create(info: ResourceInfo, namespace: string | undefined, input: any, opts: WriteOptions): Promise<any> {
    const s = strategyFor(info);
    let obj = input;
    obj.metadata ??= {};
    const meta = obj.metadata;
    if (info.namespaced) {
      if (meta.namespace && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace;
      await this.requireNamespace(namespace!, info, meta.name || meta.generateName || '');
    } else {
      delete meta.namespace;
    }
    if (meta.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
    // Upstream generates the name after admission: its refusals name the generateName prefix.
    const generated = !meta.name && meta.generateName ? (meta.name = meta.generateName + randomSuffix()) : undefined;
    if (!meta.name) {
      throw invalid(info.group, info.kind, '', [{ type: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }], `${info.kind} "" is invalid: metadata.name: Required value: name or generateName is required`);
    }
    meta.uid = randomUUID();
    meta.creationTimestamp = nowRFC3339();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if (info.generation) meta.generation = 1;
    else delete meta.generation;
    // Field ownership is recorded in the version the client wrote (upstream's fieldmanager runs on the
    // versioned object), so a converted resource keeps its request's shape for that.
    const applied = s.toStorage && opts.apply ? deepCopy(obj) : obj;
    if (s.toStorage) obj = s.toStorage(obj);
    const storageInfo = storageInfoOf(info);
    strategyFor(storageInfo).prepareForCreate?.(obj, opts.user);
    s.prepareForCreate?.(obj, opts.user);
    if (opts.fieldManager !== undefined) {
      const ctx = writeContext(info, opts.fieldManager, '');
      if (opts.apply) {
        meta.managedFields = applyConfiguration(undefined, applied, ctx, true).managedFields;
        applyDefaults(storageInfo.key, obj);
      } else {
        applyDefaults(storageInfo.key, obj);
        meta.managedFields = managedFieldsAfterUpdate(undefined, versionedView(s, obj), ctx);
      }
    } else applyDefaults(storageInfo.key, obj);
    try {
      await runAdmission(this.admission, { info: storageInfo, operation: 'CREATE', object: obj, namespace, dryRun: !!opts.dryRun, registry: this, user: opts.user, warnings: opts.warnings });
    } catch (e) {
      throw generated ? namedAsRequested(e, generated, obj.metadata.generateName) : e;
    }
    strategyFor(storageInfo).afterCreateAdmission?.(obj, opts.user);
    if (info.custom) {
      if (this.customTerminating(info)) throw new StatusError(405, 'MethodNotAllowed', `create not allowed while custom resource definition is terminating`);
      // Upstream drops status on create when the status subresource is enabled.
      if (info.subresources.includes('status')) delete obj.status;
      const errs = admitCustom(info, obj);
      if (errs.length) throw invalid(info.group, info.kind, meta.name, errs, formatInvalidMessage(info.kind, meta.name, errs, info.group));
    }
    this.validateCreate(storageInfo, obj, info);
    if (storageInfo.key === CRD_KEY && opts.warnings) opts.warnings.push(...celWarnings(obj));
    if (storageInfo.key === 'services') {
      // A Service that already exists is AlreadyExists, not "its clusterIP is allocated" (by itself).
      if (this.cache.get(this.keyFor(info, namespace, meta.name))) throw alreadyExists(info.group, info.resource, meta.name);
      await allocateServiceAddresses(this, obj, undefined);
    }
    obj = withTypeMeta(storageInfo, obj);
    if (opts.dryRun) return this.present(info, obj, 0);
    const key = this.keyFor(info, namespace, meta.name);
    const stored = storageOrder(obj);
    stored.metadata = { ...obj.metadata };
    const res = await this.store(key, JSON.stringify(stored), stored, opts, (value) => this.backend.create(key, value));
    if (!res.ok) throw alreadyExists(info.group, info.resource, meta.name);
    // The object came from this request alone: no copy needed before it is returned.
    return this.withRaw(info, key, res.revision, this.present(info, obj, res.revision, true));
  }

  /**
   * Writes `value` (the JSON of `stored`). For a client's request, whose object nothing else
   * references, the watch cache adopts `stored` itself instead of parsing the value back.
   */
  private async store<R>(key: string, value: string, stored: any, opts: WriteOptions, write: (value: string) => Promise<R>): Promise<R> {
    if (!opts.forResponse) return write(value);
    const release = this.cache.expectWrite(key, value, stored);
    try {
      return await write(value);
    } finally {
      release();
    }
  }

  /** The CRD of a custom resource is being deleted (its instances are going). */
  private customTerminating(info: ResourceInfo): boolean {
    const crd = this.cache.get(`${REGISTRY_PREFIX}apiextensions.k8s.io/customresourcedefinitions/${info.custom!.crdName}`);
    return !!crd?.obj.metadata?.deletionTimestamp;
  }

  private validateCreate(storageInfo: ResourceInfo, obj: any, info: ResourceInfo): void {
    const errs = validateObject(storageInfo.key, obj, { namespaced: storageInfo.namespaced });
    if (errs.length) throw invalid(info.group, info.kind, obj.metadata?.name ?? '', errs, formatInvalidMessage(info.kind, obj.metadata?.name ?? '', errs, info.group));
  }

  /**
   * Remembers, for a write's result, the JSON the watch cache already holds for that revision, so the
   * response is sent without serialising the object again. The cache has it when the backend
   * publishes before acknowledging (sqlite); otherwise (or with a conversion) the result is encoded.
   */
  private withRaw(info: ResourceInfo, key: string, rv: number, out: any): any {
    const c = this.cache.get(key);
    if (c && c.rv === rv && !strategyFor(info).fromStorage) writtenJson.set(out, c.raw);
    return out;
  }

  private present(info: ResourceInfo, obj: any, rv: number, owned = false): any {
    const out = owned ? obj : deepCopy(obj);
    if (rv) out.metadata.resourceVersion = String(rv);
    const s = strategyFor(info);
    return s.fromStorage ? s.fromStorage(out) : out;
  }

  /** The namespace exists and is not terminating (NamespaceLifecycle's refusal names the object being created). */
  async requireNamespace(namespace: string, info?: ResourceInfo, name = ''): Promise<void> {
    const ns = this.cache.get(`${REGISTRY_PREFIX}namespaces/${namespace}`) ?? (await this.cache.sync(), this.cache.get(`${REGISTRY_PREFIX}namespaces/${namespace}`));
    if (!ns) throw notFound('', 'namespaces', namespace);
    if (ns.obj.metadata?.deletionTimestamp || ns.obj.status?.phase === 'Terminating') throw namespaceTerminating(namespace, info?.group ?? '', info?.resource ?? 'namespaces', name);
  }

  /**
   * Update (PUT) or a patch result. `subresource` 'status' changes only status; the main resource
   * cannot change status when a status subresource exists, as upstream.
   */
  async update(info: ResourceInfo, namespace: string | undefined, name: string, input: any, opts: WriteOptions & { subresource?: string }): Promise<any> {
    if (input?.metadata?.name && input.metadata.name !== name) {
      throw badRequest(`the name of the object (${input.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (info.namespaced && input?.metadata?.namespace && input.metadata.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const wanted = input?.metadata?.resourceVersion as string | undefined;
    // A uid in the body is a precondition, as upstream's defaultUpdatedObjectInfo.Preconditions.
    const uid = input?.metadata?.uid as string | undefined;
    const key = this.keyFor(info, namespace, name);
    return this.guaranteedUpdate(info, namespace, name, !!wanted, (cur) => {
      if (uid && uid !== cur.obj.metadata.uid) throw preconditionFailed(info, name, key, `UID in precondition: ${uid}, UID in object meta: ${cur.obj.metadata.uid}`);
      if (wanted && wanted !== String(cur.rv)) throw conflict(info.group, info.resource, name, OPTIMISTIC_LOCK_MESSAGE);
      return deepCopy(input);
    }, opts).catch((e) => {
      // Upstream checks preconditions against an absent object too: a uid never matches nothing.
      if (uid && e instanceof StatusError && e.code === 404) throw preconditionFailed(info, name, key, `UID in precondition: ${uid}, UID in object meta: `);
      throw e;
    });
  }

  async patch(info: ResourceInfo, namespace: string | undefined, name: string, type: PatchType, patch: any, opts: WriteOptions & { subresource?: string }): Promise<any> {
    return this.guaranteedUpdate(info, namespace, name, false, (cur) => {
      const original = this.output(info, cur);
      let patched: any;
      try {
        if (type === 'apply') {
          const r = applyConfiguration(original, patch, writeContext(info, opts.fieldManager ?? '', opts.subresource ?? ''), !!opts.apply?.force);
          patched = r.object;
          patched.metadata = { ...patched.metadata, managedFields: r.managedFields };
        }
        // `original` is this write's own copy: the patch is applied to it in place.
        else if (type === 'json') patched = applyJsonPatch(original, patch, true);
        else if (type === 'merge') patched = applyMergePatch(original, patch, true);
        else patched = applyStrategicMergePatch(original, patch, patchMetaFor(info.group, info.version, info.kind), true);
      } catch (e) {
        if (e instanceof StatusError) throw e;
        if (e instanceof PatchError) throw patchStatus(e);
        throw e;
      }
      if (patched === null || typeof patched !== 'object' || Array.isArray(patched)) throw badRequest('the patch must produce an object');
      const rv = patched.metadata?.resourceVersion;
      if (rv && rv !== String(cur.rv)) throw conflict(info.group, info.resource, name, OPTIMISTIC_LOCK_MESSAGE);
      // A resourceVersion equal to the current one is either the client's precondition (met) or just
      // carried over from the original: either way a conflicting write is retried against fresh state,
      // and a stale precondition then fails above.
      patched.metadata ??= {};
      patched.metadata.resourceVersion = String(cur.rv);
      if (patched.metadata.name !== name) throw badRequest(`the name of the object (${patched.metadata.name}) does not match the name on the URL (${name})`);
      return patched;
    }, opts);
  }

  /**
   * Read-modify-write with optimistic concurrency: retried on a conflicting write unless the client
   * pinned a resourceVersion (then the conflict is theirs to resolve).
   */
  private async guaranteedUpdate(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    pinned: boolean,
    mutate: (cur: CachedObject) => any,
    opts: WriteOptions & { subresource?: string },
  ): Promise<any> {
    const key = this.keyFor(info, namespace, name);
    const storageInfo = storageInfoOf(info);
    const s = strategyFor(info);
    // Writes may share parts with the stored object they started from, never change it: the test
    // suite checks each one once it settled.
    const touched: CachedObject[] = [];
    try {
      for (let attempt = 0; ; attempt++) {
        await this.cache.sync();
        let cur = this.cache.get(key);
        if (attempt > 0) {
          const fresh = await this.backend.get(key);
          cur = fresh.kv ? { key, obj: JSON.parse(fresh.kv.value), raw: '', rv: fresh.kv.modRevision } : undefined;
          if (cur) {
            cur.obj.metadata.resourceVersion = String(cur.rv);
            (cur as { raw: string }).raw = JSON.stringify(cur.obj);
          }
        }
        if (!cur) throw notFound(info.group, info.resource, name);
        if (VERIFY_SHARED) touched.push(cur);
        let obj = mutate(cur);
        if (opts.check) obj = opts.check(obj);
        if (s.toStorage) obj = s.toStorage(obj);
        const old = cur.obj;
        if (!opts.storageOnly) obj = this.prepareUpdate(storageInfo, obj, old, opts.subresource);
        const trackAs = opts.subresource === INTERNAL_WRITE ? opts.trackSubresource : (opts.subresource ?? '');
        if (opts.fieldManager === undefined || trackAs === undefined) {
          if (old.metadata.managedFields) obj.metadata.managedFields = old.metadata.managedFields;
          else delete obj.metadata.managedFields;
        } else if (!opts.apply) {
          obj.metadata.managedFields = managedFieldsAfterUpdate(versionedView(s, old), versionedView(s, obj), writeContext(info, opts.fieldManager, trackAs));
        }
        // Server-internal writes made without a user (e.g. quota status) skip admission, so it cannot recurse.
        if (!(opts.subresource === INTERNAL_WRITE && !opts.user)) {
          await runAdmission(this.admission, {
            info: storageInfo,
            operation: 'UPDATE',
            object: obj,
            oldObject: old,
            namespace,
            subresource: opts.subresource === INTERNAL_WRITE ? undefined : opts.subresource,
            dryRun: !!opts.dryRun,
            registry: this,
            user: opts.user,
            warnings: opts.warnings,
          });
        }
        if (isDeepStrictEqual(obj, old)) return this.present(info, old, cur.rv);
        if (storageInfo.key === 'services') await allocateServiceAddresses(this, obj, old);
        // Server-internal writes (binding, scale) check their own input, as upstream's subresource REST does.
        const errs =
          opts.subresource === INTERNAL_WRITE ? []
          : opts.subresource === 'status' || opts.subresource === 'approval' ? validateStatusUpdate(storageInfo.key, obj, old, { namespaced: storageInfo.namespaced }, opts.subresource)
          : validateObjectUpdate(storageInfo.key, obj, old, { namespaced: storageInfo.namespaced });
        if (info.custom && opts.subresource !== INTERNAL_WRITE) errs.push(...validateCustom(info, obj, old));
        if (errs.length) throw invalid(info.group, info.kind, name, errs, formatInvalidMessage(info.kind, name, errs, info.group));
        if (storageInfo.key === CRD_KEY && opts.warnings && opts.subresource === undefined) opts.warnings.push(...celWarnings(obj));
        if (opts.dryRun) return this.present(info, obj, cur.rv);
        const stored = storageOrder(obj);
        stored.metadata = { ...obj.metadata };
        delete stored.metadata.resourceVersion;
        // Removing the last finalizer of an object being deleted completes the deletion — but not during
        // a graceful deletion (a pod's status updates while it terminates): its owner deletes it, as upstream.
        if (stored.metadata.deletionTimestamp && !stored.metadata.finalizers?.length && !(stored.metadata.deletionGracePeriodSeconds > 0) && !strategyFor(storageInfo).blocksDeletion?.(stored)) {
          const del = await this.backend.delete(key, cur.rv);
          if (del.ok) return this.present(info, obj, del.revision);
        } else {
          const res = await this.store(key, JSON.stringify(stored), stored, opts, (value) => this.backend.update(key, value, cur!.rv));
          // A conversion (fromStorage) may change the object in place: then it gets its own copy.
          if (res.ok) return this.withRaw(info, key, res.revision, this.present(info, obj, res.revision, opts.forResponse && !s.fromStorage));
        }
        if (pinned || attempt >= 20) throw conflict(info.group, info.resource, name, OPTIMISTIC_LOCK_MESSAGE);
      }
    } finally {
      for (const c of touched) verifyUnchanged(c);
    }
  }

  /** Carry over what clients may not change, bump generation, apply status rules and defaults. */
  private prepareUpdate(storageInfo: ResourceInfo, obj: any, old: any, subresource?: string): any {
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw badRequest('the body must be an object');
    obj = withTypeMeta(storageInfo, obj);
    obj.metadata ??= {};
    const m = obj.metadata;
    const om = old.metadata;
    const forStatus = subresource === 'status' ? strategyFor(storageInfo).prepareForStatusUpdate : undefined;
    // A subresource with rules of its own (namespace finalize, CSR status and approval) builds the next object from the old one.
    const forSub = subresource ? strategyFor(storageInfo).subresourceUpdates?.[subresource] : undefined;
    if (forSub) return forSub(obj, old);
    if (subresource === 'status' && !forStatus) {
      // A status write changes status only.
      const next = deepCopy(old);
      next.status = obj.status;
      if (storageInfo.custom) normalizeCustom(storageInfo, next);
      return next;
    }
    m.name = om.name;
    if (storageInfo.namespaced) m.namespace = om.namespace;
    m.uid = om.uid;
    m.creationTimestamp = om.creationTimestamp;
    m.resourceVersion = om.resourceVersion;
    if (om.deletionTimestamp) {
      m.deletionTimestamp = om.deletionTimestamp;
      m.deletionGracePeriodSeconds = om.deletionGracePeriodSeconds;
    } else {
      delete m.deletionTimestamp;
      delete m.deletionGracePeriodSeconds;
    }
    delete m.selfLink;
    if (forStatus) {
      // A status write that may change metadata too (pods): no defaulting, no generation bump.
      forStatus(obj, old);
      if (om.generation !== undefined) m.generation = om.generation;
      else delete m.generation;
      return obj;
    }
    if (storageInfo.subresources.includes('status') && subresource !== INTERNAL_WRITE) {
      if (old.status === undefined) delete obj.status;
      else obj.status = deepCopy(old.status);
    }
    strategyFor(storageInfo).prepareForUpdate?.(obj, old);
    applyDefaults(storageInfo.key, obj);
    if (storageInfo.custom) normalizeCustom(storageInfo, obj);
    if (storageInfo.generation) {
      // Custom resources without a status subresource count status changes too, as upstream.
      const strip = storageInfo.custom && !storageInfo.subresources.includes('status') ? stripMeta : stripMetaStatus;
      const specChanged = !isDeepStrictEqual(strip(obj), strip(old));
      m.generation = (om.generation ?? 1) + (specChanged ? 1 : 0);
    } else if (om.generation !== undefined) m.generation = om.generation;
    else delete m.generation;
    return obj;
  }

  async delete(info: ResourceInfo, namespace: string | undefined, name: string, opts: DeleteOptions): Promise<{ obj: any; deleted: boolean }> {
    const seen: CachedObject[] = [];
    try {
      return await this.deleteOnce(info, namespace, name, opts, seen);
    } finally {
      // The stored object is read, not copied, until a graceful deletion marks its own copy.
      if (VERIFY_SHARED) for (const c of seen) verifyUnchanged(c);
    }
  }

  private async deleteOnce(info: ResourceInfo, namespace: string | undefined, name: string, opts: DeleteOptions, seen: CachedObject[]): Promise<{ obj: any; deleted: boolean }> {
    const key = this.keyFor(info, namespace, name);
    const storageInfo = storageInfoOf(info);
    for (let attempt = 0; ; attempt++) {
      await this.cache.sync();
      let cur = this.cache.get(key);
      if (attempt > 0) {
        const fresh = await this.backend.get(key);
        cur = fresh.kv ? toCachedLoose(key, fresh.kv.value, fresh.kv.modRevision) : undefined;
      }
      if (!cur) throw notFound(info.group, info.resource, name);
      seen.push(cur);
      const p = opts.preconditions;
      if (p?.uid && p.uid !== cur.obj.metadata.uid) {
        throw preconditionFailed(info, name, key, `UID in precondition: ${p.uid}, UID in object meta: ${cur.obj.metadata.uid}`);
      }
      if (p?.resourceVersion && p.resourceVersion !== String(cur.rv)) {
        throw preconditionFailed(info, name, key, `ResourceVersion in precondition: ${p.resourceVersion}, ResourceVersion in object meta: ${cur.rv}`);
      }
      if (attempt === 0) {
        await runAdmission(this.admission, { info: storageInfo, operation: 'DELETE', object: undefined, oldObject: cur.obj, namespace, dryRun: !!opts.dryRun, registry: this, user: opts.user });
      }
      // Read-only until a graceful deletion needs its own copy to mark (below).
      let obj = cur.obj;
      let m = obj.metadata;
      const finalizers: string[] = [...(m.finalizers ?? [])];
      const policy = opts.propagationPolicy ?? (opts.orphanDependents === true ? 'Orphan' : opts.orphanDependents === false ? 'Background' : undefined);
      const want = (f: string, on: boolean) => {
        const i = finalizers.indexOf(f);
        if (on && i < 0) finalizers.push(f);
        if (!on && i >= 0) finalizers.splice(i, 1);
      };
      if (policy) {
        want('orphan', policy === 'Orphan');
        want('foregroundDeletion', policy === 'Foreground');
      }
      let grace = opts.gracePeriodSeconds;
      const dflt = strategyFor(storageInfo).defaultGracePeriod?.(obj);
      if (dflt === undefined) grace = 0;
      else if (grace === undefined) grace = dflt;
      else if (dflt === 0) grace = 0;
      const st = strategyFor(storageInfo);
      const blocked = finalizers.length > 0 || !!st.blocksDeletion?.(obj);
      if (!blocked && grace === 0 && !(m.deletionTimestamp && m.finalizers?.length)) {
        if (opts.dryRun) return { obj: this.present(info, obj, cur.rv), deleted: true };
        const res = await this.backend.delete(key, cur.rv);
        if (res.ok) return { obj: this.present(info, obj, res.revision), deleted: true };
        continue;
      }
      // Graceful or finalized deletion: mark the object and let its owner (kubelet, GC) finish.
      obj = deepCopy(cur.obj);
      m = obj.metadata;
      const now = Date.now();
      if (m.deletionTimestamp) {
        const cur2 = m.deletionGracePeriodSeconds ?? 0;
        if (grace >= cur2 && isDeepStrictEqual(finalizers, m.finalizers ?? [])) return { obj: this.present(info, obj, cur.rv), deleted: false };
        if (grace < cur2) {
          m.deletionTimestamp = nowRFC3339(new Date(now + grace * 1000));
          m.deletionGracePeriodSeconds = grace;
        }
      } else {
        m.deletionTimestamp = nowRFC3339(new Date(now + grace * 1000));
        m.deletionGracePeriodSeconds = grace;
      }
      if (finalizers.length) m.finalizers = finalizers;
      else delete m.finalizers;
      st.markDeleting?.(obj);
      if (opts.dryRun) return { obj: this.present(info, obj, cur.rv), deleted: false };
      const stored = storageOrder(obj);
      stored.metadata = { ...m };
      delete stored.metadata.resourceVersion;
      const res = await this.backend.update(key, JSON.stringify(stored), cur.rv);
      if (res.ok) return { obj: this.present(info, obj, res.revision), deleted: false };
      if (attempt >= 20) throw conflict(info.group, info.resource, name, OPTIMISTIC_LOCK_MESSAGE);
    }
  }

  /** Deletes every object the list options select; each delete follows the same rules as a single one. */
  async deleteCollection(info: ResourceInfo, namespace: string | undefined, listOpts: ListOptions, opts: DeleteOptions): Promise<any[]> {
    const { items } = await this.list(info, namespace, { ...listOpts, limit: 0, continue: undefined });
    const out: any[] = [];
    for (const c of items) {
      try {
        const r = await this.delete(info, c.obj.metadata.namespace, c.obj.metadata.name, opts);
        out.push(r.obj);
      } catch (e) {
        if (e instanceof StatusError && e.code === 404) continue;
        throw e;
      }
    }
    return out;
  }

  /**
   * A server-side read-modify-write (binding, scale): the whole object, status included, may change;
   * `as` records the writer's fields under that subresource.
   */
  async mutate(info: ResourceInfo, namespace: string | undefined, name: string, fn: (obj: any) => any, as?: { fieldManager: string; subresource: string }, opts?: { forResponse?: boolean }): Promise<any> {
    return this.guaranteedUpdate(info, namespace, name, false, (cur) => fn(this.output(info, cur)), { subresource: INTERNAL_WRITE, fieldManager: as?.fieldManager, trackSubresource: as?.subresource, forResponse: opts?.forResponse });
  }

  /**
   * As mutate, but `next` is given the cached object itself (read-only, shared with every reader)
   * and returns a new object that copies what it changes and shares the rest: no copy of the whole
   * object for a small change (a pod's binding). The write path after it changes only the top level
   * and metadata, which guaranteedUpdate copies; the test suite checks that the cached object stays
   * as it was (SKIFF_VERIFY_CACHE_HINTS).
   */
  async mutateShared(info: ResourceInfo, namespace: string | undefined, name: string, next: (cached: any) => any, opts?: { forResponse?: boolean }): Promise<any> {
    if (strategyFor(info).toStorage || strategyFor(info).fromStorage) return this.mutate(info, namespace, name, next, undefined, opts);
    return this.guaranteedUpdate(info, namespace, name, false, (cur) => {
      const obj = next(cur.obj);
      if (obj === cur.obj) throw new Error('mutateShared: return a new object');
      return { ...obj, metadata: { ...obj.metadata } };
    }, { subresource: INTERNAL_WRITE, forResponse: opts?.forResponse, storageOnly: true });
  }
}

const VERIFY_SHARED = process.env.SKIFF_VERIFY_CACHE_HINTS === '1';

/** Soon after a write, the cached object it started from must still match its JSON: writes may share its parts, never change them. */
function verifyUnchanged(cur: CachedObject): void {
  setImmediate(() => {
    const was = JSON.parse(cur.raw);
    if (!isDeepStrictEqual(was, cur.obj)) {
      sharedMutations++;
      console.error(`registry: a write changed the cached object ${cur.key} in place (a registry bug):\n  now: ${JSON.stringify(cur.obj)}\n  was: ${cur.raw}`);
    }
  });
}

let sharedMutations = 0;
/** How many shared mutations changed a cached object in place (tests fail on any). */
export function sharedMutationErrors(): number {
  return sharedMutations;
}

/** Write results → their JSON as stored at that revision (see Registry.withRaw). */
const writtenJson = new WeakMap<object, string>();

/**
 * The JSON of a write's result as the registry returned it, if known: valid only while the caller
 * has not changed the object (the API handler sends it straight away).
 */
export function writtenJsonOf(obj: unknown): string | undefined {
  return obj !== null && typeof obj === 'object' ? writtenJson.get(obj) : undefined;
}

function stripMeta(o: any): any {
  const { metadata: _m, ...rest } = o;
  return rest;
}

function stripMetaStatus(o: any): any {
  const { metadata: _m, status: _s, ...rest } = o;
  return rest;
}

/** The object as the resource's own version shows it (a copy when converted), for field ownership. */
function versionedView(s: Strategy, obj: any): any {
  return s.fromStorage ? s.fromStorage(deepCopy(obj)) : obj;
}

function storageInfoOf(info: ResourceInfo): ResourceInfo {
  return info.storageKey === info.key ? info : findByKey(info.storageKey)!;
}

export function withTypeMeta(info: ResourceInfo, obj: any): any {
  if (obj.apiVersion === info.apiVersion && obj.kind === info.kind) return obj;
  const { apiVersion: _a, kind: _k, ...rest } = obj;
  return { apiVersion: info.apiVersion, kind: info.kind, ...rest };
}

function toCachedLoose(key: string, value: string, rv: number): CachedObject {
  const obj = JSON.parse(value);
  obj.metadata.resourceVersion = String(rv);
  return { key, obj, raw: JSON.stringify(obj), rv };
}

function randomSuffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += GENERATE_CHARS[randomInt(GENERATE_CHARS.length)];
  return s;
}

export function parseRV(rv: string): number {
  if (!/^\d+$/.test(rv)) throw badRequest(`Invalid value: "${rv}": resourceVersion must be an integer`);
  return Number(rv);
}

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64');
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    if (t.v !== 'meta.k8s.io/v1' || typeof t.rv !== 'number' || typeof t.start !== 'string' || !t.start.startsWith(REGISTRY_PREFIX)) throw new Error('bad');
    return t;
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}

/** The code upstream sends for a patch that cannot be applied (the engine knows which). */
export function patchStatus(e: PatchError): StatusError {
  switch (e.status) {
    case 400:
      return badRequest(e.message);
    case 413:
      return new StatusError(413, 'RequestEntityTooLarge', e.message);
    case 422:
      return new StatusError(422, 'Invalid', e.message);
    default:
      // Upstream passes other patch errors on as plain errors: a 500 without a reason ("Error from server: …").
      return new StatusError(500, '', e.message);
  }
}

/** A failed uid or resourceVersion precondition, worded as upstream's storage error behind the Conflict. */
function preconditionFailed(info: ResourceInfo, name: string, key: string, what: string): StatusError {
  return conflict(info.group, info.resource, name, `StorageError: invalid object, Code: 4, Key: ${key}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: ${what}`);
}

/** An admission refusal of an object whose name the server generated names its generateName prefix, as upstream's (it generates later). */
function namedAsRequested(e: unknown, generated: string, prefix: string): unknown {
  if (!(e instanceof StatusError) || e.details?.name !== generated) return e;
  const out = new StatusError(e.code, e.reason, e.message.split(`"${generated}"`).join(`"${prefix}"`), { ...e.details, name: prefix }, { cause: e.cause });
  return out;
}

function writeContext(info: ResourceInfo, manager: string, subresource: string): WriteContext {
  const storageInfo = storageInfoOf(info);
  return {
    manager,
    apiVersion: info.group ? `${info.group}/${info.version}` : info.version,
    subresource,
    hasStatus: storageInfo.subresources.includes('status'),
    meta: patchMetaFor(info.group, info.version, info.kind),
    now: nowRFC3339(),
  };
}
