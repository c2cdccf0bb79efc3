/**
 * The state of one outstation device, kept apart from any association so that it outlives
 * connections (a master reconnecting finds the same values, unconfirmed events and restart
 * indication): static values per type and index, the event buffer, the device indications
 * IIN1.7 DEVICE_RESTART and IIN1.4 NEED_TIME (IEEE 1815-2012 4.2.2.6.1), and the device clock.
 *
 * The clock is `wallOffset + now`, `now` being the caller's monotonic milliseconds: nothing here
 * reads a clock. Time writes (g50v1, g50v3) move the offset.
 */
import { ErrorCode, ProtocolError } from '../../../core/errors.js';
import { FLAG_SETS, MAX_TIME48 } from '../app/objects/index.js';
import { EventBuffer, type StoredEvent } from './events.js';
import {
  POINT_TYPE_NAMES,
  pointTypeRow,
  servedVariation,
  valueProblem,
  type EventClass,
  type PointTypeName,
  type PointValue,
} from './points.js';

const LAYER = 'dnp3.outstation';

/** Largest point index: object headers of 0x28 and 0x01 carry 16-bit indexes. */
export const MAX_POINT_INDEX = 0xffff;

/** How a point is configured when it is added. */
export interface PointConfig {
  /** Initial value; false or 0 when absent (double-bit: 1, DETERMINED_OFF). */
  readonly value?: PointValue;
  /** Initial flags octet; ONLINE when absent. */
  readonly flags?: number;
  /** Class of its events; the type's default (binaries 1, analogs 2, counters 3) when absent; 0 = no events. */
  readonly eventClass?: EventClass;
  /** Static variation reported for variation 0 and class 0; the type's default when absent. */
  readonly staticVariation?: number;
  /** Event variation reported by class polls; the type's default when absent. */
  readonly eventVariation?: number;
}

/** One point of the database. */
export interface PointRecord {
  readonly type: PointTypeName;
  readonly index: number;
  value: PointValue;
  flags: number;
  readonly eventClass: EventClass;
  readonly staticVariation: number;
  readonly eventVariation: number;
}

/** Options of an {@link OutstationDatabase}. */
export interface DatabaseOptions {
  /** Events each class holds before the oldest is discarded (IIN2.3); default 1000. */
  readonly eventBufferSize?: number;
  /** Set IIN1.4 NEED_TIME until the master writes the time; default false. */
  readonly needTime?: boolean;
  /** Wall-clock time (ms since 1970) at `now` of construction; 0 when absent. */
  readonly wallMs?: number;
}

function rangeError(message: string): ProtocolError {
  return new ProtocolError(LAYER, ErrorCode.RANGE, message, { fault: 'local' });
}

const ONLINE = FLAG_SETS.binary.ONLINE;

/** Static values, events and device indications of one outstation. */
export class OutstationDatabase {
  readonly events: EventBuffer;
  /** IIN1.7: set at start-up, cleared when the master writes g80v1 index 7 to 0. */
  restart = true;
  /** IIN1.4: the outstation wants the time; cleared by a time write. */
  needTime: boolean;
  readonly #points = new Map<PointTypeName, Map<number, PointRecord>>();
  readonly #sorted = new Map<PointTypeName, PointRecord[]>();
  #wallOffset: number;

  constructor(options: DatabaseOptions, now: number) {
    const size = options.eventBufferSize ?? 1000;
    if (!Number.isInteger(size) || size < 1) throw rangeError(`event buffer size ${String(size)} must be a positive integer`);
    this.events = new EventBuffer(size);
    this.needTime = options.needTime ?? false;
    this.#wallOffset = (options.wallMs ?? 0) - now;
    for (const t of POINT_TYPE_NAMES) this.#points.set(t, new Map());
  }

