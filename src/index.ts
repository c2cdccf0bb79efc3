/** gridgate: power-grid protocol toolkit. Protocol families are also exported by subpath (`gridgate/iec104`). */
export * as iec104 from './iec104.js';
export * as dnp3 from './dnp3.js';
export * as mms from './mms.js';
export * as iec61850 from './iec61850.js';
export * as tase2 from './tase2.js';
export { ConfigError, ErrorCode, GridgateError, ProtocolError, type ConfigIssue, type DecodeFailure, type Fault } from './core/errors.js';
export { createLogger, type Logger } from './core/log.js';
export { AppEmitter, EventBuffer, type AppEvent, type DataEvent, type DownEvent, type ProblemEvent, type UpEvent } from './apps/events.js';
