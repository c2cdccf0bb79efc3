/**
 * Judges gridgate's DNP3 stack against a capture of opendnp3 (an independent C++ implementation):
 * a master (address 1) and an outstation (address 10) on port 20000. Our reading (pcap reader →
 * LinkFramer → one transport Reassembler per direction → decodeFragment) and tshark's reading of
 * the same file must agree link frame by link frame (control bits, addresses, CRCs, transport
 * header, user data) and fragment by fragment (application control, function, IIN, object
 * headers, every point's index, flags, value, time, control and status fields tshark prints).
 *
 * tshark is a test dependency (Debian package `tshark`); the test fails, rather than skips,
 * when it is missing.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { kuraBlocks, kuraResponse, type KuraBlock } from '../../src/apps/dnp3/kura.js';
import {
  DOUBLE_BIT_NAMES,
  LinkFramer,
  objectRow,
  Reassembler,
  decodeFragment,
  type Fragment,
  type IinName,
  type ObjectHeader,
  type Point,
} from '../../src/protocols/dnp3/index.js';
import { readCapture, type Capture } from '../../src/protocols/capture/reader.js';
import { tcpStreams, type StreamChunk, type TcpStreamContent } from '../../src/protocols/capture/tcp.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/dnp3-opendnp3.pcap', import.meta.url));
const PORT = 20000;
const MASTER = 1;
const OUTSTATION = 10;

/** One link frame as both readers report it; numbers and strings only, so the sides compare with toEqual. */
interface NormLink {
  /** Frame number of the TCP segment that completed the link frame. */
  readonly frame: number;
  /** 'up' from the master (client) to the outstation (server port). */
  readonly dir: 'up' | 'down';
  readonly len: number;
  /** Control octet bits: DIR, PRM, FCB, FCV (DFC on secondary frames) and the function code. */
  readonly ctlDir: number;
  readonly prm: number;
  readonly fcb: number;
  readonly fcv: number;
  readonly func: number;
  readonly destination: number;
  readonly source: number;
  /** 'good' when the header CRC and every block CRC check. */
  readonly crc: 'good' | 'bad';
  /** User data blocks of up to 16 octets, each with its CRC. */
  readonly blocks: number;
  /** User data without the CRCs (transport header and APDU octets), hex. */
  readonly data: string;
  readonly transport: { readonly fir: number; readonly fin: number; readonly seq: number } | null;
}

/** One application fragment. */
interface NormFragment {
  /** Frame that completed the fragment. */
  readonly frame: number;
  readonly dir: 'up' | 'down';
  /** Frames that carried its transport segments, in order. */
  readonly segments: readonly number[];
  readonly length: number;
  readonly fir: number;
  readonly fin: number;
  readonly con: number;
  readonly uns: number;
  readonly seq: number;
  readonly func: number;
  /** IIN1 << 8 | IIN2 of a response; null in requests. */
  readonly iin: number | null;
  /** Names of the set IIN bits, sorted; null in requests. */
  readonly iinNames: readonly string[] | null;
  readonly objects: readonly NormObject[];
}

interface NormObject {
  readonly group: number;
  readonly variation: number;
  readonly qualifier: number;
  /** 'all', 'start-stop' or 'count N'. */
  readonly range: string;
  readonly points: readonly NormPoint[];
}

/** index, flags, value, timeMs, controlCode, count, onTimeMs, offTimeMs, status, as present. */
type NormPoint = Readonly<Record<string, number>>;

const b = (v: boolean): number => (v ? 1 : 0);

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/**
 * Floats compare at the precision tshark prints them: FLT_DIG (6) significant digits for
 * float32, DBL_DIG (15) for float64.
 */
function precise(v: number, digits: 6 | 15 | undefined): number {
  return digits === undefined || !Number.isFinite(v) ? v : Number(v.toPrecision(digits));
}

// ---------------------------------------------------------------------------------------------
// Our reading
// ---------------------------------------------------------------------------------------------

/** Significant digits tshark shows for the value of a row: 6 for float32, 15 for float64. */
function floatDigits(group: number, variation: number): 6 | 15 | undefined {
  const row = objectRow(group, variation);
  if (row?.layout.form !== 'fixed') return undefined;
  const elements: readonly string[] = row.layout.elements;
  return elements.includes('F64') ? 15 : elements.includes('F32') ? 6 : undefined;
}

function ourPoint(h: ObjectHeader, p: Point): NormPoint {
  const v: Record<string, number> = { index: p.index };
  if (p.flags !== undefined) v['flags'] = p.flags;
  if (p.value !== undefined) v['value'] = typeof p.value === 'boolean' ? b(p.value) : precise(p.value, floatDigits(h.group, h.variation));
  if (p.timeMs !== undefined) v['timeMs'] = p.timeMs;
  if (p.controlCode !== undefined) v['controlCode'] = p.controlCode;
  if (p.count !== undefined) v['count'] = p.count;
  if (p.onTimeMs !== undefined) v['onTimeMs'] = p.onTimeMs;
  if (p.offTimeMs !== undefined) v['offTimeMs'] = p.offTimeMs;
  if (p.status !== undefined) v['status'] = p.status;
  return v;
}

function ourObject(h: ObjectHeader): NormObject {
  const r = h.range;
  return {
    group: h.group,
    variation: h.variation,
    qualifier: h.qualifier,
    range: r.kind === 'all' ? 'all' : r.kind === 'startStop' ? `${r.start}-${r.stop}` : `count ${r.count}`,
    points: h.points.map((p) => ourPoint(h, p)),
  };
}

interface Decoded {
  readonly frame: number;
  readonly dir: 'up' | 'down';
  readonly fragment: Fragment;
}

interface OurReading {
  readonly links: NormLink[];
  readonly fragments: NormFragment[];
  readonly decoded: Decoded[];
  readonly failures: { readonly frame: number; readonly layer: string; readonly reason: string }[];
  /** Octets of an unfinished link frame and of an unfinished fragment at the end of the stream. */
  readonly leftover: { readonly link: number; readonly transport: number };
}

