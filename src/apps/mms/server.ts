/**
 * An MMS server over TCP or TLS: accepts associations (optionally password-protected), answers
 * the confirmed services from an {@link MmsScope} per domain plus the VMD scope, keeps
 * client-defined named variable lists (domain, VMD or association scope), and lets the
 * application send information reports on any association. The IEC 61850 simulator and the
 * TASE.2 server build on it.
 */
import { EventEmitter } from 'node:events';
import type { Server } from 'node:net';
import { silentLogger, type Logger } from '../../core/log.js';
import { WarnThrottle } from '../../core/throttle.js';
import { objectNameText, type AccessResult, type ObjectName, type VariableRef } from '../../protocols/mms/access.js';
import { MmsAssociation, type Closure, type MmsAssociationOptions, type MmsEvent } from '../../protocols/mms/association.js';
import type { ServiceError } from '../../protocols/mms/initiate.js';
import type { InformationReport } from '../../protocols/mms/pdu.js';
import { OBJECT_CLASSES, type ConfirmedRequest, type ConfirmedResponse } from '../../protocols/mms/services.js';
import { encodeTypeDescription } from '../../protocols/mms/types.js';
import { SessionDriver, monotonicNow, type Tap } from '../../transport/driver.js';
import { listen, type TlsFiles } from '../../transport/net.js';
import type { Transport } from '../../transport/transport.js';
import type { FileStore } from './file-store.js';
import { MmsScope, readNode, typeOfNode, writeNode, type Caller, type VariableList } from './namespace.js';
import { FileSession } from './server-files.js';

/** ServiceErrors the server answers with (ISO 9506-2 7.4.1: class, code). */
const Err = {
  objectUndefined: { errorClass: 2, errorClassName: 'definition', code: 1 },
  objectExists: { errorClass: 2, errorClassName: 'definition', code: 5 },
  objectNonExistent: { errorClass: 7, errorClassName: 'access', code: 7 },
  accessDenied: { errorClass: 7, errorClassName: 'access', code: 3 },
  /** others / other: a handler of the application threw. */
  handlerFailed: { errorClass: 12, errorClassName: 'others', code: 0 },
  /** resource / memory-unavailable: a client defined as many lists as a scope may hold. */
  resourceExhausted: { errorClass: 3, errorClassName: 'resource', code: 1 },
} as const satisfies Record<string, ServiceError>;

/** Identity answered to identify (10.6). */
export interface Identity {
  readonly vendorName: string;
  readonly modelName: string;
  readonly revision: string;
}

/** Octets queued toward one client beyond which it is taken as not reading and its association is aborted. */
export const DEFAULT_MAX_PENDING_OCTETS = 8 * 1024 * 1024;

export interface MmsServerOptions extends Omit<MmsAssociationOptions, 'role' | 'requestTimeoutMs'> {
  /** Default {@link DEFAULT_MAX_PENDING_OCTETS}: reports to a client that stops reading must not pile up without bound. */
  readonly maxPendingOctets?: number;
  /** Named variable lists clients may define per scope (domain, VMD or association); default 1,000. */
  readonly maxDefinedLists?: number;
  readonly identity?: Identity;
  readonly logger?: Logger;
  /** Sees the bytes of every association (captures). */
  readonly tap?: (caller: Caller) => Tap | undefined;
  /** Files offered through the file services (Annex D); without it every file request is answered file-access-denied. */
  readonly files?: FileStore;
}

/** One associated (or associating) client. */
export class MmsServerConnection implements Caller {
  readonly id: number;
  readonly remote: string;
  readonly association: MmsAssociation;
  /** Named variable lists of association-specific scope (aa-specific, 14.5). */
  readonly aaLists = new Map<string, VariableList>();
  /** Files this client has open (file services). */
  readonly files = new FileSession();
  /** Which of this client's faults were logged in the current interval (one line per kind a minute). */
  readonly warnings = new WarnThrottle(60_000);
  readonly #driver: SessionDriver<MmsEvent>;
  readonly #transport: Transport;
  readonly #maxPending: number;
  #flushQueued = false;

  constructor(
    id: number,
    transport: Transport,
    association: MmsAssociation,
    onEvent: (c: MmsServerConnection, e: MmsEvent) => void,
    o: { readonly tap?: Tap | undefined; readonly maxPendingOctets?: number | undefined } = {},
  ) {
    this.id = id;
    this.remote = transport.remote;
    this.association = association;
    this.#transport = transport;
    this.#maxPending = o.maxPendingOctets ?? DEFAULT_MAX_PENDING_OCTETS;
    const tap = o.tap;
    this.#driver = new SessionDriver(association, transport, (e) => onEvent(this, e), tap === undefined ? {} : { tap });
  }

