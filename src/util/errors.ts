/**
 * Base of Skiff's error hierarchy: every error carries a stable machine-readable `code`
 * and a message that says what to do about it.
 */
export class SkiffError extends Error {
  constructor(readonly code: string, message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = new.target.name;
  }
}
