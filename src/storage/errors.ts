import { SkiffError } from '../util/errors.js';

/** The requested revision was compacted away; re-list from the latest revision. */
export class CompactedError extends SkiffError {
  constructor(readonly requested: number, readonly compacted: number, opts?: { cause?: unknown }) {
    super('STORAGE_COMPACTED', `required revision ${requested} has been compacted (compacted up to ${compacted})`, opts);
  }
}

/** The requested revision is newer than the store's. */
export class FutureRevisionError extends SkiffError {
  constructor(readonly requested: number, readonly current: number) {
    super('STORAGE_FUTURE_REVISION', `required revision ${requested} is a future revision (current ${current})`);
  }
}

/** The backend cannot be reached or failed; the operation may be retried. */
export class BackendUnavailableError extends SkiffError {
  constructor(message: string, opts?: { cause?: unknown }) {
    super('STORAGE_UNAVAILABLE', message, opts);
  }
}
