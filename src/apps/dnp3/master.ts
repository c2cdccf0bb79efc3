/**
 * A DNP3 master over TCP, TLS, UDP or serial, with the Kura driver's functions: scans return
 * Kura's JSON array, commands run select-before-operate or direct operate and report the
 * outstation's status by name, unsolicited data arrives as Kura JSON objects.
 */
import { EventEmitter } from 'node:events';
import { ErrorCode, GridgateError, ProtocolError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/log.js';
import type { Fragment, ObjectHeaderSpec } from '../../protocols/dnp3/app/codec.js';
import type { Iin } from '../../protocols/dnp3/app/header.js';
import { Dnp3MasterSession, type MasterEvent, type TaskInit } from '../../protocols/dnp3/master/master.js';
import { SessionDriver, monotonicNow } from '../../transport/driver.js';
import { connect, type TlsFiles } from '../../transport/net.js';
import type { Transport } from '../../transport/transport.js';
import { openSerial, type SerialOptions } from '../../transport/serial.js';
import { openUdp } from '../../transport/udp.js';
import {
  commandObject,
  kuraBlock,
  kuraResponse,
  scanObjects,
  type CommandFunction,
  type KuraBlock,
  type KuraCrob,
  type ScanFunction,
  type ScanParams,
} from './kura.js';

export type Dnp3Link =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly tls?: TlsFiles }
  | { readonly kind: 'udp'; readonly host: string; readonly port: number; readonly localAddress: string; readonly localPort: number }
  /** A serial port, opened (again) by every {@link Dnp3Master.open}. */
  | { readonly kind: 'serial'; readonly serial: SerialOptions }
  | { readonly kind: 'transport'; readonly transport: Transport };

export interface Dnp3MasterOptions {
  readonly link: Dnp3Link;
  readonly masterAddress: number;
  readonly outstationAddress: number;
  readonly responseTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
  /** Classes to enable for unsolicited reporting at start-up (default 1, 2, 3; [] for none). */
  readonly unsolicitedClasses?: readonly (1 | 2 | 3)[];
  /** Disable/poll/enable at start-up (default true). */
  readonly startupTasks?: boolean;
  /** How to answer IIN1.4: the LAN procedure (default) or delay measurement for serial lines. */
  readonly timeSync?: 'lan' | 'non-lan' | 'none';
  /** Send RESET_LINK_STATES when the channel opens (outstations configured to need it). */
  readonly resetLink?: boolean;
  /** Send a link-status request after this long without traffic (0 = never). */
  readonly keepAliveMs?: number;
  readonly logger?: Logger;
}

export type Dnp3MasterEvent =
  /** Unsolicited data, one Kura object per object header (the driver's LISTEN representation). */
  | { readonly type: 'unsolicited'; readonly block: KuraBlock; readonly fragment: Fragment }
  | { readonly type: 'iin'; readonly iin: Iin }
  | { readonly type: 'warning'; readonly error: ProtocolError }
  /** `error`: why the connection ended, when the transport failed (a reset, a TLS alert). */
  | { readonly type: 'closed'; readonly error?: GridgateError };

/** What an outstation answered to a command. */
export interface CommandResult {
  readonly status: string;
  readonly statusCode: number;
}

interface Waiter {
  readonly resolve: (f: readonly Fragment[]) => void;
  readonly reject: (e: Error) => void;
}

/** The command status of the first object an outstation echoed, or undefined if none. */
function echoedStatus(fragments: readonly Fragment[]): CommandResult | undefined {
  const p = fragments[0]?.objects[0]?.points[0];
  if (p === undefined || p.status === undefined) return undefined;
  return { status: p.statusName ?? `STATUS_${p.status}`, statusCode: p.status };
}

export class Dnp3Master extends EventEmitter<{ event: [Dnp3MasterEvent] }> {
  readonly session: Dnp3MasterSession;
  readonly #driver: SessionDriver<MasterEvent>;
  readonly #waiters = new Map<number, Waiter>();
  readonly #log: Logger;
  readonly #done: Promise<void>;
  readonly remote: string;
  #ended = false;

