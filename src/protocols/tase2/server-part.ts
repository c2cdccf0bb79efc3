/**
 * The server part of one TASE.2 association (IEC 60870-6-503 block 1 and 2 services over MMS),
 * sans-I/O: each confirmed request of the peer is answered from the {@link Tase2Model} as far as
 * the peer's {@link BilateralTable} allows. Identify; getNameList of VCC and the peer's ICC
 * domain; read, write and getVariableAccessAttributes of data values; data sets (client-defined
 * named variable lists in ICC scope, no alternate access, sized to fit the PDU at creation);
 * Next_DSTransfer_Set reserving a transfer set for this association; starting a transfer set by
 * writing the whole DSTransferSet with Status true or attribute by attribute (alternate access
 * naming the component, or `DSTrans1$Interval`); attribute writes to an active set are refused
 * (object-attribute-inconsistent) except Status false, which stops it. Block 4: the peer's write
 * of the association-scope IM_Transfer_Set enables (true) or stops (false) information messages,
 * object-access-denied when its table does not allow block 4 (`messages.ts`).
 *
 * Anything outside the table is answered exactly as a name that does not exist: reads
 * object-non-existent, writes object-access-denied (also for values it may read), lists and
 * domains definition/object-undefined, devices object-access-denied (`devices.ts`): a peer cannot
 * tell a hidden object from a missing one.
 */
import { accessedComponent, accessFailure, type AccessResult, type ObjectName, type VariableRef } from '../mms/access.js';
import { encodeData, type MmsData } from '../mms/data.js';
import type { ServiceError } from '../mms/initiate.js';
import { OBJECT_CLASSES, type ConfirmedRequest, type ConfirmedResponse, type NameListScope, type WriteResult } from '../mms/services.js';
import { encodeMmsTypeSpec } from '../mms/type-spec.js';
import { BerWriter } from '../iso/ber/ber.js';
import { mayAccessValue, mayUseBlock, type BilateralTable } from './bilateral.js';
import { IM_BLOCK, isImTransferSet } from './messages.js';
import type { Tase2Model, TransferSetObject } from './model.js';
import { specOfType, type Tase2Kind, type Tase2TypeRow } from './objects.js';
import { REPORT_VARIABLES, type DsTransferSet, type TransferEngine } from './transfer.js';
import type { Device } from './devices.js';
import { decodeTase2Value, encodeTase2Value } from './values.js';

/** DataAccessError codes (ISO 9506-2 14.4.1) the server part answers with. */
export const DataAccess = {
  temporarilyUnavailable: 2,
  objectAccessDenied: 3,
  typeInconsistent: 7,
  objectAttributeInconsistent: 8,
  objectNonExistent: 10,
  objectValueInvalid: 11,
} as const;

/** ServiceErrors (7.4.1: class, code). */
const Err = {
  objectUndefined: { errorClass: 2, errorClassName: 'definition', code: 1 },
  objectExists: { errorClass: 2, errorClassName: 'definition', code: 5 },
  objectNonExistent: { errorClass: 7, errorClassName: 'access', code: 2 },
  resource: { errorClass: 3, errorClassName: 'resource', code: 0 },
  unsupported: { errorClass: 4, errorClassName: 'service', code: 0 },
} as const satisfies Record<string, ServiceError>;

export interface ServerPartOptions {
  /** The association (reservations of transfer sets are per association). */
  readonly id: number;
  readonly identity: { readonly vendorName: string; readonly modelName: string; readonly revision: string };
  /** Negotiated PDU size: data sets whose values would not fit one report are refused. */
  readonly maxPduSize?: number;
  /** Data sets this association may define; default 100. */
  readonly maxDataSets?: number;
}

const NAMES_PER_PAGE = 200;
const ok = (data: MmsData): AccessResult => ({ success: true, data });
const fail = (code: number): AccessResult & { success: false } => accessFailure(code) as AccessResult & { success: false };

export class Tase2ServerPart {
  readonly #model: Tase2Model;
  readonly #table: BilateralTable;
  readonly #engine: TransferEngine;
  readonly #o: ServerPartOptions;
  /** Client-defined data sets, `domain/name` → members. */
  readonly #lists = new Map<string, readonly ObjectName[]>();
  #imEnabled = false;

