/**
 * A TASE.2 server's objects (802): VCC data values (VMD scope) and, per ICC domain, data values,
 * server-defined data sets and a pool of DSTransferSet objects, plus the bilateral tables that
 * say which peer sees which domain. Plain data with change listeners; the transfer engines of the
 * associations subscribe through their endpoint.
 */
import type { ObjectName } from '../mms/access.js';
import type { BilateralTable } from './bilateral.js';
import { DeviceControl, type DeviceKind } from './devices.js';
import type { ConformanceBlock } from './flags.js';
import { tase2Type, type Tase2Kind, type Tase2TypeRow, type Tase2Value } from './objects.js';
import type { DsTransferSet } from './transfer.js';
import type { Tase2Edition } from './types.js';

/** One ICC domain as configured. */
export interface IccDomainInit {
  readonly values: Readonly<Record<string, Tase2Value>>;
  /** Server-defined data sets: name → member names in this domain. */
  readonly dataSets?: Readonly<Record<string, readonly string[]>>;
  /** DSTransferSet objects offered through Next_DSTransfer_Set; default 4. */
  readonly transferSets?: number;
  /** Devices (block 5): name → kind and whether it is select-before-operate. */
  readonly devices?: Readonly<Record<string, { readonly kind: DeviceKind; readonly sbo: boolean }>>;
}

export interface Tase2ModelInit {
  readonly edition?: Tase2Edition;
  /** TASE2_Version; default 2000/8 or 1996/8 by edition. */
  readonly version?: { readonly major: number; readonly minor: number };
  /** Supported_Features; default basic services, extended conditions and information messages (blocks 1, 2, 4). */
  readonly features?: readonly ConformanceBlock[];
  readonly vcc?: Readonly<Record<string, Tase2Value>>;
  readonly domains: Readonly<Record<string, IccDomainInit>>;
  readonly tables: readonly BilateralTable[];
  /** How long a select (read of `<dev>_SBO`) holds a device; default 30,000 ms. */
  readonly selectTimeoutMs?: number;
}

/** A DSTransferSet object and the association that reserved it. */
export interface TransferSetObject {
  readonly domain: string;
  readonly name: string;
  attributes: DsTransferSet;
  owner: number | undefined;
}

const VERSION = { '1996': { major: 1996, minor: 8 }, '2000': { major: 2000, minor: 8 } } as const;

/** The attributes of an idle transfer set: nothing requested, Status false. */
function idleTransferSet(edition: Tase2Edition): DsTransferSet {
  const base = {
    kind: 'DSTransferSet',
    dataSetName: { scope: 'ICC', domain: '', name: '' },
    startTime: 0,
    interval: 0,
    tle: 0,
    bufferTime: 0,
    integrityCheck: 0,
    conditionsRequested: [],
    blockData: false,
    critical: false,
    rbe: false,
    status: false,
    eventCodeRequested: 0,
  } as const;
  return edition === '2000' ? { ...base, edition, allChangesReported: false } : { ...base, edition };
}

export type ValueListener = (name: ObjectName, value: Tase2Value) => void;

export class Tase2Model {
  readonly edition: Tase2Edition;
  readonly tables: readonly BilateralTable[];
  readonly #vcc = new Map<string, Tase2Value>();
  readonly #domains = new Map<string, Map<string, Tase2Value>>();
  readonly #dataSets = new Map<string, readonly string[]>();
  readonly #transferSets = new Map<string, TransferSetObject[]>();
  readonly #listeners = new Set<ValueListener>();
  /** Devices of every domain (block 5). */
  readonly devices: DeviceControl;

  constructor(init: Tase2ModelInit) {
    this.edition = init.edition ?? '2000';
    this.tables = init.tables;
    const version = init.version ?? VERSION[this.edition];
    this.#vcc.set('TASE2_Version', { kind: 'TASE2_Version', ...version });
    this.#vcc.set('Supported_Features', {
      kind: 'Supported_Features',
      blocks: init.features ?? ['basic-services', 'extended-data-set-condition-monitoring', 'information-messages'],
    });
    for (const [k, v] of Object.entries(init.vcc ?? {})) this.#vcc.set(k, v);
    this.devices = new DeviceControl(
      Object.entries(init.domains).flatMap(([domain, d]) => Object.entries(d.devices ?? {}).map(([name, x]) => ({ domain, name, ...x }))),
      init.selectTimeoutMs === undefined ? {} : { selectTimeoutMs: init.selectTimeoutMs },
    );
    for (const [domain, d] of Object.entries(init.domains)) {
      this.#domains.set(domain, new Map(Object.entries(d.values)));
      for (const [name, members] of Object.entries(d.dataSets ?? {})) this.#dataSets.set(`${domain}/${name}`, members);
      this.#transferSets.set(
        domain,
        Array.from({ length: d.transferSets ?? 4 }, (_, i) => ({
          domain,
          name: `DSTrans${i + 1}`,
          attributes: idleTransferSet(this.edition),
          owner: undefined,
        })),
      );
    }
  }

  /** The type row of a value in this model's edition. */
  rowOf(kind: Tase2Kind): Tase2TypeRow | undefined {
    return tase2Type(kind, this.edition);
  }

  hasDomain(domain: string): boolean {
    return this.#domains.has(domain);
  }

  /** Names in the VMD scope (VCC) or an ICC domain. */
  names(domain?: string): string[] {
    return [...(domain === undefined ? this.#vcc : (this.#domains.get(domain) ?? new Map())).keys()];
  }

  get(name: ObjectName): Tase2Value | undefined {
    if (name.scope === 'vmd') return this.#vcc.get(name.itemId);
    if (name.scope === 'domain') return this.#domains.get(name.domainId)?.get(name.itemId);
    return undefined;
  }

  /** Sets a data value that exists; listeners learn of it. Returns false for an unknown name. */
  set(name: ObjectName, value: Tase2Value): boolean {
    const map = name.scope === 'vmd' ? this.#vcc : name.scope === 'domain' ? this.#domains.get(name.domainId) : undefined;
    if (map === undefined || !map.has(name.itemId)) return false;
    map.set(name.itemId, value);
    for (const l of this.#listeners) l(name, value);
    return true;
  }

  onChange(listener: ValueListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Server-defined data set members in `domain`. */
  dataSet(domain: string, name: string): readonly string[] | undefined {
    return this.#dataSets.get(`${domain}/${name}`);
  }

  dataSetNames(domain: string): string[] {
    return [...this.#dataSets.keys()].filter((k) => k.startsWith(`${domain}/`)).map((k) => k.slice(domain.length + 1));
  }

  transferSets(domain: string): readonly TransferSetObject[] {
    return this.#transferSets.get(domain) ?? [];
  }

  /** Next_DSTransfer_Set: reserves a free transfer set of `domain` for association `owner`. */
  reserveTransferSet(domain: string, owner: number): TransferSetObject | undefined {
    const free = this.transferSets(domain).find((t) => t.owner === undefined);
    if (free !== undefined) free.owner = owner;
    return free;
  }

  /** Frees every transfer set of association `owner` (it ended) and makes it idle again. */
  releaseTransferSets(owner: number): void {
    for (const list of this.#transferSets.values()) {
      for (const t of list) {
        if (t.owner !== owner) continue;
        t.owner = undefined;
        t.attributes = idleTransferSet(this.edition);
      }
    }
  }
}
