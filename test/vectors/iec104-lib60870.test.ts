/**
 * Judges gridgate's IEC 104 decoders against a capture of lib60870 (an independent C
 * implementation) talking to itself on port 24171, with tshark as the referee: both read the
 * same pcap and must agree frame by frame on the APCI, the data unit identifier, every IOA and
 * every value tshark reports.
 *
 * tshark is a test dependency (Debian package `tshark`); the test fails, rather than skips,
 * when it is missing.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ApduFramer, decodeApdu, decodeAsdu, TYPES, UFunction, type Asdu, type ElementKind } from '../../src/protocols/iec104/index.js';
import { readCapture, type Capture } from '../../src/protocols/capture/reader.js';
import { tcpStreams, type StreamChunk, type TcpStreamContent } from '../../src/protocols/capture/tcp.js';
import type { DecodeFailure } from '../../src/core/errors.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/iec104-lib60870.pcap', import.meta.url));
const PORT = 24171;

/** One APDU as both readers report it; numbers only, so the two sides compare with toEqual. */
interface Norm {
  readonly frame: number;
  /** 'up' from the controlling station (client) to the controlled station (server port). */
  readonly dir: 'up' | 'down';
  readonly format: 'I' | 'S' | 'U';
  readonly ns: number | null;
  readonly nr: number | null;
  /** U-format function bits 3..8 of the first control octet, as a number 1, 2, 4 ... 32. */
  readonly u: number | null;
  readonly asdu: NormAsdu | null;
}

interface NormAsdu {
  readonly typeId: number;
  readonly sq: number;
  readonly count: number;
  readonly cot: number;
  readonly negative: number;
  readonly test: number;
  readonly originator: number;
  readonly ca: number;
  readonly objects: readonly NormObject[];
}

interface NormObject {
  readonly ioa: number;
  /** Element values keyed by tshark field name without the `iec60870_asdu.` prefix. */
  readonly values: Readonly<Record<string, number>>;
}

/** Floats compare at the precision tshark prints (at least six significant digits). */
function float6(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(6)) : v;
}

const b = (v: boolean): number => (v ? 1 : 0);

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Our reading
// ---------------------------------------------------------------------------------------------

