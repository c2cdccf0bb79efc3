/**
 * TASE.2 device control (IEC 60870-6-503 block 5, 802 devices), sans-I/O: commands (Integer16
 * 0 trip/off/lower, 1 close/on/raise), real and discrete set points. Select-before-operate
 * devices are selected by reading `<dev>_SBO`, which answers an Integer16 check-back ID and holds
 * the device for that association for the select timeout; the operate is a write of `<dev>`.
 * Direct-operate devices take the write alone. Tags (`<dev>_TAG`, {Flags, Reason}) inhibit
 * operation: OPEN_AND_CLOSE_INHIBIT every operation, CLOSE_ONLY_INHIBIT a close command.
 *
 * Refusals are DataAccessErrors: object-access-denied for a device the peer may not use *and* for
 * one that does not exist (existence is not leaked), for a tag that inhibits, and for an operate
 * without a valid selection; temporarily-unavailable while another association holds the
 * selection; object-value-invalid for a command other than 0 or 1; type-inconsistent for data of
 * another type.
 */
import type { MmsData } from '../mms/data.js';
import type { TagFlags } from './flags.js';
import type { Tase2Kind } from './objects.js';

export type DeviceKind = Extract<Tase2Kind, 'Command' | 'RealSetPoint' | 'DiscreteSetPoint'>;

/** One device as configured and its state. */
export interface Device {
  readonly domain: string;
  readonly name: string;
  readonly kind: DeviceKind;
  /** Select-before-operate (true) or direct operate. */
  readonly sbo: boolean;
  tag: TagFlags;
  reason: string;
  selection?: { readonly owner: number; readonly checkBackId: number; readonly until: number };
}

/** An operation carried out, for the application to act on. */
export interface Operation {
  readonly domain: string;
  readonly device: string;
  readonly kind: DeviceKind;
  readonly value: number;
  readonly owner: number;
}

/** DataAccessError codes (ISO 9506-2 14.4.1) of device refusals. */
const Refuse = { temporarilyUnavailable: 2, objectAccessDenied: 3, typeInconsistent: 7, objectValueInvalid: 11 } as const;

export type DeviceResult = { readonly ok: true; readonly data?: MmsData } | { readonly ok: false; readonly error: number };

const denied: DeviceResult = { ok: false, error: Refuse.objectAccessDenied };

export class DeviceControl {
  readonly #devices = new Map<string, Device>();
  readonly #selectTimeoutMs: number;
  #nextCheckBack = 1;
  readonly #listeners = new Set<(o: Operation) => void>();

  constructor(devices: readonly Omit<Device, 'tag' | 'reason' | 'selection'>[], o: { readonly selectTimeoutMs?: number } = {}) {
    for (const d of devices) this.#devices.set(`${d.domain}/${d.name}`, { ...d, tag: { tag: 'NO_TAG', deviceState: 'IDLE' }, reason: '' });
    this.#selectTimeoutMs = o.selectTimeoutMs ?? 30_000;
  }

  get(domain: string, name: string): Device | undefined {
    return this.#devices.get(`${domain}/${name}`);
  }

  onOperate(l: (o: Operation) => void): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }

  /** Read of `<dev>_SBO`: selects the device for `owner`, answering the check-back ID. */
  select(d: Device | undefined, owner: number, now: number): DeviceResult {
    if (d === undefined || !d.sbo || d.tag.tag === 'OPEN_AND_CLOSE_INHIBIT') return denied;
    const held = d.selection;
    if (held !== undefined && held.owner !== owner && now < held.until) return { ok: false, error: Refuse.temporarilyUnavailable };
    const checkBackId = this.#nextCheckBack;
    this.#nextCheckBack = this.#nextCheckBack >= 0x7fff ? 1 : this.#nextCheckBack + 1;
    d.selection = { owner, checkBackId, until: now + this.#selectTimeoutMs };
    d.tag = { ...d.tag, deviceState: 'ARMED' };
    return { ok: true, data: { type: 'integer', value: checkBackId } };
  }

  /** Write of `<dev>`: operates a selected (or direct-operate) device. */
  operate(d: Device | undefined, owner: number, data: MmsData, now: number): DeviceResult {
    if (d === undefined) return denied;
    const value = valueOf(d.kind, data);
    if (value === undefined) return { ok: false, error: Refuse.typeInconsistent };
    if (d.kind === 'Command' && value !== 0 && value !== 1) return { ok: false, error: Refuse.objectValueInvalid };
    if (d.tag.tag === 'OPEN_AND_CLOSE_INHIBIT' || (d.tag.tag === 'CLOSE_ONLY_INHIBIT' && d.kind === 'Command' && value === 1))
      return denied;
    if (d.sbo) {
      const s = d.selection;
      if (s === undefined || s.owner !== owner || now >= s.until) return denied;
      delete d.selection;
      d.tag = { ...d.tag, deviceState: 'IDLE' };
    }
    for (const l of this.#listeners) l({ domain: d.domain, device: d.name, kind: d.kind, value, owner });
    return { ok: true };
  }

  /** Selections of `owner` end with its association. */
  release(owner: number): void {
    for (const d of this.#devices.values()) {
      if (d.selection?.owner !== owner) continue;
      delete d.selection;
      d.tag = { ...d.tag, deviceState: 'IDLE' };
    }
  }
}

function valueOf(kind: DeviceKind, data: MmsData): number | undefined {
  if (kind === 'RealSetPoint') return data.type === 'floating-point' ? data.value : undefined;
  return data.type === 'integer' && typeof data.value === 'number' && data.value >= -32768 && data.value <= 32767 ? data.value : undefined;
}
