/** MMS (ISO 9506-2): Data, variable access, confirmed services and the PDU codec. */
export * from './data.js';
export * from './access.js';
export * from './services.js';
export * from './initiate.js';
export * from './pdu.js';
export * from './negotiate.js';
export * from './handshake.js';
export * from './association.js';
export * from './types.js';
export * from './type-spec.js';
