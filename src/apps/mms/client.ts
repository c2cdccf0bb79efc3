/**
 * An MMS client over TCP or TLS: one {@link MmsAssociation} driven on a socket, with a promise
 * per confirmed service and information reports as `data` events ({@link AppEmitter}). Services answer with their MMS
 * response; a ServiceError rejects with {@link MmsServiceError} (`E_NEGATIVE`), a reject with
 * `E_NEGATIVE` too, an unanswered request with `E_TIMEOUT`, a lost association with `E_CONNECTION`.
 */
import { decodeError, ErrorCode, GridgateError } from '../../core/errors.js';
import { silentLogger, type Logger } from '../../core/log.js';
import type { AccessResult, ObjectName, VariableRef } from '../../protocols/mms/access.js';
import { MmsAssociation, type Closure, type MmsAssociationOptions, type MmsEvent } from '../../protocols/mms/association.js';
import type { MmsData } from '../../protocols/mms/data.js';
import type { DirectoryEntry, FileAttributes } from '../../protocols/mms/files.js';
import type { Initiate, ServiceError } from '../../protocols/mms/initiate.js';
import type { InformationReport } from '../../protocols/mms/pdu.js';
import { GRIDGATE_SERVICES } from '../../protocols/mms/negotiate.js';
import {
  OBJECT_CLASSES,
  type ConfirmedRequest,
  type ConfirmedResponse,
  type ConfirmedServiceName,
  type NameListScope,
  type ObjectClassName,
  type WriteResult,
} from '../../protocols/mms/services.js';
import { REJECT_CLASSES } from '../../protocols/mms/pdu.js';
import { SessionDriver, monotonicNow, type Tap } from '../../transport/driver.js';
import { connect, type TlsFiles } from '../../transport/net.js';
import type { Transport } from '../../transport/transport.js';
import { AppEmitter, type AppEvent } from '../events.js';

/** A confirmed request answered with a ServiceError (ISO 9506-2 7.4.1). */
export class MmsServiceError extends GridgateError {
  constructor(
    readonly service: string,
    readonly serviceError: ServiceError,
  ) {
    super(ErrorCode.NEGATIVE, `${service}: service error class ${serviceError.errorClassName}, code ${serviceError.code}`, {
      fault: 'remote',
    });
  }
}

/** Where and how to connect; the association options of {@link MmsAssociationOptions} apply too. */
export interface MmsClientOptions extends Omit<MmsAssociationOptions, 'role' | 'services'> {
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsFiles;
  /** TCP connect timeout in ms (default 10,000); the association has its own (`associateTimeoutMs`). */
  readonly connectTimeoutMs?: number;
  readonly localAddress?: string;
  readonly logger?: Logger;
  /** Sees every chunk read and written (captures). */
  readonly tap?: Tap;
}

interface Waiter {
  readonly service: ConfirmedServiceName;
  resolve(r: ConfirmedResponse): void;
  reject(e: Error): void;
}

type Response<K extends ConfirmedServiceName> = Extract<ConfirmedResponse, { service: K }>;

/**
 * Why an MMS client reports a problem: `malformed` a PDU from the server that does not decode
 * (rejected, the association goes on), `refused` a PDU from the server this client rejected (a
 * service it does not serve), `rejected` a PDU of ours the server rejected, `late-response` an
 * answer that came after its request timed out.
 */
export type MmsClientProblem = 'malformed' | 'refused' | 'rejected' | 'late-response';

/**
 * The client's events ({@link AppEvent}): `up` once associated, `data` every information report,
 * `down` when the association ends (`error` unless it was released in order; the transport's
 * cause when the connection was lost), `problem` as {@link MmsClientProblem}.
 */
export type MmsClientEvent = AppEvent<InformationReport, MmsClientProblem>;

export class MmsClient extends AppEmitter<MmsClientEvent> {
  readonly association: MmsAssociation;
  readonly remote: string;
  readonly #driver: SessionDriver<MmsEvent>;
  readonly #waiters = new Map<number, Waiter>();
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #closed: Promise<Closure>;
  #closedWith: ((c: Closure) => void) | undefined;
  #associated: ((i: Initiate) => void) | undefined;
  #failed: ((e: Error) => void) | undefined;
  #closure: Closure | undefined;
  #releasing = false;

