/**
 * `gridgate/tase2`: the TASE.2 / ICCP object model (IEC 60870-6-802) over MMS (types, flags and
 * value codecs), TASE.2 values as text and JSON, the offline capture decoder, and the endpoints
 * (active or passive, server and client part on every association, bilateral tables, transfer engine).
 */
export * from './protocols/tase2/index.js';
export { formatTase2Value, tase2ValueJson } from './apps/tase2/format.js';
export {
  decodeTase2Capture,
  Tase2CaptureDecoder,
  type Tase2CaptureItem,
  type Tase2CaptureItemKind,
  type Tase2CaptureSummary,
} from './apps/tase2/decode.js';
export { Tase2Knowledge, refText, type Tase2Object, type Tase2Ref, type TypeSource } from './apps/tase2/decode-meaning.js';
export { formatTase2Item, formatTase2Summary, tase2ItemJson, tase2SummaryJson } from './apps/tase2/decode-format.js';
export * from './protocols/tase2/bilateral.js';
export * from './protocols/tase2/model.js';
export * from './protocols/tase2/transfer.js';
export * from './protocols/tase2/report.js';
export { Tase2ServerPart, DataAccess, type ServerPartOptions } from './protocols/tase2/server-part.js';
export { Tase2Session, TASE2_SERVER_SERVICES, type Tase2SessionEvent, type Tase2SessionOptions } from './protocols/tase2/session.js';
export {
  connectEndpoint,
  PassiveEndpoint,
  Tase2Association,
  type ApplicationEntity,
  type EndpointOptions,
  type Tase2AssociationEvent,
  type Tase2Report,
} from './apps/tase2/endpoint.js';
export { loadTase2ServerConfig, modelOf, Tase2ServerConfigSchema, type Tase2ServerConfig } from './apps/tase2/config.js';