  /** Runs until the connection ends. */
  async run(): Promise<void> {
    this.association.open(monotonicNow());
    try {
      await this.#driver.run();
    } finally {
      this.association.transportClosed();
      this.#driver.pump();
      this.files.closeAll();
    }
  }

  get associated(): boolean {
    return this.association.state === 'associated';
  }

  /**
   * Sends an information report on this association (nothing once it has ended). Reports sent in
   * the same turn of the event loop leave in one gather write.
   */
  report(report: InformationReport): void {
    if (this.#notReading()) return;
    this.association.report(report);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.#driver.pump();
    });
  }

  /** Answers request `invokeId` (called while the driver delivers the request, which then writes the answer). */
  answer(invokeId: number, answer: ConfirmedResponse | ServiceError): void {
    if (this.#notReading()) return;
    if ('errorClass' in answer) this.association.respondError(invokeId, answer);
    else this.association.respond(invokeId, answer);
  }

  abort(reason?: string): void {
    this.association.abort(reason);
    this.#driver.pump();
  }

  /** A client with more than maxPendingOctets queued toward it is not reading: its association is aborted. */
  #notReading(): boolean {
    const queued = this.#transport.pending?.() ?? 0;
    if (queued <= this.#maxPending) return false;
    this.abort(`the client is not reading: ${queued} octets queued toward it`);
    return true;
  }
}

