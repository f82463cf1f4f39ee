import type { IncomingMessage } from 'node:http';
import YAML from 'yaml';
import { StatusError, badRequest } from './status.js';
import { decodeKubeProtobuf, isProtobufContentType, ProtobufDecodeError } from './protobuf/decode.js';

/** Upstream's request body limit (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;
/** Upstream's JSON nesting limit. */
export const MAX_DEPTH = 10_000;

/** Who wants to see a request's body once it is read (the audit log records request objects). */
const bodyObservers = new WeakMap<IncomingMessage, (body: Buffer) => void>();

/** Calls `fn` with the request's whole body when the handler reads it with readBody. */
export function observeBody(req: IncomingMessage, fn: (body: Buffer) => void): void {
  bodyObservers.set(req, fn);
}

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  // Plain listeners rather than `for await`: the async iterator costs more than the copy on every
  // request with a body. Outcomes are the iterator's: an oversized body destroys the request, a
  // request that closes before its end rejects with ERR_STREAM_PREMATURE_CLOSE.
  return new Promise<Buffer>((resolve, reject) => {
    if (req.readableEnded) return resolve(Buffer.alloc(0));
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done();
        req.destroy();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      bodyObservers.get(req)?.(body);
      resolve(body);
    };
    const onError = (err: Error) => {
      done();
      reject(err);
    };
    const onClose = () => {
      done();
      reject(Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function tooLarge(limit: number): StatusError {
  return new StatusError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limit}`);
}

/** Parse a JSON or YAML body into a value; malformed input is a 400 with the parser's reason. */
export function decodeBody(buf: Buffer, contentType: string | undefined, what = 'the request body'): unknown {
  const type = (contentType ?? 'application/json').split(';')[0].trim().toLowerCase();
  // kubectl's typed clients (create configmap/secret/deployment, auth can-i, …) send protobuf.
  if (isProtobufContentType(type)) {
    try {
      return decodeKubeProtobuf(buf).object;
    } catch (e) {
      if (e instanceof ProtobufDecodeError) {
        if (/no protobuf schema/.test(e.message)) throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (${e.message})`);
        throw badRequest(`error decoding protobuf body: ${e.message}`);
      }
      throw e;
    }
  }
  const text = buf.toString('utf8');
  if (!text.trim()) throw badRequest(`${what} is empty`);
  let value: unknown;
  let isJson = false;
  if (type === 'application/yaml' || type === 'application/apply-patch+yaml' || type === 'text/yaml') {
    try {
      const docs = YAML.parseAllDocuments(text);
      if (!Array.isArray(docs)) throw new Error('not a YAML document');
      if (docs.length !== 1) throw new Error('expected a single YAML document');
      if (docs[0].errors.length) throw docs[0].errors[0];
      value = docs[0].toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw badRequest(`error converting YAML to JSON: ${(e as Error).message}`);
    }
  } else if (type.endsWith('json') || type === '*/*' || type === '') {
    isJson = true;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
    }
  } else {
    throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`);
  }
  // JSON nested deeper than MAX_DEPTH takes more than MAX_DEPTH brackets: short JSON needs no walk
  // (YAML aliases can nest without brackets, so YAML is always walked).
  if (text.length > MAX_DEPTH || !isJson) checkDepth(value);
  normalizeNumbers(value, what);
  return value;
}

/**
 * Numbers as Kubernetes' decoders take them: `-0` is 0 (what JSON stores, and what Go's integers
 * read), and a number that does not fit (1e999, YAML's .inf and .nan) is refused as upstream's
 * decoding refuses it. Whatever is stored then reads back equal to what was written, which the
 * watch cache relies on when it keeps the written object instead of parsing it again.
 */
export function normalizeNumbers(root: unknown, what = 'the request body'): void {
  if (root === null || typeof root !== 'object') {
    if (typeof root === 'number' && !Number.isFinite(root)) throw badRequest(`${what} holds a number that cannot be represented (${root})`);
    return;
  }
  const stack: object[] = [root];
  while (stack.length) {
    const o = stack.pop() as Record<string, unknown>;
    for (const k in o) {
      const v = o[k];
      if (typeof v === 'number') {
        if (v === 0) {
          if (Object.is(v, -0)) o[k] = 0;
        } else if (!Number.isFinite(v)) {
          throw badRequest(`${what} holds a number that cannot be represented at ${pathTo(root, o, k)} (${v})`);
        }
      } else if (v !== null && typeof v === 'object') stack.push(v);
    }
  }
}

/** The path of `container[key]` in `root` ("spec.containers[0].ports[0].containerPort"), for messages. */
function pathTo(root: unknown, container: object, key: string): string {
  const find = (v: unknown, path: string): string | undefined => {
    if (v === container) return Array.isArray(v) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    if (v === null || typeof v !== 'object') return undefined;
    for (const [k, c] of Object.entries(v)) {
      const p = find(c, Array.isArray(v) ? `${path}[${k}]` : path ? `${path}.${k}` : k);
      if (p) return p;
    }
    return undefined;
  };
  return find(root, '') ?? key;
}

/** Iterative depth check: deeply nested input must be refused without recursing on it. */
function checkDepth(root: unknown): void {
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d > MAX_DEPTH) throw badRequest(`the request body exceeds the maximum nesting depth of ${MAX_DEPTH}`);
    for (const c of Object.values(v as object)) if (c !== null && typeof c === 'object') stack.push([c, d + 1]);
  }
}
