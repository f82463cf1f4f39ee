/**
 * Events, core/v1 and events.k8s.io/v1. Upstream serves both from one storage and prints the
 * internal Event, so an events.k8s.io object is first mapped onto the core field names.
 */
import type { Printer, TableColumn } from './types.js';
import { NAME_COLUMN, col, int, str, wide } from './common.js';
import { EVENT } from './descriptions.js';
import { formatAge, parseTime } from './duration.js';

/** The fields the printer reads, under their core/v1 names. */
interface CoreEventView {
  name: string;
  type: string;
  reason: string;
  message: string;
  involvedObject: any;
  source: any;
  firstTimestamp: unknown;
  lastTimestamp: unknown;
  eventTime: unknown;
  count: number;
  series: any;
  reportingController: string;
  reportingInstance: string;
}

function fromCore(e: any): CoreEventView {
  return {
    name: str(e?.metadata?.name),
    type: str(e?.type),
    reason: str(e?.reason),
    message: str(e?.message),
    involvedObject: e?.involvedObject ?? {},
    source: e?.source ?? {},
    firstTimestamp: e?.firstTimestamp,
    lastTimestamp: e?.lastTimestamp,
    eventTime: e?.eventTime,
    count: int(e?.count),
    series: e?.series,
    // core/v1 calls the reporting controller "reportingComponent".
    reportingController: str(e?.reportingComponent),
    reportingInstance: str(e?.reportingInstance),
  };
}

/** events.k8s.io/v1 names, as its conversion to the internal Event maps them. */
function fromEventsV1(e: any): CoreEventView {
  return {
    name: str(e?.metadata?.name),
    type: str(e?.type),
    reason: str(e?.reason),
    message: str(e?.note),
    involvedObject: e?.regarding ?? {},
    source: e?.deprecatedSource ?? {},
    firstTimestamp: e?.deprecatedFirstTimestamp,
    lastTimestamp: e?.deprecatedLastTimestamp,
    eventTime: e?.eventTime,
    count: int(e?.deprecatedCount),
    series: e?.series,
    reportingController: str(e?.reportingController),
    reportingInstance: str(e?.reportingInstance),
  };
}

/** formatEventSource: "component, host", each falling back to the reporting controller/instance. */
function eventSource(e: CoreEventView): string {
  const component = str(e.source?.component) || e.reportingController;
  const instance = str(e.source?.host) || e.reportingInstance;
  return instance === '' ? component : `${component}, ${instance}`;
}

function eventCells(e: CoreEventView, now: Date): unknown[] {
  // New-style events carry only eventTime; old-style ones firstTimestamp/lastTimestamp.
  const firstTimestamp =
    parseTime(e.firstTimestamp) !== undefined
      ? formatAge(e.firstTimestamp as string, now)
      : formatAge(e.eventTime as string | undefined, now);
  let lastTimestamp =
    parseTime(e.lastTimestamp) !== undefined ? formatAge(e.lastTimestamp as string, now) : firstTimestamp;

  let count = e.count;
  if (e.series && typeof e.series === 'object') {
    lastTimestamp = formatAge(e.series.lastObservedTime, now);
    count = int(e.series.count);
  } else if (count === 0) {
    // Singleton events don't have a count set in the new API.
    count = 1;
  }

  const kind = str(e.involvedObject?.kind).toLowerCase();
  const objName = str(e.involvedObject?.name);
  const target = objName.length > 0 ? `${kind}/${objName}` : kind;

  return [
    lastTimestamp,
    e.type,
    e.reason,
    target,
    str(e.involvedObject?.fieldPath),
    eventSource(e),
    e.message.trim(),
    firstTimestamp,
    count,
    e.name,
  ];
}

const EVENT_COLUMNS: TableColumn[] = [
  col('Last Seen', 'string', EVENT.lastTimestamp),
  col('Type', 'string', EVENT.type),
  col('Reason', 'string', EVENT.reason),
  col('Object', 'string', EVENT.involvedObject),
  wide('Subobject', 'string', EVENT.fieldPath),
  wide('Source', 'string', EVENT.source),
  col('Message', 'string', EVENT.message),
  wide('First Seen', 'string', EVENT.firstTimestamp),
  wide('Count', 'string', EVENT.count),
  // The name is only shown with -o wide, and comes last.
  { ...NAME_COLUMN, priority: 1 },
];

export const eventPrinter: Printer = {
  columns: EVENT_COLUMNS,
  cells: (e: any, now: Date) => eventCells(fromCore(e), now),
};

export const eventsV1Printer: Printer = {
  columns: EVENT_COLUMNS,
  cells: (e: any, now: Date) => eventCells(fromEventsV1(e), now),
};
