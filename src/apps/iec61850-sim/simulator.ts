/**
 * The IEC 61850 server simulator: the IED model served by an {@link MmsServer} over TCP or TLS,
 * its report control blocks run by the sans-I/O {@link ReportServer}, values changed on a
 * schedule. One timer serves both the engine and the schedule, armed at the earlier of their
 * deadlines. Reports go out after the response to the write that caused them (they are delivered
 * in a microtask, once the MMS server has answered). Its clock is the host's moved by the model's
 * `clockOffsetMs`, to rehearse an IED whose time is wrong.
 *
 * Data sets may be the model's, or lists clients define: persistent ones in a domain
 * (`LD/Name`), VMD ones (`/Name`), and — for URCBs — the association's own (`@Name`).
 */
import { silentLogger, type Logger } from '../../core/log.js';
import { parseIpAddress } from '../../protocols/capture/pcap-writer.js';
import { rcbLayout } from '../../protocols/iec61850/rcb-attributes.js';
import { ReportServer } from '../../protocols/iec61850/rcb-server.js';
import type { DataSetMember, DataSetView, MemberChange } from '../../protocols/iec61850/rcb-types.js';
import type { MmsData } from '../../protocols/mms/data.js';
import type { TlsFiles } from '../../transport/net.js';
import { readNode, type Caller, type DataAccessErrorName, type MmsNode, type VariableList } from '../mms/namespace.js';
import { MmsServer, type MmsServerConnection } from '../mms/server.js';
import type { FileStore } from '../mms/file-store.js';
import { CONTROL_BLOCK_FCS } from './cdc.js';
import type { SimModel } from './config.js';
import { IedRuntime, type DataObjectChange, type ModelReportControl } from './model.js';
import { Schedule } from './schedule.js';

export interface Iec61850SimOptions {
  readonly model: SimModel;
  readonly host?: string;
  /** TCP port; 0 asks the system for a free one. */
  readonly port: number;
  readonly tls?: TlsFiles;
  /** Password every client must give (ACSE authentication, mechanism 2.2.3.1). */
  readonly password?: string;
  readonly logger?: Logger;
  /** Randomness for random walks (tests pass a seeded one). */
  readonly random?: () => number;
  /** Seconds an edition 2 BRCB stays reserved after a write that did not set ResvTms; default 30. */
  readonly implicitResvTms?: number;
  /** Files served through the MMS file services (COMTRADE records, SCL files). */
  readonly files?: FileStore;
}

/** Who the simulator reads data-set members as. */
const SYSTEM: Caller = { id: 0, remote: 'simulator' };

/** The IP address of `host:port` or `[v6]:port` as octets, what a block's Owner shows (8-1 17.2.2); empty if not an IP address. */
export function addressOctets(remote: string): Uint8Array {
  const host = remote.startsWith('[') ? remote.slice(1, remote.indexOf(']')) : remote.slice(0, remote.lastIndexOf(':'));
  try {
    return parseIpAddress(host);
  } catch {
    return new Uint8Array(0);
  }
}

export class Iec61850Simulator {
  readonly server: MmsServer;
  readonly ied: IedRuntime;
  readonly engine: ReportServer;
  readonly schedule: Schedule;
  readonly #log: Logger;
  readonly #clockOffsetMs: number;
  readonly #connections = new Map<number, MmsServerConnection>();
  #port = 0;
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Infinity;
  #flushQueued = false;
  #stopped = false;

  private constructor(o: Iec61850SimOptions) {
    this.#clockOffsetMs = o.model.clockOffsetMs;
    const now = this.#now();
    this.#log = (o.logger ?? silentLogger).child({ ied: o.model.ied });
    const identity = o.model.identity;
    this.server = new MmsServer({
      identity: {
        vendorName: identity?.vendor ?? 'gridgate',
        modelName: identity?.model ?? 'iec61850-sim',
        revision: identity?.revision ?? '1',
      },
      logger: o.logger ?? silentLogger,
      ...(o.password === undefined ? {} : { password: o.password }),
      ...(o.files === undefined ? {} : { files: o.files }),
    });
    this.ied = new IedRuntime(o.model, now);
    this.ied.install(this.server, (rc, name) => this.#rcbNode(rc, name));
    this.engine = new ReportServer(
      this.ied.reportControls.map((r) => r.config),
      { resolve: (ref, clientId) => this.#resolve(ref, clientId) },
      { edition: o.model.edition, ...(o.implicitResvTms === undefined ? {} : { implicitResvTms: o.implicitResvTms }) },
      now,
    );
    this.schedule = new Schedule(this.ied, now, o.random);
    this.server.on('associated', (c) => {
      this.#connections.set(c.id, c);
      this.engine.attach({ id: c.id, address: addressOctets(c.remote), maxPduSize: c.association.negotiated?.localDetail ?? 65000 });
    });
    this.server.on('closed', (c) => {
      this.#connections.delete(c.id);
      this.engine.detach(c.id, this.#now());
      this.#flush();
    });
  }

  /** The IED's clock: the host's, moved by the model's `clockOffsetMs`. */
  #now(): number {
    return Date.now() + this.#clockOffsetMs;
  }

  /** Builds the IED and listens; resolves once clients can connect. */
  static async start(o: Iec61850SimOptions): Promise<Iec61850Simulator> {
    const sim = new Iec61850Simulator(o);
    sim.#port = await sim.server.listen({
      port: o.port,
      ...(o.host === undefined ? {} : { host: o.host }),
      ...(o.tls === undefined ? {} : { tls: o.tls }),
    });
    sim.#arm();
    return sim;
  }