/** Element values of a decoded object under tshark's field names (IEC 101 clause 7.2.6 names). */
function ourValues(kinds: readonly ElementKind[], o: Readonly<Record<string, unknown>>): Record<string, number> {
  const v: Record<string, number> = {};
  const quality = (prefix: string, withOv: boolean): void => {
    const q = o['quality'] as { ov: boolean; bl: boolean; sb: boolean; nt: boolean; iv: boolean };
    if (withOv) v[`${prefix}.ov`] = b(q.ov);
    v[`${prefix}.bl`] = b(q.bl);
    v[`${prefix}.sb`] = b(q.sb);
    v[`${prefix}.nt`] = b(q.nt);
    v[`${prefix}.iv`] = b(q.iv);
  };
  const num = (k: string): number => o[k] as number;
  for (const kind of kinds) {
    switch (kind) {
      case 'SIQ':
        v['siq.spi'] = b(o['value'] as boolean);
        quality('siq', false);
        break;
      case 'DIQ':
        v['diq.dpi'] = num('value');
        quality('diq', false);
        break;
      case 'QDS':
        quality('qds', true);
        break;
      case 'VTI':
        v['vti.v'] = num('value');
        v['vti.t'] = b(o['transient'] as boolean);
        break;
      case 'R32':
        v['float'] = float6(num('value'));
        break;
      case 'BSI':
        // tshark shows BS32 as the 32 bits in transmission order, first octet most significant.
        // IEC 60870-5-4 puts bits 1-8 in the first octet, as lib60870 writes it (the capture's
        // values only increase steadily when read that way, see the test below), so tshark's
        // number is the byte swap of the value.
        v['bitstring'] = swap32(num('value'));
        break;
      case 'SVA':
        v['scalval'] = num('value');
        break;
      case 'BCR': {
        const c = o['counter'] as { sequence: number; carry: boolean; adjusted: boolean; iv: boolean };
        v['bcr.count'] = num('value');
        v['bcr.sq'] = c.sequence;
        v['bcr.cy'] = b(c.carry);
        v['bcr.ca'] = b(c.adjusted);
        v['bcr.iv'] = b(c.iv);
        break;
      }
      case 'CP56': {
        const t = o['time'] as {
          ms: number;
          minute: number;
          hour: number;
          day: number;
          dayOfWeek: number;
          month: number;
          year: number;
          iv: boolean;
          su: boolean;
        };
        Object.assign(v, {
          'cp56time.ms': t.ms,
          'cp56time.min': t.minute,
          'cp56time.iv': b(t.iv),
          'cp56time.hour': t.hour,
          'cp56time.su': b(t.su),
          'cp56time.day': t.day,
          'cp56time.dow': t.dayOfWeek,
          'cp56time.month': t.month,
          'cp56time.year': t.year,
        });
        break;
      }
      case 'CP24': {
        const t = o['time'] as { ms: number; minute: number; iv: boolean };
        Object.assign(v, { 'cp24time.ms': t.ms, 'cp24time.min': t.minute, 'cp24time.iv': b(t.iv) });
        break;
      }
      case 'SCO':
        Object.assign(v, { 'sco.on': b(o['value'] as boolean), 'sco.qu': num('qu'), 'sco.se': b(o['select'] as boolean) });
        break;
      case 'DCO':
        Object.assign(v, { 'dco.on': num('value'), 'dco.qu': num('qu'), 'dco.se': b(o['select'] as boolean) });
        break;
      case 'RCO':
        Object.assign(v, { 'rco.up': num('value'), 'rco.qu': num('qu'), 'rco.se': b(o['select'] as boolean) });
        break;
      case 'QOS':
        Object.assign(v, { 'qos.ql': num('ql'), 'qos.se': b(o['select'] as boolean) });
        break;
      case 'QOI':
        v['qoi'] = num('value');
        break;
      case 'QCC':
        Object.assign(v, { rqt: num('value'), frz: num('freeze') });
        break;
      case 'QRP':
        v['qrp'] = num('value');
        break;
      case 'COI':
        Object.assign(v, { coi_r: num('value'), coi_i: b(o['localChange'] as boolean) });
        break;
      case 'QPM':
        Object.assign(v, { 'qpm.kpa': num('kpa'), 'qpm.lpc': b(o['lpc'] as boolean), 'qpm.pop': b(o['pop'] as boolean) });
        break;
      default:
        // A capture with other elements needs their tshark field names added here first.
        throw new Error(`no tshark field mapping for element ${kind}`);
    }
  }
  return v;
}

function normAsdu(a: Asdu): NormAsdu {
  if (a.type === 'RAW') throw new Error('RAW ASDUs have no element values');
  const kinds = TYPES[a.type].elements as readonly ElementKind[];
  const objects = a.objects as readonly Readonly<Record<string, unknown>>[];
  return {
    typeId: a.typeId,
    sq: b(a.sq),
    count: objects.length,
    cot: a.cot,
    negative: b(a.negative),
    test: b(a.test),
    originator: a.originator,
    ca: a.ca,
    objects: objects.map((o) => ({ ioa: o['ioa'] as number, values: ourValues(kinds, o) })),
  };
}

interface OurReading {
  readonly apdus: Norm[];
  readonly failures: { readonly frame: number; readonly failure: DecodeFailure }[];
  readonly leftover: number;
}