/** One direction of the TCP stream through LinkFramer → Reassembler → decodeFragment. */
function readDirection(chunks: readonly StreamChunk[], dir: 'up' | 'down'): OurReading {
  const framer = new LinkFramer();
  const reassembler = new Reassembler();
  const out: OurReading = { links: [], fragments: [], decoded: [], failures: [], leftover: { link: 0, transport: 0 } };
  let segmentFrames: number[] = [];
  for (const chunk of chunks) {
    framer.push(
      chunk.bytes,
      (f) => {
        const t = f.data.length > 0 ? f.data[0]! : undefined;
        out.links.push({
          frame: chunk.frame,
          dir,
          len: f.data.length + 5,
          ctlDir: b(f.dir),
          prm: b(f.prm),
          fcb: b(f.fcb),
          fcv: b(f.fcv),
          func: f.func,
          destination: f.destination,
          source: f.source,
          // LinkFramer delivers only frames whose header and block CRCs all check.
          crc: 'good',
          blocks: Math.ceil(f.data.length / 16),
          data: hex(f.data),
          transport: t === undefined ? null : { fir: (t >> 6) & 1, fin: t >> 7, seq: t & 0x3f },
        });
        if (t === undefined) return;
        if ((t & 0x40) !== 0) segmentFrames = [];
        segmentFrames.push(chunk.frame);
        const r = reassembler.push(f.data);
        if (r.type === 'discarded') {
          out.failures.push({ frame: chunk.frame, layer: 'dnp3.transport', reason: r.reason });
          return;
        }
        if (r.discardedPartial !== undefined)
          out.failures.push({ frame: chunk.frame, layer: 'dnp3.transport', reason: r.discardedPartial });
        if (r.type !== 'complete') return;
        const d = decodeFragment(r.apdu);
        if (!d.ok) {
          out.failures.push({ frame: chunk.frame, layer: d.layer, reason: `${d.reason} at offset ${d.offset}` });
          return;
        }
        const fr = d.value;
        out.decoded.push({ frame: chunk.frame, dir, fragment: fr });
        out.fragments.push({
          frame: chunk.frame,
          dir,
          segments: segmentFrames,
          length: r.apdu.length,
          fir: b(fr.control.fir),
          fin: b(fr.control.fin),
          con: b(fr.control.con),
          uns: b(fr.control.uns),
          seq: fr.control.seq,
          func: fr.function,
          iin: fr.iin === undefined ? null : (fr.iin.iin1 << 8) | fr.iin.iin2,
          iinNames: fr.iin === undefined ? null : [...fr.iin.set].sort(),
          objects: fr.objects.map(ourObject),
        });
      },
      (e) => out.failures.push({ frame: chunk.frame, layer: e.layer, reason: `${e.reason} at stream offset ${e.offset}` }),
    );
  }
  return { ...out, leftover: { link: framer.buffered, transport: reassembler.buffered } };
}

// ---------------------------------------------------------------------------------------------
// tshark's reading
// ---------------------------------------------------------------------------------------------

/**
 * tshark's JSON repeats keys (a fragment's `dnp3.al.obj`, an object's points): JSON.parse would
 * keep only the last, and `--no-duplicate-keys` groups repeats out of order. So the output is
 * read with a small parser that keeps every member, in order.
 */
type JsonValue = string | number | boolean | null | JsonTree | readonly JsonValue[];
interface JsonTree {
  readonly entries: readonly (readonly [string, JsonValue])[];
}

function isTree(v: JsonValue | undefined): v is JsonTree {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseOrderedJson(text: string): JsonValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`tshark JSON: ${what} at offset ${i}`);
  };
  const space = (): void => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = text.charCodeAt(++i));
  };
  const literal = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
  const string = (): string => {
    if (text[i] !== '"') fail('string expected');
    let j = i + 1;
    while (text[j] !== '"') {
      if (j >= text.length) fail('unterminated string');
      j += text[j] === '\\' ? 2 : 1;
    }
    const s = JSON.parse(text.slice(i, j + 1)) as string;
    i = j + 1;
    return s;
  };
  const value = (): JsonValue => {
    space();
    const c = text[i];
    if (c === '"') return string();
    if (c === '{' || c === '[') {
      const object = c === '{';
      const close = object ? '}' : ']';
      const entries: [string, JsonValue][] = [];
      const items: JsonValue[] = [];
      i++;
      space();
      if (text[i] === close) {
        i++;
        return object ? { entries } : items;
      }
      for (;;) {
        space();
        if (object) {
          const k = string();
          space();
          if (text[i] !== ':') fail('":" expected');
          i++;
          entries.push([k, value()]);
        } else {
          items.push(value());
        }
        space();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] !== close) fail(`"${close}" expected`);
        i++;
        return object ? { entries } : items;
      }
    }
    literal.lastIndex = i;
    const m = literal.exec(text);
    if (m === null) return fail('value expected');
    i += m[0].length;
    return JSON.parse(m[0]) as number | boolean | null;
  };
  const v = value();
  space();
  if (i !== text.length) fail('trailing text');
  return v;
}

function all(t: JsonTree, key: string): JsonValue[] {
  return t.entries.filter(([k]) => k === key).map(([, v]) => v);
}

/** The one member `key`; throws when it is missing or repeated. */
function one(t: JsonTree, key: string): JsonValue {
  const vs = all(t, key);
  if (vs.length !== 1) throw new Error(`tshark: ${vs.length} members ${key}, expected one`);
  return vs[0]!;
}

function str(t: JsonTree, key: string): string {
  const v = one(t, key);
  if (typeof v !== 'string') throw new Error(`tshark: ${key} is not a string: ${JSON.stringify(v)}`);
  return v;
}

function sub(t: JsonTree, key: string): JsonTree {
  const v = one(t, key);
  if (!isTree(v)) throw new Error(`tshark: ${key} is not a subtree`);
  return v;
}

/** The one subtree whose (label) key starts with `prefix`, or undefined. */
function labelled(t: JsonTree, prefix: string): JsonTree | undefined {
  const hits = t.entries.filter(([k]) => k.startsWith(prefix));
  if (hits.length > 1) throw new Error(`tshark: ${hits.length} subtrees "${prefix}…"`);
  const v = hits[0]?.[1];
  if (v !== undefined && !isTree(v)) throw new Error(`tshark: "${prefix}…" is not a subtree`);
  return v;
}