  constructor(model: Tase2Model, table: BilateralTable, engine: TransferEngine, o: ServerPartOptions) {
    this.#model = model;
    this.#table = table;
    this.#engine = engine;
    this.#o = o;
  }

  /** Whether the peer enabled information messages (wrote IM_Transfer_Set true) and its table allows block 4. */
  get imEnabled(): boolean {
    return this.#imEnabled;
  }

  /** The association ended: its transfer sets stop and are free again. */
  close(): void {
    this.#engine.stopAll();
    this.#model.releaseTransferSets(this.#o.id);
    this.#model.devices.release(this.#o.id);
  }

  handle(req: ConfirmedRequest, now: number): ConfirmedResponse | ServiceError {
    switch (req.service) {
      case 'identify':
        return { service: 'identify', ...this.#o.identity };
      case 'getNameList':
        return this.#nameList(req.objectClass, req.scope, req.continueAfter);
      case 'read': {
        const v = req.variableAccessSpecification;
        if (v.kind === 'named-list') {
          const members = this.#list(v.name);
          if (members === undefined) return Err.objectUndefined;
          return { service: 'read', results: members.map((m) => this.read(m)) };
        }
        return { service: 'read', results: v.variables.map((ref) => this.#readRef(ref, now)) };
      }
      case 'write': {
        const v = req.variableAccessSpecification;
        if (v.kind !== 'list') return Err.unsupported;
        return { service: 'write', results: v.variables.map((ref, i) => this.#write(ref, req.listOfData[i], now)) };
      }
      case 'getVariableAccessAttributes': {
        const row = this.#rowOf(req.name);
        if (row === undefined) return Err.objectNonExistent;
        return { service: 'getVariableAccessAttributes', mmsDeletable: false, typeDescription: encodeMmsTypeSpec(specOfType(row)) };
      }
      case 'defineNamedVariableList':
        return this.#define(req.variableListName, req.variables);
      case 'getNamedVariableListAttributes': {
        const members = this.#list(req.name);
        if (members === undefined) return Err.objectUndefined;
        return {
          service: 'getNamedVariableListAttributes',
          mmsDeletable: this.#lists.has(this.#listKey(req.name) ?? ''),
          variables: members.map((name) => ({ name })),
        };
      }
      case 'deleteNamedVariableList': {
        let deleted = 0;
        for (const n of req.listOfVariableListName ?? []) {
          const k = this.#listKey(n);
          if (k !== undefined && this.#lists.delete(k)) deleted++;
        }
        return { service: 'deleteNamedVariableList', numberMatched: deleted, numberDeleted: deleted };
      }
      default:
        return Err.unsupported;
    }
  }

  /**
   * The current data of a name as this peer may see it (also what the transfer engine reports).
   * Only a request (`now` given) may select a device by reading `<dev>_SBO`.
   */
  read(name: ObjectName, now?: number): AccessResult {
    const device = this.#deviceRef(name);
    if (device !== undefined) return this.#readDevice(device, now);
    if (isImTransferSet(name)) {
      if (!mayUseBlock(this.#table, IM_BLOCK)) return fail(DataAccess.objectAccessDenied);
      return this.#encode('IM_Transfer_Set', { kind: 'IM_Transfer_Set', enabled: this.#imEnabled });
    }
    const ts = this.#ownTransferSet(name);
    if (ts !== undefined) return this.#encode('DSTransferSet', ts.attributes);
    if (name.scope === 'domain' && name.domainId === this.#table.domain) {
      if (name.itemId === 'Bilateral_Table_ID')
        return this.#encode('Bilateral_Table_ID', { kind: 'Bilateral_Table_ID', id: this.#table.id });
      if (name.itemId === 'Next_DSTransfer_Set') {
        const t = this.#model.reserveTransferSet(this.#table.domain, this.#o.id);
        if (t === undefined) return fail(DataAccess.temporarilyUnavailable);
        return this.#encode('Next_DSTransfer_Set', { kind: 'Next_DSTransfer_Set', name: { scope: 'ICC', domain: t.domain, name: t.name } });
      }
    }
    const value = this.#visible(name) ? this.#model.get(name) : undefined;
    return value === undefined ? fail(DataAccess.objectNonExistent) : this.#encode(value.kind, value);
  }

  #readRef(ref: VariableRef, now: number): AccessResult {
    if (ref.alternateAccess !== undefined) return fail(DataAccess.objectAccessDenied);
    return this.read(ref.name, now);
  }

  /** A device name (`<dev>`, `<dev>_SBO`, `<dev>_TAG`) of the peer's domain, whether or not the table lets it use the device. */
  #deviceRef(name: ObjectName): { readonly part: 'device' | 'sbo' | 'tag'; readonly device: string } | undefined {
    if (name.scope !== 'domain' || name.domainId !== this.#table.domain) return undefined;
    const m = /^(.+)_(SBO|TAG)$/.exec(name.itemId);
    const device = m?.[1] ?? name.itemId;
    if (m === null && this.#model.devices.get(name.domainId, device) === undefined) return undefined;
    return { part: m === null ? 'device' : m[2] === 'SBO' ? 'sbo' : 'tag', device };
  }

  /** The device when the table lets this peer use it; existence is not told apart from permission. */
  #device(device: string): Device | undefined {
    return (this.#table.devices ?? []).includes(device) ? this.#model.devices.get(this.#table.domain, device) : undefined;
  }

  #readDevice(ref: { readonly part: 'device' | 'sbo' | 'tag'; readonly device: string }, now: number | undefined): AccessResult {
    const d = this.#device(ref.device);
    if (d === undefined || ref.part === 'device') return fail(DataAccess.objectAccessDenied);
    if (ref.part === 'tag') return this.#encode('DeviceTag', { kind: 'DeviceTag', tag: d.tag, reason: d.reason });
    if (now === undefined) return fail(DataAccess.objectAccessDenied);
    const r = this.#model.devices.select(d, this.#o.id, now);
    return r.ok ? ok(r.data!) : fail(r.error);
  }

  #writeDevice(ref: { readonly part: 'device' | 'sbo' | 'tag'; readonly device: string }, data: MmsData, now: number): WriteResult {
    const d = this.#device(ref.device);
    if (d === undefined || ref.part === 'sbo') return fail(DataAccess.objectAccessDenied);
    if (ref.part === 'device') {
      const r = this.#model.devices.operate(d, this.#o.id, data, now);
      return r.ok ? { success: true } : fail(r.error);
    }
    const row = this.#model.rowOf('DeviceTag');
    const v = row === undefined ? undefined : decodeTase2Value(row, data);
    if (v?.ok !== true || v.value.kind !== 'DeviceTag') return fail(DataAccess.typeInconsistent);
    d.tag = v.value.tag;
    d.reason = v.value.reason;
    return { success: true };
  }

  #visible(name: ObjectName): boolean {
    if (name.scope === 'vmd') return this.#model.get(name) !== undefined;
    return mayAccessValue(this.#table, name, 'read');
  }

  #encode(kind: Tase2Kind, value: Parameters<typeof encodeTase2Value>[1]): AccessResult {
    const row = this.#model.rowOf(kind);
    const d = row === undefined ? undefined : encodeTase2Value(row, value);
    return d?.ok === true ? ok(d.value) : fail(DataAccess.objectValueInvalid);
  }

  /** The type row of a visible object, for getVariableAccessAttributes. */
  #rowOf(name: ObjectName): Tase2TypeRow | undefined {
    const ref = this.#deviceRef(name);
    if (ref !== undefined) {
      const d = this.#device(ref.device);
      return d === undefined
        ? undefined
        : this.#model.rowOf(ref.part === 'device' ? d.kind : ref.part === 'sbo' ? 'CheckBackId' : 'DeviceTag');
    }
    if (this.#ownTransferSet(name) !== undefined) return this.#model.rowOf('DSTransferSet');
    if (isImTransferSet(name)) return mayUseBlock(this.#table, IM_BLOCK) ? this.#model.rowOf('IM_Transfer_Set') : undefined;
    if (name.scope === 'domain' && name.domainId === this.#table.domain) {
      if (name.itemId === 'Bilateral_Table_ID' || name.itemId === 'Next_DSTransfer_Set') return this.#model.rowOf(name.itemId);
    }
    const value = this.#visible(name) ? this.#model.get(name) : undefined;
    return value === undefined ? undefined : this.#model.rowOf(value.kind);
  }

  /** A transfer set of the peer's domain reserved by this association, named plainly or `Name$Attribute`. */
  #ownTransferSet(name: ObjectName): TransferSetObject | undefined {
    if (name.scope !== 'domain' || name.domainId !== this.#table.domain) return undefined;
    const plain = name.itemId.split('$')[0];
    return this.#model.transferSets(name.domainId).find((t) => t.name === plain && t.owner === this.#o.id);
  }

  #nameList(objectClass: number, scope: NameListScope, after?: string): ConfirmedResponse | ServiceError {
    const cls = OBJECT_CLASSES[objectClass];
    let names: string[];
    if (cls === 'domain' && scope.kind === 'vmd') names = [this.#table.domain];
    else if (cls === 'namedVariable' && scope.kind === 'vmd') names = this.#model.names();
    else if (scope.kind === 'domain' && scope.domainId === this.#table.domain && cls === 'namedVariable') {
      names = [
        'Bilateral_Table_ID',
        'Next_DSTransfer_Set',
        ...this.#table.dataValues.filter((n) => this.#model.get({ scope: 'domain', domainId: scope.domainId, itemId: n }) !== undefined),
        ...this.#model
          .transferSets(scope.domainId)
          .filter((t) => t.owner === this.#o.id)
          .map((t) => t.name),
      ];
    } else if (scope.kind === 'domain' && scope.domainId === this.#table.domain && cls === 'namedVariableList') {
      names = [
        ...(this.#table.dataSets ?? []).filter((n) => this.#model.dataSet(scope.domainId, n) !== undefined),
        ...[...this.#lists.keys()].filter((k) => k.startsWith(`${scope.domainId}/`)).map((k) => k.slice(scope.domainId.length + 1)),
      ];
    } else if (scope.kind === 'domain') return Err.objectUndefined;
    else names = [];
    const sorted = [...new Set(names)].sort().filter((n) => after === undefined || n > after);
    return { service: 'getNameList', identifiers: sorted.slice(0, NAMES_PER_PAGE), moreFollows: sorted.length > NAMES_PER_PAGE };
  }

  #listKey(name: ObjectName): string | undefined {
    return name.scope === 'domain' && name.domainId === this.#table.domain ? `${name.domainId}/${name.itemId}` : undefined;
  }

  /** The members of a data set this peer may use: its own, or a server-defined one in its table. */
  #list(name: ObjectName): readonly ObjectName[] | undefined {
    const k = this.#listKey(name);
    if (k === undefined || name.scope !== 'domain') return undefined;
    const own = this.#lists.get(k);
    if (own !== undefined) return own;
    if (!(this.#table.dataSets ?? []).includes(name.itemId)) return undefined;
    return this.#model.dataSet(name.domainId, name.itemId)?.map((itemId) => ({ scope: 'domain', domainId: name.domainId, itemId }));
  }

  #define(name: ObjectName, variables: readonly VariableRef[]): ConfirmedResponse | ServiceError {
    const k = this.#listKey(name);
    if (k === undefined) return Err.objectUndefined;
    if (this.#list(name) !== undefined) return Err.objectExists;
    if (this.#lists.size >= (this.#o.maxDataSets ?? 100)) return Err.resource;
    const special = (n: ObjectName): boolean =>
      n.scope === 'domain' && n.domainId === this.#table.domain && (REPORT_VARIABLES as readonly string[]).includes(n.itemId);
    let size = 0;
    for (const v of variables) {
      if (v.alternateAccess !== undefined || this.#deviceRef(v.name) !== undefined) return Err.objectNonExistent;
      if (special(v.name)) {
        size += 48;
        continue;
      }
      const r = this.read(v.name);
      if (!r.success) return Err.objectNonExistent;
      const w = new BerWriter();
      encodeData(w, r.data);
      size += w.finish().length + 2 * (v.name.itemId.length + (v.name.scope === 'domain' ? v.name.domainId.length : 0)) + 16;
    }
    // A report carries every member's value and, with RBE, every member's name: it must fit one PDU.
    if (this.#o.maxPduSize !== undefined && size + 64 > this.#o.maxPduSize) return Err.resource;
    this.#lists.set(
      k,
      variables.map((v) => v.name),
    );
    return { service: 'defineNamedVariableList' };
  }

  #write(ref: VariableRef, data: MmsData | undefined, now: number): WriteResult {
    if (data === undefined) return fail(DataAccess.typeInconsistent);
    const ts = this.#ownTransferSet(ref.name);
    if (ts !== undefined) {
      const component = ref.alternateAccess === undefined ? ref.name.itemId.split('$')[1] : accessedComponent(ref.alternateAccess);
      return component === undefined ? this.#writeWhole(ts, data, now) : this.#writeAttribute(ts, component, data, now);
    }
    const device = this.#deviceRef(ref.name);
    if (device !== undefined && ref.alternateAccess === undefined) return this.#writeDevice(device, data, now);
    if (isImTransferSet(ref.name) && ref.alternateAccess === undefined) return this.#writeIm(data);
    // Whatever may not be written, hidden or missing, is answered alike.
    if (ref.alternateAccess !== undefined || ref.name.scope !== 'domain' || !mayAccessValue(this.#table, ref.name, 'write')) {
      return fail(DataAccess.objectAccessDenied);
    }
    const current = this.#model.get(ref.name);
    const row = current === undefined ? undefined : this.#model.rowOf(current.kind);
    const d = row === undefined ? undefined : decodeTase2Value(row, data);
    if (d === undefined || !d.ok) return fail(DataAccess.typeInconsistent);
    this.#model.set(ref.name, d.value);
    return { success: true };
  }

  /** IM_Transfer_Set (block 4): true enables information messages on this association, false stops them. */
  #writeIm(data: MmsData): WriteResult {
    if (!mayUseBlock(this.#table, IM_BLOCK)) return fail(DataAccess.objectAccessDenied);
    const row = this.#model.rowOf('IM_Transfer_Set');
    const d = row === undefined ? undefined : decodeTase2Value(row, data);
    if (d?.ok !== true || d.value.kind !== 'IM_Transfer_Set') return fail(DataAccess.typeInconsistent);
    this.#imEnabled = d.value.enabled;
    return { success: true };
  }

  #writeWhole(ts: TransferSetObject, data: MmsData, now: number): WriteResult {
    const row = this.#model.rowOf('DSTransferSet');
    const d = row === undefined ? undefined : decodeTase2Value(row, data);
    if (d === undefined || !d.ok || d.value.kind !== 'DSTransferSet') return fail(DataAccess.typeInconsistent);
    if (ts.attributes.status && d.value.status) return fail(DataAccess.objectAttributeInconsistent);
    return this.#apply(ts, d.value, now);
  }

  #writeAttribute(ts: TransferSetObject, component: string, data: MmsData, now: number): WriteResult {
    const row = this.#model.rowOf('DSTransferSet');
    const member = row?.members.findIndex(([c]) => c === component) ?? -1;
    if (row === undefined || member < 0) return fail(DataAccess.objectNonExistent);
    const isStatus = component === 'Status';
    if (ts.attributes.status && !(isStatus && data.type === 'boolean' && !data.value)) return fail(DataAccess.objectAttributeInconsistent);
    // Decode the one attribute by putting it in place in the current structure.
    const whole = encodeTase2Value(row, ts.attributes);
    if (!whole.ok || whole.value.type !== 'structure') return fail(DataAccess.objectValueInvalid);
    const components = whole.value.components.map((c, i) => (i === member ? data : c));
    const d = decodeTase2Value(row, { type: 'structure', components });
    if (!d.ok || d.value.kind !== 'DSTransferSet') return fail(DataAccess.typeInconsistent);
    return this.#apply(ts, d.value, now);
  }

  /** Takes new attributes; Status true starts the set on its data set, Status false stops it. */
  #apply(ts: TransferSetObject, attributes: DsTransferSet, now: number): WriteResult {
    if (!attributes.status) {
      this.#engine.stop(ts.name);
      ts.attributes = attributes;
      return { success: true };
    }
    // Blocked transfers (block 3) are not served (Supported_Features does not offer them): a set
    // that asks for them is refused rather than started with reports in another form.
    if (attributes.blockData) return fail(DataAccess.objectValueInvalid);
    const n = attributes.dataSetName;
    const dataSet: ObjectName = { scope: 'domain', domainId: n.domain, itemId: n.name };
    const members = n.scope === 'ICC' ? this.#list(dataSet) : undefined;
    if (members === undefined) return fail(DataAccess.objectValueInvalid);
    ts.attributes = attributes;
    this.#engine.start({ domain: ts.domain, name: ts.name, attributes, dataSet, members }, now);
    return { success: true };
  }
}
