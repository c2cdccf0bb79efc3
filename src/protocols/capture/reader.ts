/**
 * A pure reader of capture files: classic libpcap (both byte orders, microsecond or nanosecond
 * times) and pcapng (Section Header, Interface Description, Enhanced, Simple and the obsolete
 * Packet blocks, both byte orders, any number of sections and interfaces, each with its own link
 * type, snap length and `if_tsresol`/`if_tsoffset`).
 *
 * {@link CaptureReader} is incremental: feed the file in chunks of any size, get the packets they
 * complete, so a capture of any size is read in bounded memory. Packets are numbered 1, 2, ... as
 * Wireshark numbers frames (pcapng blocks that carry no packet are not counted). A file that breaks
 * its format throws a {@link ProtocolError} `E_MALFORMED` naming the frame (or block) and the file
 * offset; nothing else escapes.
 *
 * Formats: tcpdump.org pcap (draft-ietf-opsawg-pcap) and pcapng (draft-ietf-opsawg-pcapng).
 */
import { ErrorCode, ProtocolError } from '../../core/errors.js';

/** Link-layer header types (tcpdump.org LINKTYPE_ values) that `ip.ts` reads. */
export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** Largest packet accepted, as Wireshark's limit for ordinary link types (WTAP_MAX_PACKET_SIZE_STANDARD). */
export const CAPTURE_MAX_PACKET = 262_144;
/** Largest pcapng block accepted; a longer length field is taken for corruption rather than buffered. */
export const CAPTURE_MAX_BLOCK = 16 * 1024 * 1024;

/** A capture time: whole seconds since 1970 and nanoseconds within the second. */
export interface CaptureTime {
  readonly seconds: number;
  readonly nanoseconds: number;
}

/** One capture interface: a pcap file has one; a pcapng section has one per Interface Description Block. */
export interface CaptureInterface {
  readonly linkType: number;
  readonly snapLength: number;
  /** Time stamp units per second (1e6 for µs, 1e9 for ns; any power of 10 or 2 in pcapng). */
  readonly unitsPerSecond: bigint;
  /** `if_tsoffset`: seconds added to every time stamp. */
  readonly offsetSeconds: bigint;
  /** `if_name`, when the file gives one. */
  readonly name?: string;
}

/** One captured packet. `data` is a view of the bytes pushed; it is never overwritten. */
export interface CapturePacket {
  /** 1-based frame number, as Wireshark numbers frames. */
  readonly number: number;
  /** Index into the interfaces of the packet's section (always 0 in pcap files). */
  readonly interfaceId: number;
  readonly linkType: number;
  /** Absent for pcapng Simple Packet Blocks, which carry no time stamp. */
  readonly time?: CaptureTime;
  /** Length on the wire; larger than `data.length` when the packet was cut at the snap length. */
  readonly originalLength: number;
  readonly data: Uint8Array;
}

/** A whole capture, as {@link readCapture} returns it. */
export interface Capture {
  readonly format: 'pcap' | 'pcapng';
  /** Interfaces of the last section read (pcapng sections each restart the list). */
  readonly interfaces: readonly CaptureInterface[];
  readonly packets: readonly CapturePacket[];
}

const PCAP_MAGIC = { 0xa1b2c3d4: 1_000_000n, 0xa1b23c4d: 1_000_000_000n } as const;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const PCAP_HEADER = 24;
const PCAP_RECORD_HEADER = 16;

/** pcapng block types read for packets or interfaces (draft-ietf-opsawg-pcapng section 4); others are skipped. */
const Block = { IDB: 1, PB: 2, SPB: 3, EPB: 6 } as const;
/** Interface Description Block options read (section 4.2). */
const IfOption = { NAME: 2, TSRESOL: 9, TSOFFSET: 14 } as const;

/** ECMAScript's Date range, ±8.64e15 ms (ECMA-262 21.4.1.1). */
const MAX_DATE_SECONDS = 8.64e12;

const hex32 = (v: number): string => `0x${v.toString(16).padStart(8, '0')}`;

/**
 * Reads a capture file pushed in chunks. `push` returns the packets completed by the chunk; `end`
 * checks that the file did not stop inside a header or record. Both throw {@link ProtocolError}
 * `E_MALFORMED` (layer `capture.pcap` or `capture.pcapng`) for a broken file.
 */
