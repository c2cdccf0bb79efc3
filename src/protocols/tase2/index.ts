/** TASE.2 / ICCP (IEC 60870-6-802 object model over MMS): base types, object types, flags and value codecs. */
export * from './types.js';
export * from './objects.js';
export * from './flags.js';
export * from './values.js';
