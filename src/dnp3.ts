/** `gridgate/dnp3`: the DNP3 stack (link, transport, application, master session) and the master over TCP/TLS/UDP. */
export * from './protocols/dnp3/index.js';
export { Dnp3Master, Dnp3MasterChannel, Dnp3RejectedError } from './apps/dnp3/master.js';
export type {
  CommandResult,
  Dnp3ChannelEvent,
  Dnp3ChannelOptions,
  Dnp3Link,
  Dnp3MasterEvent,
  Dnp3MasterOptions,
  Dnp3MasterProblem,
  Dnp3Scan,
  Dnp3SessionOptions,
  Dnp3Unsolicited,
} from './apps/dnp3/master.js';
export * from './apps/dnp3/kura.js';
export { Dnp3Outstation } from './apps/dnp3/outstation.js';
export {
  Dnp3Poller,
  type PollerEvent,
  type PollerOptions,
  type PollerOutstation,
  type PollerProblem,
  type PollSchedule,
} from './apps/dnp3/poller.js';
export type { Dnp3OutstationEvent, Dnp3OutstationOptions, OutstationLink } from './apps/dnp3/outstation.js';
