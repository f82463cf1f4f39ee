/** node.k8s.io/v1 RuntimeClasses and core/v1 PodTemplates, with upstream's columns. */
import type { Printer } from './types.js';
import { AGE_COLUMN, NAME_COLUMN, col, containerCells, str } from './common.js';
import { CONTAINERS_DESC, IMAGES_DESC } from './descriptions.js';
import { formatAge } from './duration.js';
import { formatLabels } from './labels.js';

export const runtimeClassPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    col('Handler', 'string', 'Handler is the name of the underlying runtime and configuration that the CRI implementation will use to handle pods of this class.'),
    AGE_COLUMN,
  ],
  cells(rc: any, now: Date): unknown[] {
    return [str(rc?.metadata?.name), str(rc?.handler), formatAge(rc?.metadata?.creationTimestamp, now)];
  },
};

/** Upstream prints no Age for pod templates. */
export const podTemplatePrinter: Printer = {
  columns: [NAME_COLUMN, col('Containers', 'string', CONTAINERS_DESC), col('Images', 'string', IMAGES_DESC), col('Pod Labels', 'string', 'The labels for the pod template.')],
  cells(pt: any): unknown[] {
    const [names, images] = containerCells(pt?.template?.spec?.containers);
    return [str(pt?.metadata?.name), names, images, formatLabels(pt?.template?.metadata?.labels)];
  },
};