  /** The device clock at `now`: milliseconds since 1970, as event times and g50v1 report it. */
  clock(now: number): number {
    return Math.min(MAX_TIME48, Math.max(0, Math.round(this.#wallOffset + now)));
  }

  /** Sets the device clock to `wallMs` at `now` (WRITE g50v1/g50v3) and clears IIN1.4. */
  setClock(wallMs: number, now: number): void {
    this.#wallOffset = wallMs - now;
    this.needTime = false;
  }

  /**
   * Adds a point. Throws a {@link ProtocolError} `E_RANGE` for an index outside 0..65535, a
   * value the type cannot hold, a variation its groups lack, or a point that already exists.
   */
  add(type: PointTypeName, index: number, config: PointConfig = {}): PointRecord {
    const row = pointTypeRow(type);
    const where = `${type} ${String(index)}`;
    if (!Number.isInteger(index) || index < 0 || index > MAX_POINT_INDEX) throw rangeError(`${where}: index outside 0..${MAX_POINT_INDEX}`);
    const points = this.#points.get(type)!;
    if (points.has(index)) throw rangeError(`${where} is defined twice`);
    const value = config.value ?? (row.value === 'binary' ? false : row.value === 'doubleBit' ? 1 : 0);
    const problem = valueProblem(type, value);
    if (problem !== undefined) throw rangeError(`${where}: ${problem}`);
    const flags = config.flags ?? ONLINE;
    if (!Number.isInteger(flags) || flags < 0 || flags > 0xff) throw rangeError(`${where}: flags ${String(flags)} outside 0..255`);
    const isFloat = typeof value === 'number' && !Number.isInteger(value);
    const staticVariation = config.staticVariation ?? (isFloat ? row.floatStaticVariation : undefined) ?? row.staticVariation;
    const eventVariation = config.eventVariation ?? (isFloat ? row.floatEventVariation : undefined) ?? row.eventVariation;
    if (!servedVariation(type, 'static', staticVariation)) throw rangeError(`${where}: no static variation ${staticVariation}`);
    if (!servedVariation(type, 'event', eventVariation)) throw rangeError(`${where}: no event variation ${eventVariation}`);
    const eventClass = config.eventClass ?? row.defaultClass;
    const p: PointRecord = { type, index, value, flags, eventClass, staticVariation, eventVariation };
    points.set(index, p);
    this.#sorted.delete(type);
    return p;
  }

  /** A point, or undefined. */
  get(type: PointTypeName, index: number): Readonly<PointRecord> | undefined {
    return this.#points.get(type)!.get(index);
  }

  /** The points of a type in index order. */
  points(type: PointTypeName): readonly Readonly<PointRecord>[] {
    let s = this.#sorted.get(type);
    if (s === undefined) {
      s = [...this.#points.get(type)!.values()].sort((a, b) => a.index - b.index);
      this.#sorted.set(type, s);
    }
    return s;
  }

  /** Points of every type. */
  get size(): number {
    let n = 0;
    for (const m of this.#points.values()) n += m.size;
    return n;
  }

  /**
   * Changes a point's value (and flags when given) and records an event in its class when the
   * value or flags changed, or always with `force` (a command's output status). The event is
   * stamped `timeMs` when given, else with the device clock at `now`. Returns the event, or
   * undefined when none was recorded. Throws a {@link ProtocolError} `E_RANGE` for an unknown
   * point or a value the type cannot hold.
   */
  update(
    type: PointTypeName,
    index: number,
    value: PointValue,
    flags: number | undefined,
    now: number,
    timeMs?: number,
    force = false,
  ): StoredEvent | undefined {
    const p = this.#points.get(type)!.get(index);
    if (p === undefined) throw rangeError(`${type} ${String(index)} does not exist`);
    const problem = valueProblem(type, value);
    if (problem !== undefined) throw rangeError(`${type} ${String(index)}: ${problem}`);
    const f = flags ?? p.flags;
    const changed = !Object.is(p.value, value) || f !== p.flags;
    p.value = value;
    p.flags = f;
    if ((!changed && !force) || p.eventClass === 0) return undefined;
    return this.events.push({
      type,
      index,
      eventClass: p.eventClass,
      value,
      flags: f,
      timeMs: timeMs ?? this.clock(now),
      variation: p.eventVariation,
    });
  }
}
