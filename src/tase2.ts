/**
 * `gridgate/tase2`: the TASE.2 / ICCP object model (IEC 60870-6-802) over MMS (types, flags and
 * value codecs), TASE.2 values as text and JSON, and the offline capture decoder.
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
