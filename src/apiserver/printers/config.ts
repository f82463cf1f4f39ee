/** Configuration objects: ConfigMaps, Secrets and ServiceAccounts. */
import type { Printer } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, col, len, mapLen, str } from './common.js';
import { CONFIG } from './descriptions.js';
import { formatAge } from './duration.js';

export const configMapPrinter: Printer = {
  columns: [NAME_COLUMN, col('Data', 'string', CONFIG.configMapData), AGE_COLUMN],
  cells(cm: any, now: Date): unknown[] {
    // Text and binary keys are counted together.
    return [
      str(cm?.metadata?.name),
      mapLen(cm?.data) + mapLen(cm?.binaryData),
      formatAge(cm?.metadata?.creationTimestamp, now),
    ];
  },
};

export const secretPrinter: Printer = {
  columns: [NAME_COLUMN, col('Type', 'string', CONFIG.secretType), col('Data', 'string', CONFIG.secretData), AGE_COLUMN],
  cells(s: any, now: Date): unknown[] {
    return [str(s?.metadata?.name), str(s?.type), mapLen(s?.data), formatAge(s?.metadata?.creationTimestamp, now)];
  },
};

export const serviceAccountPrinter: Printer = {
  columns: [NAME_COLUMN, col('Secrets', 'string', CONFIG.serviceAccountSecrets), AGE_COLUMN],
  cells(sa: any, now: Date): unknown[] {
    return [str(sa?.metadata?.name), len(sa?.secrets), formatAge(sa?.metadata?.creationTimestamp, now)];
  },
};