  private constructor(transport: Transport, o: Dnp3MasterOptions) {
    super();
    this.remote = transport.remote;
    this.#log = (o.logger ?? silentLogger).child({ peer: transport.remote, outstation: o.outstationAddress });
    this.session = new Dnp3MasterSession(
      {
        localAddress: o.masterAddress,
        remoteAddress: o.outstationAddress,
        ...(o.responseTimeoutMs === undefined ? {} : { responseTimeoutMs: o.responseTimeoutMs }),
        ...(o.unsolicitedClasses === undefined ? {} : { unsolicitedClasses: o.unsolicitedClasses }),
        ...(o.startupTasks === undefined ? {} : { startupTasks: o.startupTasks }),
        ...(o.timeSync === undefined ? {} : { timeSync: o.timeSync }),
        ...(o.resetLink === undefined ? {} : { resetLink: o.resetLink }),
        ...(o.keepAliveMs === undefined ? {} : { keepAliveMs: o.keepAliveMs }),
      },
      monotonicNow(),
    );
    this.#driver = new SessionDriver(this.session, transport, (e) => this.#onEvent(e));
    this.#done = this.#driver.run().then((lost) => {
      this.#ended = true;
      for (const w of this.#waiters.values())
        w.reject(lost ?? new GridgateError(ErrorCode.CONNECTION, 'DNP3 channel closed', { fault: 'remote' }));
      this.#waiters.clear();
      this.emit('event', { type: 'closed', ...(lost === undefined ? {} : { error: lost }) });
    });
  }

  /** Opens the channel (TCP/TLS connect, UDP bind) and starts the association. */
  static async open(o: Dnp3MasterOptions): Promise<Dnp3Master> {
    const l = o.link;
    let transport: Transport;
    if (l.kind === 'tcp') {
      transport = await connect({
        host: l.host,
        port: l.port,
        timeoutMs: o.connectTimeoutMs ?? 10_000,
        ...(l.tls === undefined ? {} : { tls: l.tls }),
      });
    } else if (l.kind === 'udp') {
      transport = await openUdp({ localAddress: l.localAddress, localPort: l.localPort, remoteAddress: l.host, remotePort: l.port });
    } else if (l.kind === 'serial') {
      transport = await openSerial(l.serial);
    } else {
      transport = l.transport;
    }
    return new Dnp3Master(transport, o);
  }

  /** A Kura scan function; resolves with Kura's JSON array. */
  async scan(fn: ScanFunction, params: ScanParams = {}): Promise<KuraBlock[]> {
    return kuraResponse(await this.#run({ kind: fn, function: 'READ', objects: scanObjects(fn, params) }));
  }

  /** A Kura command function: select-before-operate when `select`, else direct operate. */
  async command(fn: CommandFunction, index: number, value: number | string | KuraCrob, select: boolean): Promise<CommandResult> {
    const objects: ObjectHeaderSpec[] = [commandObject(fn, index, value)];
    if (select) {
      const sel = echoedStatus(await this.#run({ kind: `${fn} select`, function: 'SELECT', objects }));
      if (sel === undefined || sel.statusCode !== 0) return sel ?? { status: 'NO_ECHO', statusCode: -1 };
      return (
        echoedStatus(await this.#run({ kind: `${fn} operate`, function: 'OPERATE', objects })) ?? { status: 'NO_ECHO', statusCode: -1 }
      );
    }
    return (
      echoedStatus(await this.#run({ kind: `${fn} direct operate`, function: 'DIRECT_OPERATE', objects })) ?? {
        status: 'NO_ECHO',
        statusCode: -1,
      }
    );
  }

  /** Any request; resolves with every response fragment. */
  request(task: TaskInit): Promise<readonly Fragment[]> {
    return this.#run(task);
  }

  async close(): Promise<void> {
    this.session.close();
    this.#driver.pump();
    await this.#done;
  }

  get closed(): Promise<void> {
    return this.#done;
  }

  #run(task: TaskInit): Promise<readonly Fragment[]> {
    return new Promise((resolve, reject) => {
      if (this.#ended || this.session.isClosed)
        return reject(new GridgateError(ErrorCode.CONNECTION, 'DNP3 channel closed', { fault: 'remote' }));
      const id = this.session.submit(task, monotonicNow());
      this.#waiters.set(id, { resolve, reject });
      this.#driver.pump();
    });
  }

  #onEvent(e: MasterEvent): void {
    switch (e.type) {
      case 'taskComplete': {
        const w = this.#waiters.get(e.id);
        this.#waiters.delete(e.id);
        this.#log.debug({ task: e.kind, fragments: e.fragments.length }, 'task complete');
        w?.resolve(e.fragments);
        return;
      }
      case 'taskFailed': {
        const w = this.#waiters.get(e.id);
        this.#waiters.delete(e.id);
        this.#log.warn({ task: e.kind, err: e.error.message }, 'task failed');
        w?.reject(e.error);
        return;
      }
      case 'unsolicited':
        for (const h of e.fragment.objects) {
          const block = kuraBlock(h);
          if (block !== undefined) this.emit('event', { type: 'unsolicited', block, fragment: e.fragment });
        }
        return;
      case 'iin':
        this.#log.info({ iin: e.iin.set }, 'IIN changed');
        this.emit('event', e);
        return;
      case 'needTime':
        // The wall clock is read here, in the application, and handed to the session.
        this.session.synchroniseTime(Date.now(), monotonicNow());
        return;
      case 'warning':
        this.#log.warn({ err: e.error.message }, 'DNP3 warning');
        this.emit('event', e);
        return;
    }
  }
}