  /** The TCP port listened on (the actual one when 0 was asked). */
  get port(): number {
    return this.#port;
  }

  /** MMS domains (logical devices) served. */
  get domains(): string[] {
    return [...this.server.domains.keys()];
  }

  /**
   * Changes data object `ref` (`LD0/GGIO1.Ind1`) as the process would, notifying the report
   * engine; false when there is no such data object.
   */
  update(ref: string, change: DataObjectChange): boolean {
    const d = this.ied.dataObject(ref);
    if (d === undefined) return false;
    const now = this.#now();
    this.#changed(d.apply(change, now), now);
    this.#flush();
    return true;
  }

  /** Stops the schedule, aborts every association and closes the listener. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.server.close();
  }

  #changed(changes: readonly MemberChange[], now: number): void {
    if (changes.length > 0) this.engine.changed(changes, now);
  }

  #rcbNode(rc: ModelReportControl, name: string): MmsNode {
    const ref = rc.config.ref;
    return {
      name,
      children: rcbLayout(rc.config.kind, this.ied.model.edition).map((attr) => ({
        name: attr,
        read: () => this.engine.read(ref, attr, this.#now()) ?? { error: 'object-non-existent' },
        write: (v: MmsData, caller: Caller) => this.#write(ref, attr, v, caller),
      })),
    };
  }

  #write(ref: string, attr: string, v: MmsData, caller: Caller): DataAccessErrorName | undefined {
    const refused = this.engine.write(ref, attr, v, caller.id, this.#now());
    if (refused !== undefined) this.#log.debug({ remote: caller.remote, rcb: ref, attribute: attr, refused }, 'RCB write refused');
    else if (attr === 'RptEna') {
      const on = v.type === 'boolean' && v.value;
      this.#log.info({ remote: caller.remote, rcb: ref }, on ? 'report control block enabled' : 'report control block disabled');
    }
    this.#queueFlush();
    return refused;
  }

  /** A data set for the engine: every member must be data (no control block) that reads now. */
  #resolve(ref: string, clientId: number | undefined): DataSetView | undefined {
    let list: VariableList | undefined;
    if (ref.startsWith('@')) list = clientId === undefined ? undefined : this.#connections.get(clientId)?.aaLists.get(ref.slice(1));
    else if (ref.startsWith('/')) list = this.server.vmd.lists.get(ref.slice(1));
    else {
      const slash = ref.indexOf('/');
      list = slash > 0 ? this.server.domains.get(ref.slice(0, slash))?.lists.get(ref.slice(slash + 1)) : undefined;
    }
    if (list === undefined) return undefined;
    const members: DataSetMember[] = [];
    for (const v of list.members) {
      const n = v.name;
      const fc = n.itemId.split('$')[1];
      if (n.scope === 'aa' || v.alternateAccess !== undefined || fc === undefined || CONTROL_BLOCK_FCS.includes(fc)) return undefined;
      const node = (n.scope === 'domain' ? this.server.domains.get(n.domainId) : this.server.vmd)?.node(n.itemId);
      const first = node === undefined ? undefined : readNode(node, SYSTEM);
      if (node === undefined || first === undefined || !first.success) return undefined;
      let last = first.data;
      members.push({
        ref: n.scope === 'domain' ? `${n.domainId}/${n.itemId}` : n.itemId,
        read: () => {
          // Model data always reads; keeping the last value makes that an invariant, not an assumption.
          const r = readNode(node, SYSTEM);
          if (r.success) last = r.data;
          return last;
        },
      });
    }
    return { members };
  }

  #queueFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.#flush();
    });
  }

  /** Delivers what the engine produced and re-arms the timer. */
  #flush(): void {
    for (let e = this.engine.pollEvent(); e !== undefined; e = this.engine.pollEvent()) {
      if (e.type === 'report') this.#connections.get(e.clientId)?.report(e.report);
      else this.#log.warn({ rcb: e.rcb, reason: e.reason }, 'report discarded');
    }
    this.#arm();
  }

  #arm(): void {
    if (this.#stopped) return;
    const times = [this.engine.nextTimeout(), this.schedule.nextTimeout()].filter((t): t is number => t !== undefined);
    if (times.length === 0) return;
    const next = Math.min(...times);
    if (this.#timer !== undefined && this.#armedFor <= next) return;
    clearTimeout(this.#timer);
    this.#armedFor = next;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, next - this.#now()));
  }

  #tick(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const now = this.#now();
    const step = this.schedule.run(now);
    for (const f of step.faults) this.engine.rehearse(f.rcb, f.fault);
    this.#changed(step.changes, now);
    this.engine.handleTimeout(now);
    this.#flush();
  }
}
