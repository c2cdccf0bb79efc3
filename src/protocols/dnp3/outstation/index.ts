/**
 * The DNP3 outstation (IEEE 1815-2012 clauses 4 and 5), sans-I/O: the session, the device
 * database with its event buffer, and the point-type table.
 */
export { Dnp3OutstationSession, type OutstationCounter, type OutstationEvent, type OutstationOptions } from './outstation.js';
export { MAX_POINT_INDEX, OutstationDatabase, type DatabaseOptions, type PointConfig, type PointRecord } from './database.js';
export { EventBuffer, type EventOwner, type StoredEvent } from './events.js';
export type { ControlResult } from './controls.js';
export type { RequestNotice, Selection } from './requests.js';
export {
  isPointTypeName,
  POINT_TYPE_NAMES,
  POINT_TYPES,
  pointTypeRow,
  servedVariation,
  valueProblem,
  type EventClass,
  type PointTypeName,
  type PointTypeRow,
  type PointValue,
  type ValueKind,
} from './points.js';