function readDirection(chunks: readonly StreamChunk[], dir: 'up' | 'down'): OurReading {
  const framer = new ApduFramer();
  const apdus: Norm[] = [];
  const failures: { frame: number; failure: DecodeFailure }[] = [];
  for (const chunk of chunks) {
    const r = framer.push(chunk.bytes, (frame) => {
      const d = decodeApdu(frame);
      if (!d.ok) {
        failures.push({ frame: chunk.frame, failure: d });
        return;
      }
      const a = d.value;
      if (a.format === 'I') {
        const asdu = decodeAsdu(a.asdu);
        const typed = asdu.ok && asdu.value.type !== 'RAW';
        if (!asdu.ok) failures.push({ frame: chunk.frame, failure: asdu });
        else if (!typed)
          failures.push({
            frame: chunk.frame,
            failure: {
              ok: false,
              layer: 'iec104.asdu',
              kind: 'unknownType',
              offset: 0,
              reason: `type ID ${asdu.value.typeId} has no table row`,
            },
          });
        apdus.push({
          frame: chunk.frame,
          dir,
          format: 'I',
          ns: a.ns,
          nr: a.nr,
          u: null,
          asdu: asdu.ok && typed ? normAsdu(asdu.value) : null,
        });
      } else if (a.format === 'S') {
        apdus.push({ frame: chunk.frame, dir, format: 'S', ns: null, nr: a.nr, u: null, asdu: null });
      } else {
        apdus.push({ frame: chunk.frame, dir, format: 'U', ns: null, nr: null, u: UFunction[a.fn] >> 2, asdu: null });
      }
    });
    if (!r.ok) failures.push({ frame: chunk.frame, failure: r });
  }
  return { apdus, failures, leftover: framer.buffered };
}

// ---------------------------------------------------------------------------------------------
// tshark's reading
// ---------------------------------------------------------------------------------------------

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

function isObject(j: Json | undefined): j is JsonObject {
  return typeof j === 'object' && j !== null && !Array.isArray(j);
}

/** With `--no-duplicate-keys` a repeated layer or field becomes an array; this undoes that. */
function all(j: Json | undefined): Json[] {
  if (j === undefined) return [];
  return Array.isArray(j) ? j : [j];
}

function str(o: JsonObject, key: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new Error(`tshark: field ${key} missing or not a single value: ${JSON.stringify(v)}`);
  return v;
}

