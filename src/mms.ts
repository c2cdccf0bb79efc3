/** `gridgate/mms`: the ISO stack under MMS, MMS PDUs and Data, the association core, and the MMS client and server over TCP/TLS. */
export * as iso from './protocols/iso/index.js';
export * from './protocols/mms/index.js';
export { MmsClient, MmsServiceError, type MmsClientEvent, type MmsClientOptions, type MmsClientProblem } from './apps/mms/client.js';
export { MmsServer, MmsServerConnection, type Identity, type MmsServerOptions } from './apps/mms/server.js';
export { TypeCatalogue } from './apps/mms/type-catalogue.js';
export {
  MmsScope,
  readNode,
  writeNode,
  typeOfNode,
  type Caller,
  type MmsNode,
  type ReadOutcome,
  type VariableList,
} from './apps/mms/namespace.js';
