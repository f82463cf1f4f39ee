/** ConfigMap and Secret validation: key syntax, the 1 MiB size limit, immutability, secret types. */
import { Buffer } from 'node:buffer';
import type { FieldError } from './types.js';
import { forbidden, invalid, key, required, tooLong } from './errors.js';
import { byteLength, isConfigMapKey, nameIsDNSSubdomain } from './names.js';
import { validateImmutableField, validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { semanticEqual } from './equal.js';

export const MAX_SECRET_SIZE = 1024 * 1024;

const isObj = (v: unknown): v is Record<string, any> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
/** Wire-form []byte values are base64; sizes count decoded bytes. */
const decodedLength = (v: unknown): number => Buffer.from(str(v), 'base64').length;

export function validateConfigMap(cm: any): FieldError[] {
  const errs = validateObjectMeta(cm?.metadata, true, nameIsDNSSubdomain);
  const data = isObj(cm?.data) ? cm.data : {};
  const binary = isObj(cm?.binaryData) ? cm.binaryData : {};
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(key('data', k), k, m));
    if (k in binary) errs.push(invalid(key('data', k), k, 'duplicate of key present in binaryData'));
    total += byteLength(str(v));
  }
  for (const [k, v] of Object.entries(binary)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(key('binaryData', k), k, m));
    total += decodedLength(v);
  }
  // Upstream reports the size on field.NewPath(""), which prints as "[]".
  if (total > MAX_SECRET_SIZE) errs.push(tooLong('[]', MAX_SECRET_SIZE));
  return errs;
}

export function validateConfigMapUpdate(cm: any, old: any): FieldError[] {
  const errs = validateObjectMetaUpdate(cm?.metadata, old?.metadata);
  if (old?.immutable === true) {
    if (cm?.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
    if (!semanticEqual(cm?.data, old?.data)) errs.push(forbidden('data', 'field is immutable when `immutable` is set'));
    if (!semanticEqual(cm?.binaryData, old?.binaryData)) errs.push(forbidden('binaryData', 'field is immutable when `immutable` is set'));
  }
  return errs.concat(validateConfigMap(cm));
}

/** Secret data after conversion: stringData entries overwrite data entries. */
function secretData(secret: any): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of Object.entries(isObj(secret?.data) ? secret.data : {})) out.set(k, decodedLength(v));
  for (const [k, v] of Object.entries(isObj(secret?.stringData) ? secret.stringData : {})) out.set(k, byteLength(str(v)));
  return out;
}

function secretValue(secret: any, k: string): string | undefined {
  if (isObj(secret?.stringData) && k in secret.stringData) return str(secret.stringData[k]);
  if (isObj(secret?.data) && k in secret.data) return Buffer.from(str(secret.data[k]), 'base64').toString('utf8');
  return undefined;
}

function jsonError(text: string): string | undefined {
  try {
    const v = JSON.parse(text);
    if (!isObj(v)) return `json: cannot unmarshal ${Array.isArray(v) ? 'array' : typeof v} into Go value of type map[string]interface {}`;
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

export function validateSecret(secret: any): FieldError[] {
  const errs = validateObjectMeta(secret?.metadata, true, nameIsDNSSubdomain);
  const data = secretData(secret);
  let total = 0;
  for (const [k, size] of data) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(key('data', k), k, m));
    total += size;
  }
  if (total > MAX_SECRET_SIZE) errs.push(tooLong('data', MAX_SECRET_SIZE));
  const type = str(secret?.type);
  switch (type) {
    case 'kubernetes.io/service-account-token':
      if (!str(secret?.metadata?.annotations?.['kubernetes.io/service-account.name'])) {
        errs.push(required(key('metadata.annotations', 'kubernetes.io/service-account.name')));
      }
      break;
    case 'kubernetes.io/dockercfg':
    case 'kubernetes.io/dockerconfigjson': {
      const k = type === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson';
      const v = secretValue(secret, k);
      if (v === undefined) errs.push(required(key('data', k)));
      else {
        const e = jsonError(v);
        if (e) errs.push(invalid(key('data', k), '<secret contents redacted>', e));
      }
      break;
    }
    case 'kubernetes.io/basic-auth':
      if (!data.has('username') && !data.has('password')) {
        errs.push(required(key('data', 'username')), required(key('data', 'password')));
      }
      break;
    case 'kubernetes.io/ssh-auth':
      if (!data.get('ssh-privatekey')) errs.push(required(key('data', 'ssh-privatekey')));
      break;
    case 'kubernetes.io/tls':
      if (!data.has('tls.crt')) errs.push(required(key('data', 'tls.crt')));
      if (!data.has('tls.key')) errs.push(required(key('data', 'tls.key')));
      break;
  }
  return errs;
}

export function validateSecretUpdate(secret: any, old: any): FieldError[] {
  const errs = validateObjectMetaUpdate(secret?.metadata, old?.metadata);
  errs.push(...validateImmutableField(str(secret?.type), str(old?.type), 'type'));
  if (old?.immutable === true) {
    if (secret?.immutable !== true) errs.push(forbidden('immutable', 'field is immutable when `immutable` is set'));
    const merged = (s: any) => Object.fromEntries([...Object.entries(isObj(s?.data) ? s.data : {}), ...Object.entries(isObj(s?.stringData) ? s.stringData : {}).map(([k, v]) => [k, Buffer.from(str(v)).toString('base64')])]);
    if (!semanticEqual(merged(secret), merged(old))) errs.push(forbidden('data', 'field is immutable when `immutable` is set'));
  }
  return errs.concat(validateSecret(secret));
}