/** tshark prints integers in decimal or 0x-hex, booleans as 0/1, floats in decimal. */
function tnum(s: string): number {
  return /^0x[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : Number(s);
}

/** Fields tshark adds to an object that have no element value of their own. */
const TSHARK_IGNORED = new Set([
  'ioa', // compared separately
  // whole octets whose bits are compared one by one
  'siq',
  'diq',
  'qds',
  'vti',
  'sco',
  'dco',
  'rco',
  'qos',
  'qpm',
  'coi',
  'qcc',
  // display forms of the time tags whose fields are compared one by one
  'cp56time',
  'cp24time',
  // bit 7 of the CP56Time2a minutes octet: reserved (RES1) in IEC 60870-5-101, not decoded
  'cp56time.gen',
]);

/** Every leaf field under an IOA subtree, prefix stripped, trees flattened. */
function leaves(o: JsonObject, out: Record<string, string>): void {
  for (const [k, v] of Object.entries(o)) {
    if (isObject(v)) {
      leaves(v, out);
    } else if (typeof v === 'string' && k.startsWith('iec60870_asdu.')) {
      const name = k.slice('iec60870_asdu.'.length);
      if (name in out) throw new Error(`tshark: field ${k} repeated in one object`);
      out[name] = v;
    } else {
      throw new Error(`tshark: unexpected field ${k}: ${JSON.stringify(v)}`);
    }
  }
}

function tsharkObject(o: JsonObject): NormObject {
  const fields: Record<string, string> = {};
  leaves(o, fields);
  const values: Record<string, number> = {};
  for (const [k, s] of Object.entries(fields)) {
    if (TSHARK_IGNORED.has(k)) continue;
    values[k] = k === 'float' ? float6(Number(s)) : tnum(s);
  }
  return { ioa: tnum(str(o, 'iec60870_asdu.ioa')), values };
}

function tsharkAsdu(a: JsonObject): NormAsdu {
  const objects: NormObject[] = [];
  for (const [k, v] of Object.entries(a)) {
    if (!k.startsWith('IOA')) continue;
    for (const o of all(v)) {
      if (!isObject(o)) throw new Error(`tshark: ${k} is not an object`);
      objects.push(tsharkObject(o));
    }
  }
  return {
    typeId: tnum(str(a, 'iec60870_asdu.typeid')),
    sq: tnum(str(a, 'iec60870_asdu.sq')),
    count: tnum(str(a, 'iec60870_asdu.numix')),
    cot: tnum(str(a, 'iec60870_asdu.causetx')),
    negative: tnum(str(a, 'iec60870_asdu.nega')),
    test: tnum(str(a, 'iec60870_asdu.test')),
    originator: tnum(str(a, 'iec60870_asdu.oa')),
    ca: tnum(str(a, 'iec60870_asdu.addr')),
    objects,
  };
}

interface TsharkReading {
  readonly packets: number;
  readonly apdus: Norm[];
}

function runTshark(file: string): TsharkReading {
  let out: string;
  try {
    out = execFileSync('tshark', ['-r', file, '-d', `tcp.port==${PORT},iec60870_104`, '-T', 'json', '--no-duplicate-keys'], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    throw new Error(`tshark could not read ${file} (install the Debian package tshark): ${String(err)}`, { cause: err });
  }
  const packets = JSON.parse(out) as Json;
  if (!Array.isArray(packets)) throw new Error('tshark: JSON output is not an array of packets');
  const apdus: Norm[] = [];
  for (const p of packets) {
    if (!isObject(p) || !isObject(p['_source']) || !isObject(p['_source']['layers'])) throw new Error('tshark: unexpected packet shape');
    const layers = p['_source']['layers'];
    const frameLayer = layers['frame'];
    const tcp = layers['tcp'];
    if (!isObject(frameLayer) || !isObject(tcp)) continue;
    const frame = tnum(str(frameLayer, 'frame.number'));
    const dir = tnum(str(tcp, 'tcp.dstport')) === PORT ? 'up' : 'down';
    const asdus = all(layers['iec60870_asdu']);
    let nextAsdu = 0;
    for (const apci of all(layers['iec60870_104'])) {
      if (!isObject(apci)) throw new Error(`tshark: frame ${frame}: APCI is not an object`);
      const type = tnum(str(apci, 'iec60870_104.type'));
      if (type === 0) {
        const a = asdus[nextAsdu++];
        if (!isObject(a)) throw new Error(`tshark: frame ${frame}: I frame without an ASDU`);
        apdus.push({
          frame,
          dir,
          format: 'I',
          ns: tnum(str(apci, 'iec60870_104.tx')),
          nr: tnum(str(apci, 'iec60870_104.rx')),
          u: null,
          asdu: tsharkAsdu(a),
        });
      } else if (type === 1) {
        apdus.push({ frame, dir, format: 'S', ns: null, nr: tnum(str(apci, 'iec60870_104.rx')), u: null, asdu: null });
      } else if (type === 3) {
        apdus.push({ frame, dir, format: 'U', ns: null, nr: null, u: tnum(str(apci, 'iec60870_104.utype')), asdu: null });
      } else {
        throw new Error(`tshark: frame ${frame}: APCI type ${type}`);
      }
    }
    if (nextAsdu !== asdus.length) throw new Error(`tshark: frame ${frame}: ${asdus.length} ASDUs for ${nextAsdu} I frames`);
  }
  return { packets: packets.length, apdus };
}

// ---------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------

describe('lib60870 capture (iec104-lib60870.pcap)', () => {
  let pcap: Capture;
  let conversations: TcpStreamContent[];
  let conv: TcpStreamContent | undefined;
  let up: OurReading | undefined;
  let down: OurReading | undefined;
  let ours: Norm[];

  beforeAll(() => {
    pcap = readCapture(new Uint8Array(readFileSync(FIXTURE)));
    const { streams, malformed } = tcpStreams(pcap.packets);
    expect(malformed).toEqual([]);
    conversations = streams.filter((s) => s.conversation.server.endsWith(`:${PORT}`));
    conv = conversations[0];
    up = conv === undefined ? undefined : readDirection(conv.toServer, 'up');
    down = conv === undefined ? undefined : readDirection(conv.toClient, 'down');
    ours = [...(up?.apdus ?? []), ...(down?.apdus ?? [])].sort((x, y) => x.frame - y.frame);
  });

  it('is one complete TCP connection on port 24171 over Ethernet', () => {
    expect(pcap.interfaces.map((i) => i.linkType)).toEqual([1]);
    expect(conversations.length).toBe(1);
    expect(conv?.conversation.server).toBe(`127.0.0.2:${PORT}`);
    expect(conv?.missing).toBe(0);
  });

  it('decodes with no framing, APCI or ASDU failure and nothing left over', () => {
    expect(up?.failures).toEqual([]);
    expect(down?.failures).toEqual([]);
    expect(up?.leftover).toBe(0);
    expect(down?.leftover).toBe(0);
  });

  it('holds what the capture README describes', () => {
    const byType = (typeId: number): Norm[] => ours.filter((a) => a.asdu?.typeId === typeId);
    // STARTDT act from the controlling station, then its confirmation (function bits 0x04, 0x08).
    expect(ours.slice(0, 2).map((a) => [a.dir, a.format, a.u])).toEqual([
      ['up', 'U', 1],
      ['down', 'U', 2],
    ]);
    // Station interrogation: act, actcon, actterm with QOI 20.
    expect(byType(100).map((a) => [a.dir, a.asdu?.cot, a.asdu?.objects[0]?.values['qoi']])).toEqual([
      ['up', 6, 20],
      ['down', 7, 20],
      ['down', 10, 20],
    ]);
    // Forty points in four ASDUs with COT 20 (inrogen), ten objects each.
    const gi = ours.filter((a) => a.asdu?.cot === 20);
    expect(gi.map((a) => [a.asdu?.typeId, a.asdu?.objects.length])).toEqual([
      [1, 10],
      [1, 10],
      [13, 10],
      [13, 10],
    ]);
    // A single command (act, actcon, actterm) and a clock synchronisation (act, actcon).
    expect(byType(45).map((a) => a.asdu?.cot)).toEqual([6, 7, 10]);
    expect(byType(103).map((a) => a.asdu?.cot)).toEqual([6, 7]);
    // Spontaneous M_SP_NA_1, M_ME_NC_1, M_SP_TB_1, M_BO_TB_1.
    for (const t of [1, 13, 30, 33])
      expect(
        byType(t).some((a) => a.asdu?.cot === 3),
        `type ${t}`,
      ).toBe(true);
    expect(ours.filter((a) => a.format === 'S').length).toBeGreaterThan(0);
  });

  it('numbers I frames 0, 1, 2 ... in each direction, as clause 5.1 requires', () => {
    for (const dir of ['up', 'down'] as const) {
      const ns = ours.filter((a) => a.dir === dir && a.format === 'I').map((a) => a.ns);
      expect(ns).toEqual(ns.map((_, i) => i));
    }
  });

  it('reads M_BO_TB_1 bitstrings in the standard octet order (the capture counts upwards)', () => {
    // values['bitstring'] holds tshark's presentation; swapping it back gives our decoded value.
    const values = ours.filter((a) => a.asdu?.typeId === 33).map((a) => swap32(a.asdu?.objects[0]?.values['bitstring'] ?? 0));
    expect(values.length).toBeGreaterThan(10);
    for (let i = 1; i < values.length; i++) expect(values[i]!, `M_BO_TB_1 #${i}`).toBeGreaterThan(values[i - 1]!);
    // The first one, octets 8a ab e3 cd on the wire (frame 22).
    expect(values[0]).toBe(0xcde3ab8a);
  });

  it('agrees with tshark frame by frame: APCI, N(S)/N(R), type, COT, CA, IOAs and values', () => {
    const theirs = runTshark(FIXTURE);
    expect(theirs.packets).toBe(pcap.packets.length);
    expect(theirs.apdus.length).toBeGreaterThan(100);
    expect(ours.length).toBe(theirs.apdus.length);
    for (let i = 0; i < theirs.apdus.length; i++) {
      expect(ours[i], `APDU ${i} (frame ${theirs.apdus[i]?.frame})`).toEqual(theirs.apdus[i]);
    }
  });
});