/** tshark prints integers in decimal or 0x-hex and booleans as 0/1. */
function tnum(s: string): number {
  const n = /^0x[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : Number(s);
  if (Number.isNaN(n)) throw new Error(`tshark: ${s} is not a number`);
  return n;
}

function num(t: JsonTree, key: string): number {
  return tnum(str(t, key));
}

/** Every string leaf under a subtree, with its key, in order (labels of subtrees are dropped). */
function leaves(t: JsonTree, out: [string, string][] = []): [string, string][] {
  for (const [k, v] of t.entries) {
    if (isTree(v)) leaves(v, out);
    else if (typeof v === 'string') out.push([k, v]);
    else throw new Error(`tshark: unexpected member ${k}: ${JSON.stringify(v)}`);
  }
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Nov 21, 2026 09:54:39.872000000 UTC` (tshark runs with TZ=UTC) in ms since the epoch. */
function tshark48(s: string): number {
  const m = /^([A-Z][a-z]{2}) +(\d{1,2}), (\d{4}) (\d\d):(\d\d):(\d\d)\.(\d{9}) UTC$/.exec(s);
  if (m === null) throw new Error(`tshark: timestamp ${s} not understood`);
  const [, mon, day, year, hh, mm, ss, ns] = m as unknown as [string, string, string, string, string, string, string, string];
  const month = MONTHS.indexOf(mon);
  if (month < 0) throw new Error(`tshark: month ${mon}`);
  if (!ns.endsWith('000000')) throw new Error(`tshark: timestamp ${s} is not whole milliseconds`);
  return Date.UTC(Number(year), month, Number(day), Number(hh), Number(mm), Number(ss)) + Number(ns.slice(0, 3));
}

/** Fields tshark puts in a point's subtree that hold its value, and the float precision they print. */
const VALUE_FIELDS: Readonly<Record<string, 6 | 15 | undefined>> = {
  'dnp3.al.ana.int': undefined,
  'dnp3.al.ana.float': 6,
  'dnp3.al.ana.double': 15,
  'dnp3.al.anaout.int': undefined,
  'dnp3.al.anaout.float': 6,
  'dnp3.al.anaout.double': 15,
  'dnp3.al.cnt': undefined,
  'dnp3.al.bit': undefined,
  'dnp3.al.2bit': undefined,
};

const SIMPLE_FIELDS: Readonly<Record<string, string>> = {
  'dnp3.al.count': 'count',
  'dnp3.al.on_time': 'onTimeMs',
  'dnp3.al.off_time': 'offTimeMs',
  'dnp3.al.ctrlstatus': 'status',
};

/**
 * One point from its subtree. Flags come from the bit fields of whichever family tshark chose
 * (biq, boq, ctrq, aiq, aoq); the value from a value field, or from the label (`Value: 1`) for
 * binary and double-bit points, whose state tshark shows only there.
 */
function tsharkPoint(label: string, t: JsonTree): NormPoint {
  const v: Record<string, number> = {};
  const set = (k: string, n: number): void => {
    if (k in v && v[k] !== n) throw new Error(`tshark: point "${label}": ${k} is both ${v[k]} and ${n}`);
    v[k] = n;
  };
  let flags: number | undefined;
  let control: number | undefined;
  for (const [k, s] of leaves(t)) {
    const flag = /^dnp3\.al\.(?:biq|boq|ctrq|aiq|aoq)\.b([0-7])$/.exec(k);
    if (flag !== null) {
      flags = (flags ?? 0) | (tnum(s) << Number(flag[1]));
    } else if (k === 'dnp3.al.index' || k === 'dnp3.al.point_index') {
      set('index', tnum(s));
    } else if (k in VALUE_FIELDS) {
      set('value', precise(tnum(s), VALUE_FIELDS[k]));
    } else if (k === 'dnp3.al.timestamp') {
      set('timeMs', tshark48(s));
    } else if (k === 'dnp3.ctl.op') {
      control = (control ?? 0) | tnum(s);
    } else if (k === 'dnp3.ctl.clr') {
      control = (control ?? 0) | (tnum(s) << 4);
    } else if (k === 'dnp3.ctl.trip') {
      control = (control ?? 0) | (tnum(s) << 6);
    } else if (SIMPLE_FIELDS[k] !== undefined) {
      set(SIMPLE_FIELDS[k], tnum(s));
    } else {
      // A capture with other objects needs their tshark fields added here first.
      throw new Error(`tshark: point "${label}": no mapping for field ${k}`);
    }
  }
  if (flags !== undefined) set('flags', flags);
  if (control !== undefined) set('controlCode', control);
  if (!('value' in v)) {
    const shown = /, Value: (-?\d+)(?=[ ,]|$)/.exec(label);
    if (shown !== null) set('value', Number(shown[1]));
  }
  if (!('index' in v)) throw new Error(`tshark: point "${label}" without an index`);
  // The label names the same index.
  const n = /^Point Number (\d+)/.exec(label);
  if (n === null || Number(n[1]) !== v['index']) throw new Error(`tshark: point "${label}" is not index ${v['index']}`);
  return v;
}

function tsharkObject(obj: string, t: JsonTree): NormObject {
  const id = tnum(obj);
  let prefix: number | undefined;
  let rangeCode: number | undefined;
  let start: number | undefined;
  let stop: number | undefined;
  let quantity: number | undefined;
  const points: NormPoint[] = [];
  for (const [k, v] of t.entries) {
    if (k.startsWith('Point Number ')) {
      if (!isTree(v)) throw new Error(`tshark: ${k} is not a subtree`);
      points.push(tsharkPoint(k, v));
      continue;
    }
    const fields = isTree(v) ? leaves(v) : [];
    for (const [f, s] of fields) {
      if (f === 'dnp3.al.objq.prefix') prefix = tnum(s);
      else if (f === 'dnp3.al.objq.range') rangeCode = tnum(s);
      else if (f === 'dnp3.al.range.start') start = tnum(s);
      else if (f === 'dnp3.al.range.stop') stop = tnum(s);
      else if (f === 'dnp3.al.range.quantity') quantity = tnum(s);
      else throw new Error(`tshark: object ${obj}: no mapping for field ${f}`);
    }
  }
  if (prefix === undefined || rangeCode === undefined) throw new Error(`tshark: object ${obj} without a qualifier`);
  let range: string;
  if (rangeCode === 6) range = 'all';
  else if (start !== undefined && stop !== undefined) range = `${start}-${stop}`;
  else if (quantity !== undefined) range = `count ${quantity}`;
  else throw new Error(`tshark: object ${obj}: range code ${rangeCode} without a range`);
  return { group: id >> 8, variation: id & 0xff, qualifier: (prefix << 4) | rangeCode, range, points };
}

/** tshark's IIN bit fields by our names (IEEE 1815-2012 4.2.2.6). */
const IIN_FIELDS: Readonly<Record<string, IinName>> = {
  'dnp3.al.iin.bmsg': 'BROADCAST',
  'dnp3.al.iin.cls1d': 'CLASS_1_EVENTS',
  'dnp3.al.iin.cls2d': 'CLASS_2_EVENTS',
  'dnp3.al.iin.cls3d': 'CLASS_3_EVENTS',
  'dnp3.al.iin.tsr': 'NEED_TIME',
  'dnp3.al.iin.dol': 'LOCAL_CONTROL',
  'dnp3.al.iin.dt': 'DEVICE_TROUBLE',
  'dnp3.al.iin.rst': 'DEVICE_RESTART',
  'dnp3.al.iin.fcni': 'NO_FUNC_CODE_SUPPORT',
  'dnp3.al.iin.obju': 'OBJECT_UNKNOWN',
  'dnp3.al.iin.pioor': 'PARAMETER_ERROR',
  'dnp3.al.iin.ebo': 'EVENT_BUFFER_OVERFLOW',
  'dnp3.al.iin.oae': 'ALREADY_EXECUTING',
  'dnp3.al.iin.cc': 'CONFIG_CORRUPT',
};

function tsharkFragment(frame: number, dir: 'up' | 'down', dnp3: JsonTree, al: JsonTree): NormFragment {
  const ctl = sub(al, 'dnp3.al.ctl_tree');
  const frags = sub(dnp3, 'dnp3.al.fragments');
  const segments = all(frags, 'dnp3.al.fragment').map((s) => tnum(String(s)));
  let iin: number | null = null;
  let iinNames: string[] | null = null;
  if (all(al, 'dnp3.al.iin').length > 0) {
    iin = num(al, 'dnp3.al.iin');
    iinNames = [];
    for (const [k, s] of leaves(sub(al, 'dnp3.al.iin_tree'))) {
      const name = IIN_FIELDS[k];
      if (name !== undefined) {
        if (tnum(s) === 1) iinNames.push(name);
      } else if (!k.startsWith('_ws.expert') && k !== 'dnp3.iin_abnormal') {
        throw new Error(`tshark: frame ${frame}: IIN field ${k}`);
      }
    }
    iinNames.sort();
  }
  const objects: NormObject[] = [];
  const data = al.entries.filter(([k]) => k.endsWith('Data Objects'));
  if (data.length > 1) throw new Error(`tshark: frame ${frame}: ${data.length} data object lists`);
  const list = data[0]?.[1];
  if (list !== undefined) {
    if (!isTree(list)) throw new Error(`tshark: frame ${frame}: data objects are not a subtree`);
    let pending: string | undefined;
    for (const [k, v] of list.entries) {
      if (k === 'dnp3.al.obj' && typeof v === 'string') {
        if (pending !== undefined) throw new Error(`tshark: frame ${frame}: object ${pending} without a subtree`);
        pending = v;
      } else if (k === 'dnp3.al.obj_tree' && isTree(v) && pending !== undefined) {
        objects.push(tsharkObject(pending, v));
        pending = undefined;
      } else {
        throw new Error(`tshark: frame ${frame}: unexpected ${k} in the data objects`);
      }
    }
    if (pending !== undefined) throw new Error(`tshark: frame ${frame}: object ${pending} without a subtree`);
  }
  return {
    frame,
    dir,
    segments,
    length: num(frags, 'dnp3.al.fragment.reassembled.length'),
    fir: num(ctl, 'dnp3.al.fir'),
    fin: num(ctl, 'dnp3.al.fin'),
    con: num(ctl, 'dnp3.al.con'),
    uns: num(ctl, 'dnp3.al.uns'),
    seq: num(ctl, 'dnp3.al.seq'),
    func: num(al, 'dnp3.al.func'),
    iin,
    iinNames,
    objects,
  };
}

function tsharkLink(frame: number, dir: 'up' | 'down', dnp3: JsonTree): NormLink {
  const dl = labelled(dnp3, 'Data Link Layer');
  if (dl === undefined) throw new Error(`tshark: frame ${frame}: no data link layer`);
  const ctl = sub(dl, 'dnp3.ctl_tree');
  const prm = num(ctl, 'dnp3.ctl.prm');
  const chunks = labelled(dnp3, 'Data Chunks');
  const statuses = [str(dl, 'dnp.hdr.CRC.status')];
  let data = '';
  let blocks = 0;
  for (const [k, v] of chunks?.entries ?? []) {
    if (!k.startsWith('Data Chunk: ') || !isTree(v)) throw new Error(`tshark: frame ${frame}: unexpected ${k} in the data chunks`);
    data += str(v, 'dnp.data_chunk').replaceAll(':', '');
    statuses.push(str(v, 'dnp.data_chunk.CRC.status'));
    blocks++;
  }
  const tr = all(dnp3, 'dnp3.tr.ctl_tree');
  const trTree = tr[0];
  return {
    frame,
    dir,
    len: num(dl, 'dnp3.len'),
    ctlDir: num(ctl, 'dnp3.ctl.dir'),
    prm,
    fcb: num(ctl, 'dnp3.ctl.fcb'),
    fcv: num(ctl, prm === 1 ? 'dnp3.ctl.fcv' : 'dnp3.ctl.dfc'),
    func: num(ctl, prm === 1 ? 'dnp3.ctl.prifunc' : 'dnp3.ctl.secfunc'),
    destination: num(dl, 'dnp3.dst'),
    source: num(dl, 'dnp3.src'),
    // Wireshark's checksum status: 1 is "Good" (0 bad, 2 unverified).
    crc: statuses.every((s) => s === '1') ? 'good' : 'bad',
    blocks,
    data,
    transport: isTree(trTree)
      ? { fir: num(trTree, 'dnp3.tr.fir'), fin: num(trTree, 'dnp3.tr.fin'), seq: num(trTree, 'dnp3.tr.seq') }
      : null,
  };
}

interface TsharkReading {
  readonly packets: number;
  readonly links: NormLink[];
  readonly fragments: NormFragment[];
  /** Objects of the fragment completed in each frame, for the Kura cross-check. */
  readonly objectsByFrame: Map<number, NormObject[]>;
  /** Expert infos: frame and field, e.g. `dnp3.iin_abnormal`. */
  readonly experts: { readonly frame: number; readonly field: string; readonly severity: number }[];
  readonly malformed: number[];
}

function walk(v: JsonValue, visit: (k: string, v: JsonValue) => void): void {
  if (isTree(v)) {
    for (const [k, x] of v.entries) {
      visit(k, x);
      walk(x, visit);
    }
  } else if (Array.isArray(v)) {
    for (const x of v as readonly JsonValue[]) walk(x, visit);
  }
}

function runTshark(file: string): TsharkReading {
  let out: string;
  try {
    out = execFileSync(
      'tshark',
      ['-r', file, '-d', `tcp.port==${PORT},dnp3`, '-o', 'tcp.desegment_tcp_streams:TRUE', '-o', 'dnp3.desegment:TRUE', '-T', 'json'],
      { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } },
    );
  } catch (err) {
    throw new Error(`tshark could not read ${file} (install the Debian package tshark): ${String(err)}`, { cause: err });
  }
  const packets = parseOrderedJson(out);
  if (!Array.isArray(packets)) throw new Error('tshark: JSON output is not an array of packets');
  const reading: TsharkReading = {
    packets: packets.length,
    links: [],
    fragments: [],
    objectsByFrame: new Map(),
    experts: [],
    malformed: [],
  };
  for (const p of packets as readonly JsonValue[]) {
    if (!isTree(p)) throw new Error('tshark: unexpected packet shape');
    const layers = sub(sub(p, '_source'), 'layers');
    const frame = num(sub(layers, 'frame'), 'frame.number');
    walk(layers, (k, v) => {
      if (k.startsWith('_ws.malformed')) reading.malformed.push(frame);
      if (k === '_ws.expert' && isTree(v)) {
        const field = v.entries.find(([f]) => !f.startsWith('_ws.expert'))?.[0] ?? '?';
        reading.experts.push({ frame, field, severity: num(v, '_ws.expert.severity') });
      }
    });
    const tcp = all(layers, 'tcp')[0];
    if (!isTree(tcp)) continue;
    const dir = num(tcp, 'tcp.dstport') === PORT ? 'up' : 'down';
    for (const d of all(layers, 'dnp3')) {
      if (!isTree(d)) throw new Error(`tshark: frame ${frame}: dnp3 is not a subtree`);
      reading.links.push(tsharkLink(frame, dir, d));
      const al = labelled(d, 'Application Layer');
      if (al !== undefined) {
        const f = tsharkFragment(frame, dir, d, al);
        reading.fragments.push(f);
        reading.objectsByFrame.set(frame, [...f.objects]);
      }
    }
  }
  return reading;
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

/** Wireshark's PI_ERROR expert severity; PI_WARN is 0x00600000. */
const EXPERT_ERROR = 0x00800000;

const FC = { CONFIRM: 0, READ: 1, WRITE: 2, SELECT: 3, OPERATE: 4, DIRECT_OPERATE: 5, ENABLE_UNSOLICITED: 20, DISABLE_UNSOLICITED: 21 };

describe('opendnp3 capture (dnp3-opendnp3.pcap)', () => {
  let pcap: Capture;
  let conversations: TcpStreamContent[];
  let conv: TcpStreamContent | undefined;
  let up: OurReading;
  let down: OurReading;
  let links: NormLink[];
  let fragments: NormFragment[];
  let decoded: Decoded[];
  let theirs: TsharkReading;

  beforeAll(() => {
    pcap = readCapture(new Uint8Array(readFileSync(FIXTURE)));
    const { streams, malformed } = tcpStreams(pcap.packets);
    expect(malformed).toEqual([]);
    conversations = streams.filter((s) => s.conversation.server.endsWith(`:${PORT}`));
    conv = conversations[0];
    up = readDirection(conv?.toServer ?? [], 'up');
    down = readDirection(conv?.toClient ?? [], 'down');
    // Stable sorts: link frames that share a TCP segment keep their order.
    links = [...up.links, ...down.links].sort((x, y) => x.frame - y.frame);
    fragments = [...up.fragments, ...down.fragments].sort((x, y) => x.frame - y.frame);
    decoded = [...up.decoded, ...down.decoded].sort((x, y) => x.frame - y.frame);
    theirs = runTshark(FIXTURE);
  });

  /** Our decoded fragment completed in `frame`. */
  const at = (frame: number): Fragment => {
    const d = decoded.find((x) => x.frame === frame);
    if (d === undefined) throw new Error(`no fragment completed in frame ${frame}`);
    return d.fragment;
  };

  it('is one complete TCP connection on port 20000 over Ethernet', () => {
    expect(pcap.interfaces.map((i) => i.linkType)).toEqual([1]);
    expect(conversations.length).toBe(1);
    expect(conv?.conversation.server).toBe(`127.0.0.1:${PORT}`);
    expect(conv?.missing).toBe(0);
  });

  it('decodes every octet: no link, transport or application failure, nothing left over, nothing malformed for tshark', () => {
    expect(up.failures).toEqual([]);
    expect(down.failures).toEqual([]);
    expect(up.leftover).toEqual({ link: 0, transport: 0 });
    expect(down.leftover).toEqual({ link: 0, transport: 0 });
    // Every link frame went into a fragment (no frame without user data in this capture).
    const segments = fragments.reduce((n, f) => n + f.segments.length, 0);
    expect(segments).toBe(links.length);
    expect(theirs.malformed).toEqual([]);
    // tshark's only DNP3 expert notes are its "IIN abnormality" warnings for the two responses
    // with IIN2.2 PARAMETER_ERROR (the commands on index 10), which we read too.
    // (Its other notes are TCP's chat-level connection notes: SYN, SYN-ACK, FIN.)
    expect(theirs.experts.filter((e) => e.severity >= EXPERT_ERROR)).toEqual([]);
    expect(theirs.experts.filter((e) => e.field.startsWith('dnp')).map((e) => [e.frame, e.field])).toEqual([
      [64, 'dnp3.iin_abnormal'],
      [78, 'dnp3.iin_abnormal'],
    ]);
    expect(fragments.filter((f) => f.iinNames?.includes('PARAMETER_ERROR')).map((f) => f.frame)).toEqual([64, 78]);
  });

  it('agrees with tshark link frame by link frame: control bits, addresses, CRCs, transport header, user data', () => {
    expect(theirs.packets).toBe(pcap.packets.length);
    expect(theirs.links.length).toBe(70);
    expect(links.length).toBe(theirs.links.length);
    for (let i = 0; i < theirs.links.length; i++) {
      expect(links[i], `link frame ${i} (frame ${theirs.links[i]?.frame})`).toEqual(theirs.links[i]);
    }
  });

  it('agrees with tshark fragment by fragment: control, function, IIN, object headers, points and values', () => {
    expect(theirs.fragments.length).toBe(68);
    expect(fragments.length).toBe(theirs.fragments.length);
    for (let i = 0; i < theirs.fragments.length; i++) {
      expect(fragments[i], `fragment ${i} (frame ${theirs.fragments[i]?.frame})`).toEqual(theirs.fragments[i]);
    }
  });

  it('addresses every frame from master 1 to outstation 10 and back, as unconfirmed user data', () => {
    for (const l of links) {
      const fromMaster = l.dir === 'up';
      expect([l.source, l.destination, l.ctlDir, l.prm, l.func], `frame ${l.frame}`).toEqual([
        fromMaster ? MASTER : OUTSTATION,
        fromMaster ? OUTSTATION : MASTER,
        b(fromMaster),
        1,
        4,
      ]);
    }
    // Transport sequence numbers count up by one per segment in each direction.
    for (const dir of ['up', 'down'] as const) {
      const seqs = links.filter((l) => l.dir === dir).map((l) => l.transport?.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i % 64));
    }
  });

  it('starts up with the null unsolicited response carrying the restart IIN, confirmed, then clears IIN1.7', () => {
    const first = fragments.filter((f) => f.dir === 'down')[0];
    expect(first).toMatchObject({ frame: 5, func: 130, fir: 1, fin: 1, con: 1, uns: 1, seq: 0, objects: [] });
    expect(first?.iinNames).toContain('DEVICE_RESTART');
    // The master disabled unsolicited reporting for classes 1-3 first, and confirms with UNS set
    // and the same sequence number.
    const master = fragments.filter((f) => f.dir === 'up');
    expect(master[0]).toMatchObject({ frame: 4, func: FC.DISABLE_UNSOLICITED });
    expect(master[0]?.objects.map((o) => [o.group, o.variation, o.range])).toEqual([
      [60, 2, 'all'],
      [60, 3, 'all'],
      [60, 4, 'all'],
    ]);
    expect(master[1]).toMatchObject({ frame: 8, func: FC.CONFIRM, uns: 1, seq: 0, objects: [] });
    // Restart still set in the response to the disable; the master writes g80v1 index 7 = 0 ...
    expect(at(10).iin?.set).toContain('DEVICE_RESTART');
    const write = at(11);
    expect(write.functionName).toBe('WRITE');
    expect(write.objects[0]).toMatchObject({ group: 80, variation: 1, qualifier: 0x00, range: { kind: 'startStop', start: 7, stop: 7 } });
    expect(write.objects[0]?.points).toEqual([{ index: 7, value: false }]);
    // ... and the outstation's answer no longer has it.
    expect(at(12).iin?.set).not.toContain('DEVICE_RESTART');
    expect(at(12).iin?.set).toEqual(['CLASS_1_EVENTS', 'CLASS_2_EVENTS', 'CLASS_3_EVENTS']);
  });

  it('answers the integrity poll with one fragment in three link frames, confirmed', () => {
    const poll = at(14);
    expect(poll.functionName).toBe('READ');
    expect(poll.objects.map((o) => `g${o.group}v${o.variation} ${o.range.kind}`)).toEqual([
      'g60v2 all',
      'g60v3 all',
      'g60v4 all',
      'g60v1 all',
    ]);
    const response = fragments.find((f) => f.frame === 19);
    expect(response).toMatchObject({ dir: 'down', segments: [15, 17, 19], length: 585, func: 129, con: 1, seq: poll.control.seq });
    // The transport segments: FIR, middle, FIN, consecutive sequence numbers, full link frames.
    const parts = links.filter((l) => [15, 17, 19].includes(l.frame));
    expect(parts.map((l) => [l.len, l.transport?.fir, l.transport?.fin, l.transport?.seq])).toEqual([
      [255, 1, 0, 3],
      [255, 0, 0, 4],
      [93, 0, 1, 5],
    ]);
    const confirm = fragments.find((f) => f.frame === 21);
    expect(confirm).toMatchObject({ dir: 'up', func: FC.CONFIRM, uns: 0, seq: poll.control.seq });
    // opendnp3 reports the class 1-3 events first, then the class 0 (static) data.
    expect(at(19).objects.map((o) => `g${o.group}v${o.variation}`)).toEqual([
      ...Array.from({ length: 4 }, () => ['g2v2', 'g4v2', 'g32v7', 'g22v5']).flat(),
      'g1v2',
      'g3v2',
      'g30v5',
      'g20v1',
      'g21v5',
      'g10v2',
      'g40v3',
    ]);
  });

  it('polls class 1 and gets the binary and double-bit events, confirmed', () => {
    expect(at(23).objects.map((o) => [o.group, o.variation, o.range.kind])).toEqual([[60, 2, 'all']]);
    const r = at(25);
    expect(r.control.con).toBe(true);
    expect(r.objects.map((o) => [o.group, o.variation, o.points[0]?.index, o.points[0]?.valueName ?? o.points[0]?.value])).toEqual([
      [2, 2, 4, true],
      [4, 2, 4, 'DETERMINED_ON'],
      [2, 2, 5, false],
      [4, 2, 5, 'DETERMINED_OFF'],
      [2, 2, 6, true],
      [4, 2, 6, 'DETERMINED_ON'],
    ]);
    expect(r.objects[0]?.points[0]?.timeMs).toBe(Date.UTC(2026, 10, 21, 9, 54, 41, 873));
    expect(at(26).functionName).toBe('CONFIRM');
    expect(at(26).control.seq).toBe(r.control.seq);
  });

  it('reads ranges: the outstation answers 16-bit start-stop requests with 8-bit start-stop objects', () => {
    const reads = decoded.filter((d) => d.dir === 'up' && d.fragment.functionName === 'READ' && d.frame >= 28);
    const summary = reads.map((d) => {
      const o = d.fragment.objects[0]!;
      const answer = decoded.find((x) => x.dir === 'down' && x.frame > d.frame)!.fragment.objects[0]!;
      const r = (h: ObjectHeader): string => (h.range.kind === 'startStop' ? `${h.range.start}-${h.range.stop}` : h.range.kind);
      return [
        `g${o.group}v${o.variation} q${o.qualifier} ${r(o)}`,
        `g${answer.group}v${answer.variation} q${answer.qualifier} ${r(answer)}`,
      ];
    });
    expect(summary).toEqual([
      ['g1v2 q1 2-5', 'g1v2 q0 2-5'],
      ['g3v2 q1 0-1', 'g3v2 q0 0-1'],
      ['g30v1 q1 1-3', 'g30v1 q0 1-3'],
      ['g30v5 q1 0-9', 'g30v5 q0 0-9'],
      ['g30v0 q6 all', 'g30v5 q0 0-9'],
      ['g20v1 q1 0-4', 'g20v1 q0 0-4'],
      ['g21v0 q1 0-9', 'g21v5 q0 0-9'],
      ['g10v2 q1 0-9', 'g10v2 q0 0-9'],
      ['g40v0 q1 0-9', 'g40v3 q0 0-9'],
      ['g1v0 q6 all', 'g1v2 q0 0-9'],
    ]);
    expect(at(34).objects[0]?.points.map((p) => p.value)).toEqual([11, 21, 31]);
    expect(at(40).objects[0]?.points.map((p) => p.value)).toEqual([1, 101, 201, 301, 401]);
    expect(at(32).objects[0]?.points.map((p) => p.valueName)).toEqual(['DETERMINED_ON', 'DETERMINED_OFF']);
  });

  it('selects and operates CROBs, echoed with their status; one is NOT_SUPPORTED', () => {
    const crobs = decoded
      .filter((d) => d.fragment.objects[0]?.group === 12)
      .map((d) => {
        const p = d.fragment.objects[0]!.points[0]!;
        return [d.frame, d.fragment.functionName, p.index, p.controlCodeName, p.onTimeMs, p.statusName];
      });
    expect(crobs).toEqual([
      [49, 'SELECT', 0, 'LATCH_ON', 100, 'SUCCESS'],
      [50, 'RESPONSE', 0, 'LATCH_ON', 100, 'SUCCESS'],
      [51, 'OPERATE', 0, 'LATCH_ON', 100, 'SUCCESS'],
      [52, 'RESPONSE', 0, 'LATCH_ON', 100, 'SUCCESS'],
      [53, 'DIRECT_OPERATE', 1, 'LATCH_ON', 100, 'SUCCESS'],
      [54, 'RESPONSE', 1, 'LATCH_ON', 100, 'SUCCESS'],
      [55, 'DIRECT_OPERATE', 1, 'LATCH_OFF', 100, 'SUCCESS'],
      [56, 'RESPONSE', 1, 'LATCH_OFF', 100, 'SUCCESS'],
      [57, 'SELECT', 2, 'PULSE_ON', 250, 'SUCCESS'],
      [58, 'RESPONSE', 2, 'PULSE_ON', 250, 'SUCCESS'],
      [59, 'OPERATE', 2, 'PULSE_ON', 250, 'SUCCESS'],
      [60, 'RESPONSE', 2, 'PULSE_ON', 250, 'SUCCESS'],
      [61, 'DIRECT_OPERATE', 3, 'CLOSE_PULSE_ON', 100, 'SUCCESS'],
      [62, 'RESPONSE', 3, 'CLOSE_PULSE_ON', 100, 'SUCCESS'],
      [63, 'SELECT', 10, 'LATCH_ON', 100, 'SUCCESS'],
      [64, 'RESPONSE', 10, 'LATCH_ON', 100, 'NOT_SUPPORTED'],
    ]);
    expect(at(64).iin?.set).toContain('PARAMETER_ERROR');
    expect(at(61).objects[0]?.points[0]).toMatchObject({ controlCode: 0x41, opType: 'PULSE_ON', tcc: 'CLOSE', count: 1, offTimeMs: 100 });
  });

  it('commands analog outputs of each variation and reads their echo', () => {
    const aos = decoded
      .filter((d) => d.fragment.objects[0]?.group === 41)
      .map((d) => {
        const o = d.fragment.objects[0]!;
        const p = o.points[0]!;
        return [d.frame, d.fragment.functionName, o.variation, p.index, p.value, p.statusName];
      });
    expect(aos).toEqual([
      [65, 'SELECT', 2, 0, 123, 'SUCCESS'],
      [66, 'RESPONSE', 2, 0, 123, 'SUCCESS'],
      [67, 'OPERATE', 2, 0, 123, 'SUCCESS'],
      [68, 'RESPONSE', 2, 0, 123, 'SUCCESS'],
      [69, 'DIRECT_OPERATE', 1, 1, -456789, 'SUCCESS'],
      [70, 'RESPONSE', 1, 1, -456789, 'SUCCESS'],
      [71, 'SELECT', 3, 2, 12.5, 'SUCCESS'],
      [72, 'RESPONSE', 3, 2, 12.5, 'SUCCESS'],
      [73, 'OPERATE', 3, 2, 12.5, 'SUCCESS'],
      [74, 'RESPONSE', 3, 2, 12.5, 'SUCCESS'],
      [75, 'DIRECT_OPERATE', 4, 3, 3.14159265358979, 'SUCCESS'],
      [76, 'RESPONSE', 4, 3, 3.14159265358979, 'SUCCESS'],
      [77, 'DIRECT_OPERATE', 3, 10, 1, 'SUCCESS'],
      [78, 'RESPONSE', 3, 10, 1, 'NOT_SUPPORTED'],
    ]);
  });

  it('enables unsolicited reporting and confirms the unsolicited response that follows', () => {
    expect(at(79).functionName).toBe('ENABLE_UNSOLICITED');
    expect(at(79).objects.map((o) => o.group * 100 + o.variation)).toEqual([6002, 6003, 6004]);
    const u = at(82);
    expect(u.functionName).toBe('UNSOLICITED_RESPONSE');
    expect(u.control).toEqual({ fir: true, fin: true, con: true, uns: true, seq: 1 });
    expect(at(84).functionName).toBe('CONFIRM');
    expect(at(84).control).toMatchObject({ uns: true, seq: 1 });
    // The outputs commanded above come back as binary output and analog output events.
    const bo = u.objects.find((o) => o.group === 11)!;
    expect(bo.points.map((p) => [p.index, p.value])).toEqual([
      [0, true],
      [1, true],
      [1, false],
      [2, true],
      [3, true],
    ]);
    const ao = u.objects.find((o) => o.group === 42)!;
    expect(ao.variation).toBe(7);
    expect(ao.points.map((p) => p.value)).toEqual([123, -456789, 12.5, Math.fround(3.14159265358979)]);
    // LISTEN: each header of an unsolicited response is one Kura object.
    const listen = kuraBlocks(u);
    expect(listen.map((k) => k?.Type)).toEqual([
      'AnalogInput',
      'Counter',
      'FrozenCounter',
      'AnalogInput',
      'Counter',
      'AnalogInput',
      'Counter',
      'BinaryOutputStatus',
      'AnalogOutputStatus',
    ]);
    expect(listen[2]).toEqual({
      Type: 'FrozenCounter',
      Group: 23,
      Variation: 5,
      Event: true,
      TimestampQuality: 'SYNCHRONIZED',
      Values: [{ Index: 4, Quality: 1, Timestamp: Date.UTC(2026, 10, 21, 9, 54, 41, 873), Value: 401 }],
    });
    // Unsolicited reporting is disabled again before the master closes.
    expect(decoded.at(-2)?.fragment.functionName).toBe('DISABLE_UNSOLICITED');
    expect(decoded.at(-1)?.fragment.functionName).toBe('RESPONSE');
  });

  it("gives Kura's JSON for the integrity poll's response, agreeing with tshark's points", () => {
    const kura: KuraBlock[] = kuraResponse([at(19)]);
    expect(kura.map((k) => `${k.Type} g${k.Group}v${k.Variation}${k.Event ? ' event' : ''}`)).toEqual([
      ...Array.from({ length: 4 }, () => [
        'BinaryInput g2v2 event',
        'DoubleBitBinaryInput g4v2 event',
        'AnalogInput g32v7 event',
        'Counter g22v5 event',
      ]).flat(),
      'BinaryInput g1v2',
      'DoubleBitBinaryInput g3v2',
      'AnalogInput g30v5',
      'Counter g20v1',
      'FrozenCounter g21v5',
      'BinaryOutputStatus g10v2',
      'AnalogOutputStatus g40v3',
    ]);
    const t0 = Date.UTC(2026, 10, 21, 9, 54, 39, 872);
    expect(kura[1]).toEqual({
      Type: 'DoubleBitBinaryInput',
      Group: 4,
      Variation: 2,
      Event: true,
      TimestampQuality: 'SYNCHRONIZED',
      Values: [{ Index: 0, Quality: 0x81, Timestamp: t0, Value: 'DETERMINED_ON' }],
    });
    expect(kura[2]?.Values).toEqual([{ Index: 0, Quality: 1, Timestamp: t0, Value: 1.75 }]);
    const byType = (type: string): KuraBlock => kura.find((k) => k.Type === type && !k.Event)!;
    expect(byType('BinaryInput').Values.slice(0, 2)).toEqual([
      { Index: 0, Quality: 0x81, Timestamp: 0, Value: true },
      { Index: 1, Quality: 0x01, Timestamp: 0, Value: false },
    ]);
    expect(byType('BinaryInput').TimestampQuality).toBe('INVALID');
    expect(byType('DoubleBitBinaryInput').Values.map((v) => v.Value)).toEqual([
      'DETERMINED_ON',
      'DETERMINED_OFF',
      'DETERMINED_ON',
      'DETERMINED_OFF',
      'DETERMINED_OFF',
      'DETERMINED_ON',
      'DETERMINED_OFF',
      'DETERMINED_ON',
      'DETERMINED_OFF',
      'DETERMINED_ON',
    ]);
    expect(byType('AnalogInput').Values[4]).toEqual({ Index: 4, Quality: 1, Timestamp: 0, Value: 40.5 });
    expect(byType('Counter').Values[9]).toEqual({ Index: 9, Quality: 1, Timestamp: 0, Value: 900 });
    expect(byType('FrozenCounter').Values[1]).toEqual({ Index: 1, Quality: 1, Timestamp: t0, Value: 100 });
    expect(byType('FrozenCounter').TimestampQuality).toBe('SYNCHRONIZED');
    expect(byType('BinaryOutputStatus').Values.every((v) => v.Value === false && v.Quality === 1)).toBe(true);
    expect(byType('AnalogOutputStatus').Values.map((v) => v.Value)).toEqual([0, 1.5, 3, 4.5, 6, 7.5, 9, 10.5, 12, 13.5]);

    // Every Kura value against tshark's reading of the same point.
    const objects = theirs.objectsByFrame.get(19) ?? [];
    expect(objects.length).toBe(kura.length);
    kura.forEach((k, i) => {
      const o = objects[i]!;
      expect([k.Group, k.Variation], `block ${i}`).toEqual([o.group, o.variation]);
      const expected = o.points.map((p) => {
        const v = p['value']!;
        const value = k.Type === 'DoubleBitBinaryInput' ? DOUBLE_BIT_NAMES[v] : k.Type.includes('Binary') ? v === 1 : v;
        return { Index: p['index'], Quality: p['flags'], Timestamp: p['timeMs'] ?? 0, Value: value };
      });
      const ours = k.Values.map((v) => ({
        ...v,
        Value: typeof v.Value === 'number' ? precise(v.Value, floatDigits(k.Group, k.Variation)) : v.Value,
      }));
      expect(ours, `block ${i} (${k.Type} g${k.Group}v${k.Variation})`).toEqual(expected);
    });
  });
});
