/** `gridgate/tase2`: the TASE.2 / ICCP object model (IEC 60870-6-802) over MMS: types, flags and value codecs. */
export * from './protocols/tase2/index.js';
