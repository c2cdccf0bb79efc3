/** `gridgate/iec104`: the IEC 60870-5-104 codecs, link layer, master and slave stations. */
export * from './protocols/iec104/index.js';
export { Iec104Master, NegativeConfirmationError } from './apps/iec104/master.js';
export type { MasterEvent, MasterOptions, MasterProblem, RequestResult, RequestUntil } from './apps/iec104/master.js';
export { Iec104Slave, SlaveConnection, BROADCAST_CA } from './apps/iec104/slave.js';
export type { SlaveOptions, SlaveRequest } from './apps/iec104/slave.js';
export { RtuSimulator, SimulatedRtu } from './apps/rtu-sim/simulator.js';
export { defaultPoints, loadPoints, loadRtuFile, type PointDef, type RtuConfig } from './apps/rtu-sim/config.js';
