/** The ISO stack under MMS (RFC 1006 TPKT, ISO 8073 class 0 COTP) and strict BER (X.690): sans-I/O codecs and state machines. */
export * from './ber/ber.js';
export * from './tpkt/tpkt.js';
export * from './cotp/cotp.js';
export * from './session/session.js';
export * from './session/connection.js';
export * from './presentation/presentation.js';
export * from './acse/acse.js';