  private constructor(transport: Transport, o: Omit<MmsClientOptions, 'host' | 'port'>) {
    const log = (o.logger ?? silentLogger).child({ peer: transport.remote, protocol: 'mms' });
    super(log);
    this.remote = transport.remote;
    this.#log = log;
    // An IEC 61850 client serves no request; it advertises what gridgate's server serves (see `advertise`).
    this.association = new MmsAssociation({ advertise: GRIDGATE_SERVICES, ...o, role: 'initiator', services: [] });
    this.#timeoutMs = o.requestTimeoutMs ?? 10_000;
    this.#driver = new SessionDriver(this.association, transport, (e) => this.#onEvent(e), o.tap === undefined ? {} : { tap: o.tap });
    this.#closed = new Promise((resolve) => (this.#closedWith = resolve));
    void this.#driver
      .run()
      .catch((err: unknown) => this.#log.error({ err: (err as Error).message }, 'connection failed'))
      .then(() => {
        this.association.transportClosed();
        this.#driver.pump();
      });
  }

  /** Connects and associates; rejects with the reason the server or the network gave. */
  static async connect(o: MmsClientOptions): Promise<MmsClient> {
    const transport = await connect({
      host: o.host,
      port: o.port,
      timeoutMs: o.connectTimeoutMs ?? 10_000,
      ...(o.tls === undefined ? {} : { tls: o.tls }),
      ...(o.localAddress === undefined ? {} : { localAddress: o.localAddress }),
    });
    return MmsClient.over(transport, o);
  }

  /** Associates over an open transport (an in-memory pipe in tests, or a socket already connected). */
  static async over(transport: Transport, o: Omit<MmsClientOptions, 'host' | 'port'> = {}): Promise<MmsClient> {
    const c = new MmsClient(transport, o);
    await new Promise<Initiate>((resolve, reject) => {
      c.#associated = resolve;
      c.#failed = reject;
      c.association.open(monotonicNow());
      c.#driver.pump();
    });
    return c;
  }

  /** What the association agreed (PDU size, outstanding requests, nesting). */
  get negotiated(): Initiate {
    return this.association.negotiated!;
  }

  /** Resolves when the association ends, with why. */
  get closed(): Promise<Closure> {
    return this.#closed;
  }

  /** Any confirmed service; resolves with the response of the same service. */
  request<K extends ConfirmedServiceName>(req: Extract<ConfirmedRequest, { service: K }>): Promise<Response<K>> {
    const request = req as ConfirmedRequest & { readonly service: K };
    return new Promise((resolve, reject) => {
      if (this.#closure !== undefined || this.association.state !== 'associated') {
        return reject(
          new GridgateError(
            ErrorCode.CONNECTION,
            `${request.service}: the association is ${this.#closure?.reason ?? this.association.state}`,
          ),
        );
      }
      const id = this.association.request(request, monotonicNow());
      this.#waiters.set(id, { service: request.service, resolve: resolve as (r: ConfirmedResponse) => void, reject });
      this.#driver.pump();
    });
  }

  identify(): Promise<Response<'identify'>> {
    return this.request({ service: 'identify' });
  }

  status(extended = false): Promise<Response<'status'>> {
    return this.request({ service: 'status', extended });
  }

  /**
   * Every name of a class in a scope, following moreFollows with continueAfter (10.5). A server
   * that answers a page without a new name would be asked forever: that is an `E_MALFORMED` error.
   */
  async getNameList(objectClass: ObjectClassName, scope: NameListScope = { kind: 'vmd' }): Promise<string[]> {
    const names: string[] = [];
    const seen = new Set<string>();
    const cls = OBJECT_CLASSES.indexOf(objectClass);
    for (let more = true; more;) {
      const last = names.at(-1);
      const r = await this.request({
        service: 'getNameList',
        objectClass: cls,
        scope,
        ...(last === undefined ? {} : { continueAfter: last }),
      });
      const fresh = r.identifiers.filter((n) => !seen.has(n));
      if (fresh.length < r.identifiers.length) {
        throw new GridgateError(ErrorCode.MALFORMED, `getNameList: the server repeated names after '${last ?? ''}'`, { fault: 'remote' });
      }
      for (const n of fresh) seen.add(n);
      names.push(...fresh);
      more = r.moreFollows !== false && fresh.length > 0;
    }
    return names;
  }

  /** Reads named variables; one AccessResult per name, in order. */
  async read(names: readonly ObjectName[]): Promise<readonly AccessResult[]> {
    const r = await this.request({
      service: 'read',
      variableAccessSpecification: { kind: 'list', variables: names.map((name) => ({ name })) },
    });
    return r.results;
  }

  /** Reads a named variable list (a data set). */
  async readList(name: ObjectName): Promise<readonly AccessResult[]> {
    return (await this.request({ service: 'read', variableAccessSpecification: { kind: 'named-list', name } })).results;
  }

  /** Writes values to named variables; one result per name. */
  async write(entries: readonly { readonly name: ObjectName; readonly data: MmsData }[]): Promise<readonly WriteResult[]> {
    const r = await this.request({
      service: 'write',
      variableAccessSpecification: { kind: 'list', variables: entries.map((e) => ({ name: e.name })) },
      listOfData: entries.map((e) => e.data),
    });
    return r.results;
  }

  getVariableAccessAttributes(name: ObjectName): Promise<Response<'getVariableAccessAttributes'>> {
    return this.request({ service: 'getVariableAccessAttributes', name });
  }

  /** The members of a named variable list. */
  async getNamedVariableListAttributes(name: ObjectName): Promise<readonly VariableRef[]> {
    return (await this.request({ service: 'getNamedVariableListAttributes', name })).variables;
  }

  async defineNamedVariableList(name: ObjectName, variables: readonly VariableRef[]): Promise<void> {
    await this.request({ service: 'defineNamedVariableList', variableListName: name, variables });
  }

  deleteNamedVariableList(names: readonly ObjectName[]): Promise<Response<'deleteNamedVariableList'>> {
    return this.request({ service: 'deleteNamedVariableList', scopeOfDelete: 0, listOfVariableListName: names });
  }

  /**
   * Every file under `fileSpecification` (the whole store when omitted), following moreFollows
   * with continueAfter (D.7). A server that answers a page without a new name is `E_MALFORMED`.
   */
  async fileDirectory(fileSpecification?: string): Promise<DirectoryEntry[]> {
    const entries: DirectoryEntry[] = [];
    for (let more = true; more;) {
      const last = entries.at(-1)?.fileName;
      const r = await this.request({
        service: 'fileDirectory',
        ...(fileSpecification === undefined ? {} : { fileSpecification }),
        ...(last === undefined ? {} : { continueAfter: last }),
      });
      if (r.entries.length === 0 && r.moreFollows) {
        throw new GridgateError(ErrorCode.MALFORMED, `fileDirectory: moreFollows with no entry after '${last ?? ''}'`, { fault: 'remote' });
      }
      entries.push(...r.entries);
      more = r.moreFollows;
    }
    return entries;
  }

  /**
   * Reads a whole file: fileOpen, fileRead until the last block, fileClose (also after a failure).
   * More than `maxBytes` octets (default 64 MiB), or more than the size the server announced, is `E_RANGE`.
   */
  async getFile(fileName: string, o: { readonly maxBytes?: number } = {}): Promise<{ data: Uint8Array; attributes: FileAttributes }> {
    const max = o.maxBytes ?? 64 * 1024 * 1024;
    const open = await this.request({ service: 'fileOpen', fileName, initialPosition: 0 });
    const { frsmId, ...attributes } = open;
    const parts: Uint8Array[] = [];
    let total = 0;
    try {
      if (open.sizeOfFile > max)
        throw new GridgateError(ErrorCode.RANGE, `${fileName}: ${open.sizeOfFile} octets; at most ${max} are read`);
      for (let more = true; more;) {
        const r = await this.request({ service: 'fileRead', frsmId });
        total += r.fileData.length;
        if (total > open.sizeOfFile) {
          throw new GridgateError(ErrorCode.RANGE, `${fileName}: more than the ${open.sizeOfFile} octets announced`, { fault: 'remote' });
        }
        parts.push(r.fileData);
        more = r.moreFollows && r.fileData.length > 0;
      }
    } finally {
      // A failed close must not hide why the read stopped: it is logged, and the server closes the file with the association.
      if (this.association.state === 'associated') {
        await this.request({ service: 'fileClose', frsmId }).catch((err: unknown) =>
          this.#log.warn({ file: fileName, err: (err as Error).message }, 'fileClose failed'),
        );
      }
    }
    const data = new Uint8Array(total);
    let at = 0;
    for (const p of parts) data.set(p, (at += p.length) - p.length);
    return {
      data,
      attributes: {
        sizeOfFile: attributes.sizeOfFile,
        ...(attributes.lastModified === undefined ? {} : { lastModified: attributes.lastModified }),
      },
    };
  }

  /** Deletes a file (fileDelete, D.6). */
  async deleteFile(fileName: string): Promise<void> {
    await this.request({ service: 'fileDelete', fileName });
  }

  /** Orderly release (ACSE RLRQ); aborts if the server does not answer within `timeoutMs`. */
  async release(timeoutMs = 5000): Promise<Closure> {
    if (this.#closure !== undefined) return this.#closure;
    if (this.association.state === 'associated' && !this.#releasing) {
      this.#releasing = true;
      this.association.release();
      this.#driver.pump();
    }
    const timer = setTimeout(() => this.abort('release not answered'), timeoutMs);
    try {
      return await this.#closed;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the association at once. */
  abort(reason?: string): void {
    this.association.abort(reason);
    this.#driver.pump();
  }

  #onEvent(e: MmsEvent): void {
    switch (e.type) {
      case 'associated':
        this.#log.info({ negotiated: e.initiate }, 'associated');
        this.publish({ type: 'up', remote: this.remote });
        this.#associated?.(e.initiate);
        return;
      case 'response':
        return this.#settle(e.invokeId, (w) => {
          if (e.response.service !== w.service) {
            w.reject(
              new GridgateError(ErrorCode.MALFORMED, `${w.service}: the server answered with ${e.response.service}`, { fault: 'remote' }),
            );
          } else w.resolve(e.response);
        });
      case 'service-error':
        return this.#settle(e.invokeId, (w) => w.reject(new MmsServiceError(w.service, e.error)));
      case 'rejected': {
        const text = `rejected: ${REJECT_CLASSES[e.rejectClass] ?? `class ${e.rejectClass}`}, reason ${e.reason}`;
        this.#log.warn({ invokeId: e.invokeId, rejectClass: e.rejectClass, reason: e.reason }, 'the server rejected a PDU');
        if (e.invokeId !== undefined)
          this.#settle(e.invokeId, (w) => w.reject(new GridgateError(ErrorCode.NEGATIVE, `${w.service}: ${text}`, { fault: 'remote' })));
        this.publish({ type: 'problem', kind: 'rejected', reason: `the server ${text}` });
        return;
      }
      case 'timeout':
        return this.#settle(e.invokeId, (w) =>
          w.reject(new GridgateError(ErrorCode.TIMEOUT, `${w.service}: no answer within ${this.#timeoutMs} ms`, { fault: 'remote' })),
        );
      case 'report':
        this.publish({ type: 'data', data: e.report });
        return;
      case 'malformed': {
        this.#log.warn(
          { layer: e.failure.layer, kind: e.failure.kind, offset: e.failure.offset, reason: e.failure.reason },
          'malformed PDU from the server',
        );
        const error = decodeError(e.failure);
        this.publish({
          type: 'problem',
          kind: 'malformed',
          reason: error.message,
          error,
          ...(e.bytes.length === 0 ? {} : { bytes: e.bytes }),
        });
        return;
      }
      case 'refused':
        this.#log.warn({ what: e.what }, 'rejected a PDU from the server');
        this.publish({ type: 'problem', kind: 'refused', reason: `rejected a PDU from the server: ${e.what}` });
        return;
      case 'late-response':
        this.#log.debug({ invokeId: e.invokeId }, 'answer after the request timed out');
        this.publish({ type: 'problem', kind: 'late-response', reason: `answer to request ${e.invokeId} after it timed out` });
        return;
      case 'concluded':
        return;
      case 'closed': {
        // A connection that ended with an error (a reset, a TLS alert) names it: "transport
        // connection closed" alone would not say why.
        const lost = e.error === undefined ? (this.#driver.closeError?.cause as Error | undefined) : undefined;
        const reason = lost === undefined ? e.reason : `${e.reason}: ${lost.message}`;
        const closure: Closure = { origin: e.origin, how: e.how, reason, ...(e.error === undefined ? {} : { error: e.error }) };
        this.#closure = closure;
        this.#log.info({ how: e.how, origin: e.origin, reason }, 'association closed');
        const err = new GridgateError(
          e.how === 'refused' ? ErrorCode.REFUSED : ErrorCode.CONNECTION,
          `MMS association ${e.how}: ${reason}`,
          {
            fault: e.origin === 'local' ? 'local' : 'remote',
            ...(e.error === undefined ? (lost === undefined ? {} : { cause: lost }) : { cause: e.error }),
          },
        );
        this.#failed?.(err);
        for (const w of this.#waiters.values()) w.reject(err);
        this.#waiters.clear();
        this.#closedWith?.(closure);
        const orderly = e.how === 'released' && lost === undefined;
        this.publish({ type: 'down', reason, ...(orderly ? {} : { error: err }) });
        this.endEvents();
        return;
      }
    }
  }

  #settle(invokeId: number, f: (w: Waiter) => void): void {
    const w = this.#waiters.get(invokeId);
    if (w === undefined) return;
    this.#waiters.delete(invokeId);
    f(w);
  }
}