export class CaptureReader {
  #buf: Uint8Array = new Uint8Array(0);
  /** File offset of `#buf[0]`. */
  #at = 0;
  #format: 'pcap' | 'pcapng' | undefined;
  #le = true;
  #interfaces: CaptureInterface[] = [];
  #frames = 0;

  /** The file format, once its first octets have been read. */
  get format(): 'pcap' | 'pcapng' | undefined {
    return this.#format;
  }

  /** Interfaces of the current section. */
  get interfaces(): readonly CaptureInterface[] {
    return this.#interfaces;
  }

  /** Packets read so far. */
  get frames(): number {
    return this.#frames;
  }

  /** Octets read so far (the file offset reached). */
  get offset(): number {
    return this.#at + this.#buf.length;
  }

  push(chunk: Uint8Array): CapturePacket[] {
    if (this.#buf.length === 0) this.#buf = chunk;
    else {
      const joined = new Uint8Array(this.#buf.length + chunk.length);
      joined.set(this.#buf);
      joined.set(chunk, this.#buf.length);
      this.#buf = joined;
    }
    const out: CapturePacket[] = [];
    let used = 0;
    for (;;) {
      const n = this.#next(used, out);
      if (n === 0) break;
      used += n;
    }
    this.#buf = this.#buf.subarray(used);
    this.#at += used;
    return out;
  }

  /** The file has ended: throws if it stopped inside a header, record or block. */
  end(): void {
    if (this.#format === undefined) this.#fail('capture', `file of ${this.#buf.length} octet(s) is too short to hold a capture header`);
    if (this.#buf.length > 0) {
      this.#fail(this.#layer(), `frame ${this.#frames + 1}: the file ends ${this.#buf.length} octet(s) into a record (cut short?)`);
    }
  }

  /** Consumes one unit at `at` (header, record or block); returns its length, or 0 if incomplete. */
  #next(at: number, out: CapturePacket[]): number {
    const have = this.#buf.length - at;
    if (this.#format === undefined) return this.#fileHeader(at, have, out);
    return this.#format === 'pcap' ? this.#pcapRecord(at, have, out) : this.#pcapngBlock(at, have, out);
  }

  #view(at: number, length: number): DataView {
    const b = this.#buf;
    return new DataView(b.buffer, b.byteOffset + at, length);
  }

  #layer(): string {
    return this.#format === 'pcapng' ? 'capture.pcapng' : 'capture.pcap';
  }

  #fail(layer: string, message: string, at?: number): never {
    const where = at === undefined ? '' : ` (file offset ${at})`;
    throw new ProtocolError(layer, ErrorCode.MALFORMED, `${message}${where}`, { fault: 'remote' });
  }

  #fileHeader(at: number, have: number, out: CapturePacket[]): number {
    if (have < 4) return 0;
    const magicBe = this.#view(at, 4).getUint32(0, false);
    const magicLe = this.#view(at, 4).getUint32(0, true);
    if (magicBe === PCAPNG_SHB) {
      this.#format = 'pcapng';
      return this.#pcapngBlock(at, have, out);
    }
    const le = magicLe in PCAP_MAGIC;
    if (!le && !(magicBe in PCAP_MAGIC)) {
      this.#fail('capture', `not a pcap or pcapng file: magic ${hex32(magicBe)}`, this.#at + at);
    }
    if (have < PCAP_HEADER) return 0;
    const dv = this.#view(at, PCAP_HEADER);
    const major = dv.getUint16(4, le);
    if (major !== 2) this.#fail('capture.pcap', `pcap version ${major}.${dv.getUint16(6, le)}; only 2.x is read`, this.#at + at);
    this.#format = 'pcap';
    this.#le = le;
    this.#interfaces = [
      {
        // The upper 16 bits may carry FCS information (draft-ietf-opsawg-pcap section 4).
        linkType: dv.getUint32(20, le) & 0xffff,
        snapLength: dv.getUint32(16, le),
        unitsPerSecond: PCAP_MAGIC[(le ? magicLe : magicBe) as keyof typeof PCAP_MAGIC],
        offsetSeconds: 0n,
      },
    ];
    return PCAP_HEADER;
  }