export class MmsServer extends EventEmitter<{
  associated: [MmsServerConnection];
  closed: [MmsServerConnection, Closure];
}> {
  /** The VMD scope (vmd-specific names). */
  readonly vmd = new MmsScope();
  readonly domains = new Map<string, MmsScope>();
  readonly connections = new Set<MmsServerConnection>();
  readonly #o: MmsServerOptions;
  readonly #log: Logger;
  readonly #maxDefinedLists: number;
  #nextId = 1;
  #server: { server: Server; port: number; close: () => Promise<void> } | undefined;

  constructor(options: MmsServerOptions = {}) {
    super();
    this.#o = options;
    this.#log = (options.logger ?? silentLogger).child({ protocol: 'mms-server' });
    this.#maxDefinedLists = options.maxDefinedLists ?? 1000;
  }

  /** The domain `id`, created on first use. */
  domain(id: string): MmsScope {
    let d = this.domains.get(id);
    if (d === undefined) this.domains.set(id, (d = new MmsScope()));
    return d;
  }

  /** Listens on TCP (or TLS); resolves with the bound port. */
  async listen(o: { host?: string; port: number; tls?: TlsFiles }): Promise<number> {
    this.#server = await listen({
      port: o.port,
      ...(o.host === undefined ? {} : { host: o.host }),
      ...(o.tls === undefined ? {} : { tls: o.tls }),
      onConnection: (t) =>
        void this.serve(t).catch((err: unknown) => this.#log.error({ remote: t.remote, err: (err as Error).message }, 'connection failed')),
      onTlsError: (err, remote) => this.#log.warn({ remote, err: err.message }, 'TLS handshake failed'),
    });
    return this.#server.port;
  }

  /** Serves one connection until it ends. */
  async serve(transport: Transport): Promise<void> {
    const id = this.#nextId++;
    const tap = this.#o.tap?.({ id, remote: transport.remote });
    const association = new MmsAssociation({ ...this.#o, role: 'responder' });
    const conn = new MmsServerConnection(id, transport, association, (c, e) => this.#onEvent(c, e), {
      tap,
      maxPendingOctets: this.#o.maxPendingOctets,
    });
    this.connections.add(conn);
    this.#log.debug({ remote: conn.remote, id }, 'connection');
    try {
      await conn.run();
    } finally {
      this.connections.delete(conn);
    }
  }

  /** Stops listening and aborts every association. */
  async close(): Promise<void> {
    const closing = this.#server?.close();
    for (const c of this.connections) c.abort('server stopping');
    await closing;
  }

  /**
   * Logs what a client did wrong once per kind and interval: a client can send thousands of bad
   * PDUs a second, and one line each would flood the log. The rest are counted and summed up by
   * {@link #repeats} with the next occurrence after the interval, or when the association ends.
   */
  #throttled(c: MmsServerConnection, key: string, level: 'warn' | 'info', msg: string, fields: Record<string, unknown>): void {
    const now = monotonicNow();
    this.#repeats(c, now);
    if (c.warnings.admit(key, now)) this.#log[level]({ remote: c.remote, id: c.id, ...fields }, msg);
  }

  #repeats(c: MmsServerConnection, now: number): void {
    for (const r of c.warnings.due(now)) {
      this.#log.warn(
        { remote: c.remote, id: c.id, what: r.key, count: r.count, intervalMs: r.intervalMs },
        'repeated, not logged each time',
      );
    }
  }

  #onEvent(c: MmsServerConnection, e: MmsEvent): void {
    switch (e.type) {
      case 'associated':
        this.#log.info({ remote: c.remote, id: c.id }, 'associated');
        this.emit('associated', c);
        return;
      case 'request': {
        let answer: ConfirmedResponse | ServiceError;
        try {
          answer = this.#answer(c, e.request);
        } catch (err) {
          // A failing variable handler answers this request with an error; the association and the server go on.
          this.#log.error({ remote: c.remote, service: e.request.service, err: (err as Error).message }, 'request handler failed');
          answer = Err.handlerFailed;
        }
        c.answer(e.invokeId, answer);
        return;
      }
      case 'malformed':
        this.#throttled(c, `malformed ${e.failure.kind}`, 'warn', 'malformed PDU', {
          layer: e.failure.layer,
          kind: e.failure.kind,
          offset: e.failure.offset,
          reason: e.failure.reason,
        });
        return;
      case 'oversize':
        this.#throttled(c, `oversize ${e.service}`, 'warn', 'answer exceeds the agreed PDU size: answered resource / other', {
          invokeId: e.invokeId,
          service: e.service,
          size: e.size,
          limit: e.limit,
        });
        return;
      case 'refused':
        this.#throttled(c, `refused ${e.what}`, 'info', 'request rejected', { invokeId: e.invokeId, what: e.what });
        return;
      case 'closed':
        this.#repeats(c, Infinity);
        this.#log.info({ remote: c.remote, id: c.id, how: e.how, origin: e.origin, reason: e.reason }, 'association closed');
        this.emit('closed', c, e);
        return;
      default:
        return;
    }
  }

  #scope(name: ObjectName): MmsScope | undefined {
    return name.scope === 'domain' ? this.domains.get(name.domainId) : this.vmd;
  }

  #lists(name: ObjectName, c: MmsServerConnection): Map<string, VariableList> | undefined {
    return name.scope === 'aa' ? c.aaLists : this.#scope(name)?.lists;
  }

  #read(name: ObjectName, c: MmsServerConnection): AccessResult {
    const node = name.scope === 'aa' ? undefined : this.#scope(name)?.node(name.itemId);
    return node === undefined ? { success: false, error: 10, errorName: 'object-non-existent' } : readNode(node, c);
  }

  #answer(c: MmsServerConnection, r: ConfirmedRequest): ConfirmedResponse | ServiceError {
    switch (r.service) {
      case 'identify':
        return {
          service: 'identify',
          ...(this.#o.identity ?? { vendorName: 'gridgate', modelName: 'gridgate MMS server', revision: '1' }),
        };
      case 'status':
        return { service: 'status', logicalStatus: 0, physicalStatus: 0 };
      case 'getNameList':
        return this.#nameList(c, r);
      case 'read': {
        const spec = r.variableAccessSpecification;
        let refs: readonly VariableRef[];
        if (spec.kind === 'list') refs = spec.variables;
        else {
          const list = this.#lists(spec.name, c)?.get(spec.name.itemId);
          if (list === undefined) return Err.objectNonExistent;
          refs = list.members;
        }
        const results = refs.map((v) => this.#read(v.name, c));
        return { service: 'read', ...(r.specificationWithResult === true ? { variableAccessSpecification: spec } : {}), results };
      }
      case 'write': {
        const spec = r.variableAccessSpecification;
        if (spec.kind !== 'list' || spec.variables.length !== r.listOfData.length) return Err.accessDenied;
        const results = spec.variables.map((v, i) => {
          const node = v.name.scope === 'aa' ? undefined : this.#scope(v.name)?.node(v.name.itemId);
          return node === undefined
            ? ({ success: false, error: 10, errorName: 'object-non-existent' } as const)
            : writeNode(node, r.listOfData[i]!, c);
        });
        return { service: 'write', results };
      }
      case 'getVariableAccessAttributes': {
        const node = r.name.scope === 'aa' ? undefined : this.#scope(r.name)?.node(r.name.itemId);
        const type = node === undefined ? undefined : typeOfNode(node, c);
        if (type === undefined) return Err.objectNonExistent;
        return { service: 'getVariableAccessAttributes', mmsDeletable: false, typeDescription: encodeTypeDescription(type) };
      }
      case 'getNamedVariableListAttributes': {
        const list = this.#lists(r.name, c)?.get(r.name.itemId);
        if (list === undefined) return Err.objectNonExistent;
        return { service: 'getNamedVariableListAttributes', mmsDeletable: list.deletable, variables: list.members };
      }
      case 'defineNamedVariableList': {
        const lists = this.#lists(r.variableListName, c);
        if (lists === undefined) return Err.objectUndefined;
        if (lists.has(r.variableListName.itemId)) return Err.objectExists;
        // Lists a client defines outlive nothing but their scope: bound them against a hostile client.
        if ([...lists.values()].filter((l) => l.deletable).length >= this.#maxDefinedLists) return Err.resourceExhausted;
        if (r.variables.some((v) => !this.#read(v.name, c).success)) return Err.objectNonExistent;
        lists.set(r.variableListName.itemId, { members: r.variables, deletable: true });
        this.#log.info({ remote: c.remote, list: objectNameText(r.variableListName) }, 'named variable list defined');
        return { service: 'defineNamedVariableList' };
      }
      case 'deleteNamedVariableList': {
        let matched = 0;
        let deleted = 0;
        for (const n of r.listOfVariableListName ?? []) {
          const lists = this.#lists(n, c);
          const list = lists?.get(n.itemId);
          if (list === undefined) continue;
          matched++;
          if (list.deletable) deleted += lists!.delete(n.itemId) ? 1 : 0;
        }
        return { service: 'deleteNamedVariableList', numberMatched: matched, numberDeleted: deleted };
      }
      case 'fileOpen':
      case 'fileRead':
      case 'fileClose':
      case 'fileDelete':
      case 'fileDirectory': {
        const answer = c.files.answer(this.#o.files, r, c.association.negotiated?.localDetail ?? 65000);
        if ('errorClass' in answer || r.service === 'fileDelete' || r.service === 'fileOpen') {
          const name = 'fileName' in r ? r.fileName : undefined;
          this.#log.info(
            { remote: c.remote, service: r.service, file: name, error: 'errorClass' in answer ? answer.code : undefined },
            'file service',
          );
        }
        return answer;
      }
      case 'other':
        return Err.accessDenied;
    }
  }

  /** Names of a class in a scope, after continueAfter, as many as fit the negotiated PDU size (10.5). */
  #nameList(c: MmsServerConnection, r: Extract<ConfirmedRequest, { service: 'getNameList' }>): ConfirmedResponse | ServiceError {
    const cls = OBJECT_CLASSES[r.objectClass];
    let names: string[];
    if (cls === 'domain') names = [...this.domains.keys()];
    else if (cls === 'namedVariable' || cls === 'namedVariableList') {
      const scope = r.scope.kind === 'domain' ? this.domains.get(r.scope.domainId) : r.scope.kind === 'vmd' ? this.vmd : undefined;
      if (r.scope.kind === 'domain' && scope === undefined) return Err.objectNonExistent;
      if (cls === 'namedVariable') names = scope?.names ?? [];
      else names = [...(r.scope.kind === 'aa' ? c.aaLists : scope!.lists).keys()];
    } else names = [];
    // An unknown continueAfter (deleted meanwhile) ends the list rather than starting it over.
    const after = r.continueAfter === undefined ? -1 : names.indexOf(r.continueAfter);
    const from = r.continueAfter !== undefined && after < 0 ? names.length : after + 1;
    const budget = (c.association.negotiated?.localDetail ?? 65000) - 32;
    const identifiers: string[] = [];
    let size = 0;
    for (let i = from; i < names.length; i++) {
      size += names[i]!.length + 4;
      if (size > budget && identifiers.length > 0) break;
      identifiers.push(names[i]!);
    }
    return { service: 'getNameList', identifiers, moreFollows: from + identifiers.length < names.length };
  }
}
