/** DNP3 (IEEE 1815): sans-I/O codecs and state machines. */
export * from './link/crc.js';
export * from './link/frame.js';
export * from './transport/transport.js';