  #pcapRecord(at: number, have: number, out: CapturePacket[]): number {
    if (have < PCAP_RECORD_HEADER) return 0;
    const dv = this.#view(at, PCAP_RECORD_HEADER);
    const le = this.#le;
    const incl = dv.getUint32(8, le);
    const orig = dv.getUint32(12, le);
    const frame = this.#frames + 1;
    if (incl > CAPTURE_MAX_PACKET) {
      this.#fail('capture.pcap', `frame ${frame}: record of ${incl} octets exceeds the ${CAPTURE_MAX_PACKET}-octet limit`, this.#at + at);
    }
    if (have < PCAP_RECORD_HEADER + incl) return 0;
    const iface = this.#interfaces[0]!;
    const ticks = BigInt(dv.getUint32(0, le)) * iface.unitsPerSecond + BigInt(dv.getUint32(4, le));
    this.#packet(out, 0, ticks, orig, at + PCAP_RECORD_HEADER, incl);
    return PCAP_RECORD_HEADER + incl;
  }

  #pcapngBlock(at: number, have: number, out: CapturePacket[]): number {
    if (have < 12) return 0;
    const fileAt = this.#at + at;
    let type = this.#view(at, 4).getUint32(0, this.#le);
    if (this.#view(at, 4).getUint32(0, false) === PCAPNG_SHB) {
      // A Section Header Block sets the byte order of everything up to the next one (section 4.1).
      const bom = this.#view(at + 8, 4);
      if (bom.getUint32(0, true) === PCAPNG_BYTE_ORDER_MAGIC) this.#le = true;
      else if (bom.getUint32(0, false) === PCAPNG_BYTE_ORDER_MAGIC) this.#le = false;
      else this.#fail('capture.pcapng', `section header with byte-order magic ${hex32(bom.getUint32(0, false))}`, fileAt + 8);
      type = PCAPNG_SHB;
    }
    const le = this.#le;
    const length = this.#view(at + 4, 4).getUint32(0, le);
    if (length < 12 || length % 4 !== 0 || length > CAPTURE_MAX_BLOCK) {
      this.#fail('capture.pcapng', `block type ${hex32(type)} with total length ${length}`, fileAt + 4);
    }
    if (have < length) return 0;
    const trailer = this.#view(at + length - 4, 4).getUint32(0, le);
    if (trailer !== length) this.#fail('capture.pcapng', `block length ${length} but trailing length ${trailer}`, fileAt + length - 4);
    const body = at + 8;
    const bodyLength = length - 12;
    const dv = this.#view(body, bodyLength);
    const need = (n: number, what: string): void => {
      if (bodyLength < n) this.#fail('capture.pcapng', `${what} of ${bodyLength} octets; it needs at least ${n}`, fileAt);
    };
    switch (type) {
      case PCAPNG_SHB:
        need(16, 'section header block');
        if (dv.getUint16(4, le) !== 1) this.#fail('capture.pcapng', `pcapng version ${dv.getUint16(4, le)}; only 1.x is read`, fileAt);
        this.#interfaces = [];
        break;
      case Block.IDB:
        need(8, 'interface description block');
        this.#interfaces.push(this.#interface(dv, fileAt));
        break;
      case Block.EPB: {
        need(20, `frame ${this.#frames + 1}: enhanced packet block`);
        const captured = dv.getUint32(12, le);
        if (captured > bodyLength - 20) this.#badLength(captured, bodyLength - 20, fileAt);
        const ticks = (BigInt(dv.getUint32(4, le)) << 32n) | BigInt(dv.getUint32(8, le));
        this.#packet(out, dv.getUint32(0, le), ticks, dv.getUint32(16, le), body + 20, captured, fileAt);
        break;
      }
      case Block.PB: {
        need(20, `frame ${this.#frames + 1}: packet block`);
        const captured = dv.getUint32(12, le);
        if (captured > bodyLength - 20) this.#badLength(captured, bodyLength - 20, fileAt);
        const ticks = (BigInt(dv.getUint32(4, le)) << 32n) | BigInt(dv.getUint32(8, le));
        this.#packet(out, dv.getUint16(0, le), ticks, dv.getUint32(16, le), body + 20, captured, fileAt);
        break;
      }
      case Block.SPB: {
        need(4, `frame ${this.#frames + 1}: simple packet block`);
        const original = dv.getUint32(0, le);
        const snap = this.#interfaces[0]?.snapLength || Infinity;
        this.#packet(out, 0, undefined, original, body + 4, Math.min(original, snap, bodyLength - 4), fileAt);
        break;
      }
    }
    return length;
  }

  #badLength(captured: number, room: number, fileAt: number): never {
    return this.#fail(
      'capture.pcapng',
      `frame ${this.#frames + 1}: captured length ${captured} exceeds the ${room} octets of its block`,
      fileAt,
    );
  }

  /** Reads an Interface Description Block body (section 4.2): link type, snap length, options. */
  #interface(dv: DataView, fileAt: number): CaptureInterface {
    const le = this.#le;
    let unitsPerSecond = 1_000_000n;
    let offsetSeconds = 0n;
    let name: string | undefined;
    for (let p = 8; p + 4 <= dv.byteLength;) {
      const code = dv.getUint16(p, le);
      const len = dv.getUint16(p + 2, le);
      if (code === 0) break;
      if (p + 4 + len > dv.byteLength)
        this.#fail('capture.pcapng', `interface option ${code} of ${len} octets runs past its block`, fileAt);
      const value = new Uint8Array(dv.buffer, dv.byteOffset + p + 4, len);
      if (code === IfOption.TSRESOL && len >= 1) {
        // Bit 7 clear: 10^-n seconds; set: 2^-n seconds (section 4.2, if_tsresol).
        const r = value[0]!;
        const n = BigInt(r & 0x7f);
        if ((r & 0x7f) > 62) this.#fail('capture.pcapng', `if_tsresol 0x${r.toString(16)} is beyond 2^-62 and 10^-62`, fileAt);
        unitsPerSecond = r & 0x80 ? 1n << n : 10n ** n;
      } else if (code === IfOption.TSOFFSET && len >= 8) {
        offsetSeconds = new DataView(value.buffer, value.byteOffset, 8).getBigInt64(0, le);
      } else if (code === IfOption.NAME) {
        name = new TextDecoder().decode(value);
      }
      p += 4 + ((len + 3) & ~3);
    }
    return {
      linkType: dv.getUint16(0, le),
      snapLength: dv.getUint32(4, le),
      unitsPerSecond,
      offsetSeconds,
      ...(name === undefined ? {} : { name }),
    };
  }

  #packet(
    out: CapturePacket[],
    interfaceId: number,
    ticks: bigint | undefined,
    originalLength: number,
    at: number,
    captured: number,
    fileAt?: number,
  ): void {
    const number = ++this.#frames;
    const iface = this.#interfaces[interfaceId];
    if (iface === undefined) {
      this.#fail(this.#layer(), `frame ${number}: interface ${interfaceId} was not described (${this.#interfaces.length} known)`, fileAt);
    }
    out.push({
      number,
      interfaceId,
      linkType: iface.linkType,
      ...(ticks === undefined ? {} : { time: timeOf(ticks, iface) }),
      originalLength: Math.max(originalLength, captured),
      data: this.#buf.subarray(at, at + captured),
    });
  }
}

