/** DNP3 (IEEE 1815): sans-I/O codecs and state machines. */
export * from './link/crc.js';
export * from './link/frame.js';
export * from './transport-function/transport.js';
export * from './app/header.js';
export * from './app/qualifier.js';
export * from './app/codec.js';
export * from './app/requests.js';
export * from './app/objects/index.js';
export * from './stack/channel.js';
export * from './stack/multidrop.js';
export * from './master/master.js';
export * from './master/turns.js';
export * from './outstation/index.js';
