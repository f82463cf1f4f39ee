import { createRequire } from 'node:module';

export type X509Module = typeof import('@peculiar/x509');

let x509: X509Module | undefined;
/**
 * @peculiar/x509, loaded on first use (~100 ms: only what handles certificates pays for it) through
 * require (measurably faster than ESM-wrapping its CJS build), with Node's WebCrypto as its provider.
 */
export function x509Lib(): X509Module {
  if (!x509) {
    x509 = createRequire(import.meta.url)('@peculiar/x509') as X509Module;
    x509.cryptoProvider.set(globalThis.crypto);
  }
  return x509;
}