function timeOf(ticks: bigint, iface: CaptureInterface): CaptureTime {
  const units = iface.unitsPerSecond;
  const seconds = ticks / units + iface.offsetSeconds;
  const nanoseconds = ((ticks % units) * 1_000_000_000n) / units;
  return { seconds: Number(seconds), nanoseconds: Number(nanoseconds) };
}

/** Reads a whole capture held in memory. Throws {@link ProtocolError} `E_MALFORMED` for a broken file. */
export function readCapture(bytes: Uint8Array): Capture {
  const reader = new CaptureReader();
  const packets = reader.push(bytes);
  reader.end();
  return { format: reader.format!, interfaces: reader.interfaces, packets };
}

/**
 * A capture time in ISO 8601, UTC: milliseconds when the time is a whole millisecond, else
 * microseconds, else nanoseconds, so nothing the file recorded is lost or invented.
 */
export function captureTimeIso(t: CaptureTime): string {
  const ns = String(t.nanoseconds).padStart(9, '0');
  const digits = t.nanoseconds % 1_000_000 === 0 ? 3 : t.nanoseconds % 1000 === 0 ? 6 : 9;
  // Beyond the years a Date holds (a corrupt time stamp), the seconds since 1970 are shown instead.
  if (Math.abs(t.seconds) > MAX_DATE_SECONDS) return `${t.seconds}.${ns.slice(0, digits)} s after 1970`;
  return `${new Date(t.seconds * 1000).toISOString().slice(0, 19)}.${ns.slice(0, digits)}Z`;
}
