/** IEC 60870-5-104: sans-I/O codecs and link state machine. */
export * from './apci/frame.js';
export * from './apci/params.js';
export * from './apci/session.js';
export * from './asdu/codec.js';
export * from './asdu/cot.js';
export * from './asdu/elements.js';
export * from './asdu/time.js';
export * from './asdu/types.js';
export * from './asdu/build.js';
export * from './asdu/format.js';
export * from './asdu/header.js';
export * from './asdu/requests.js';
