/**
 * The collector side of bench/tase2-gen.ts, in its own process so that the generator's process
 * is measured alone: the test PUSH receiver (negotiation of the seed's Figure 3, Critical
 * transfer sets so every report is acknowledged), counting values without keeping their ids.
 * Driven over IPC: `count` answers with values received and associations negotiated.
 */
import { pushReceiver } from '../test/support/tase2-push.js';

export type ReceiverCommand = { readonly kind: 'count' } | { readonly kind: 'stop' };
export type ReceiverReply =
  | { readonly kind: 'ready'; readonly port: number }
  | { readonly kind: 'count'; readonly values: number; readonly negotiated: number; readonly failures: number };

const send = (m: ReceiverReply): void => void process.send?.(m);
const r = await pushReceiver({ keepIds: false });

process.on('message', (cmd: ReceiverCommand) => {
  if (cmd.kind === 'count') send({ kind: 'count', values: r.values, negotiated: r.negotiated, failures: r.failures.length });
  else void r.close().then(() => process.exit(0));
});
send({ kind: 'ready', port: r.endpoint.port });
