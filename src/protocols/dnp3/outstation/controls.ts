/**
 * Controls at the outstation (IEEE 1815-2012 clause 4.4.3..4.4.6, Annex A groups 12 and 41): the
 * control relay output block g12v1 acts on the binary output status point (g10) of the same
 * index, an analog output block g41v1..4 on the analog output status point (g40) of the same
 * index. Each object is echoed with its status: SUCCESS, NOT_SUPPORTED for an index without an
 * output or a control code the point does not take, TOO_MANY_OBJS beyond the per-request limit,
 * or the status the select-before-operate rules impose (NO_SELECT, TIMEOUT).
 *
 * An executed control sets the output status and records its event (g11, g42) even when the
 * value did not change: the master sees that the command acted.
 */
import type { ObjectHeader, ObjectHeaderSpec } from '../app/codec.js';
import { IIN2 } from '../app/header.js';
import { CommandStatus, commandStatusName, ControlCode, type CommandStatusName, type Point } from '../app/objects/index.js';
import type { OutstationDatabase } from './database.js';
import type { PointTypeName, PointValue } from './points.js';

/** Which output each command group drives (Annex A, groups 12 and 41). */
const CONTROL_TARGETS: ReadonlyMap<number, { readonly target: PointTypeName; readonly kind: 'crob' | 'analog' }> = new Map([
  [12, { target: 'BinaryOutputStatus', kind: 'crob' }],
  [41, { target: 'AnalogOutputStatus', kind: 'analog' }],
]);

/**
 * The binary output state each supported control code leaves (Annex A, group 12): latch and
 * close codes turn the output on, unlatch and trip codes off. A simulated output has no pulse
 * timing, so a pulse leaves the state it pulses to. Codes with the clear bit, NUL and the
 * reserved operation types are NOT_SUPPORTED.
 */
const CROB_EFFECT: ReadonlyMap<number, boolean> = new Map([
  [ControlCode.LATCH_ON, true],
  [ControlCode.LATCH_OFF, false],
  [ControlCode.PULSE_ON, true],
  [ControlCode.PULSE_OFF, false],
  [ControlCode.CLOSE_PULSE_ON, true],
  [ControlCode.TRIP_PULSE_ON, false],
]);

/** One control object and what became of it. */
export interface ControlResult {
  readonly kind: 'crob' | 'analog';
  readonly group: number;
  readonly variation: number;
  readonly index: number;
  readonly status: number;
  readonly statusName: CommandStatusName | 'RESERVED';
  /** CROB control code octet. */
  readonly controlCode?: number;
  /** The output's value after an executed control; the requested value for a check. */
  readonly value?: PointValue;
}

/** The echo of a control request and its results. */
export interface ControlPlan {
  readonly objects: ObjectHeaderSpec[];
  readonly iin2: number;
  readonly results: ControlResult[];
}

/** How to treat the objects: check only (SELECT), check and execute, or answer every object with a status. */
export type ControlMode = { readonly kind: 'check' } | { readonly kind: 'execute' } | { readonly kind: 'status'; readonly status: number };

function statusOf(
  db: OutstationDatabase,
  kind: 'crob' | 'analog',
  target: PointTypeName,
  p: Point,
): { status: number; value: PointValue | undefined } {
  if (db.get(target, p.index) === undefined) return { status: CommandStatus.NOT_SUPPORTED, value: undefined };
  if (kind === 'crob') {
    const v = CROB_EFFECT.get(p.controlCode ?? -1);
    return v === undefined ? { status: CommandStatus.NOT_SUPPORTED, value: undefined } : { status: CommandStatus.SUCCESS, value: v };
  }
  const v = p.value;
  if (typeof v !== 'number' || Number.isNaN(v)) return { status: CommandStatus.OUT_OF_RANGE, value: undefined };
  return { status: CommandStatus.SUCCESS, value: v };
}

/**
 * Checks, and with `execute` carries out, the control objects of a SELECT, OPERATE or
 * DIRECT_OPERATE request. Headers of other groups set IIN2.1 OBJECT_UNKNOWN and are not echoed.
 * Each object whose check gave SUCCESS executes on its own, as opendnp3 does; the echo tells the
 * master which did.
 */
export function runControls(
  db: OutstationDatabase,
  headers: readonly ObjectHeader[],
  mode: ControlMode,
  now: number,
  maxControls: number,
): ControlPlan {
  let iin2 = 0;
  const known = headers.filter((h) => {
    const ok = CONTROL_TARGETS.has(h.group);
    if (!ok) iin2 |= IIN2.OBJECT_UNKNOWN;
    return ok;
  });
  const total = known.reduce((n, h) => n + h.points.length, 0);
  const checked = known.map((h) => {
    const t = CONTROL_TARGETS.get(h.group)!;
    return {
      h,
      t,
      items: h.points.map((p) => {
        if (mode.kind === 'status') return { p, status: mode.status, value: undefined };
        if (total > maxControls) return { p, status: CommandStatus.TOO_MANY_OBJS, value: undefined };
        return { p, ...statusOf(db, t.kind, t.target, p) };
      }),
    };
  });
  const results: ControlResult[] = [];
  const objects: ObjectHeaderSpec[] = [];
  for (const { h, t, items } of checked) {
    for (const i of items) {
      let value = i.value;
      if (mode.kind === 'execute' && i.status === CommandStatus.SUCCESS && value !== undefined) {
        db.update(t.target, i.p.index, value, undefined, now, undefined, true);
        value = db.get(t.target, i.p.index)?.value;
      }
      results.push({
        kind: t.kind,
        group: h.group,
        variation: h.variation,
        index: i.p.index,
        status: i.status,
        statusName: commandStatusName(i.status) ?? 'RESERVED',
        ...(i.p.controlCode === undefined ? {} : { controlCode: i.p.controlCode }),
        ...(value === undefined ? {} : { value }),
      });
    }
    objects.push({
      group: h.group,
      variation: h.variation,
      qualifier: h.qualifier,
      range: h.range,
      points: items.map((i) => ({ ...i.p, status: i.status })),
    });
  }
  return { objects, iin2, results };
}
