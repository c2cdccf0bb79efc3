/**
 * MMS file services (ISO 9506-2 Annex D, file management): fileOpen [72], fileRead [73],
 * fileClose [74], fileDelete [76] and fileDirectory [77], requests and responses. A FileName is a
 * SEQUENCE OF GraphicString; gridgate sends one component holding the whole path (as libiec61850
 * and IEC 61850 servers do) and reads several as path components joined with `/`.
 */
import { UniversalTag, type BerReader, type BerWriter, type Tlv } from '../iso/ber/ber.js';
import { mmsFail } from './data.js';

/** File attributes (FileAttributes): size in octets and, when known, the time of the last change. */
export interface FileAttributes {
  readonly sizeOfFile: number;
  /** Milliseconds since 1970 (UTC), from the GeneralizedTime lastModified. */
  readonly lastModified?: number;
}

/** One DirectoryEntry of a fileDirectory response. */
export interface DirectoryEntry extends FileAttributes {
  readonly fileName: string;
}

/** File service requests, discriminated by `service` like the other ConfirmedServiceRequests. */
export type FileRequest =
  | { readonly service: 'fileOpen'; readonly fileName: string; readonly initialPosition: number }
  | { readonly service: 'fileRead'; readonly frsmId: number }
  | { readonly service: 'fileClose'; readonly frsmId: number }
  | { readonly service: 'fileDelete'; readonly fileName: string }
  | { readonly service: 'fileDirectory'; readonly fileSpecification?: string; readonly continueAfter?: string };

/** File service responses. */
export type FileResponse =
  | ({ readonly service: 'fileOpen'; readonly frsmId: number } & FileAttributes)
  /** moreFollows is DEFAULT TRUE (D.3): false marks the last octets of the file. */
  | { readonly service: 'fileRead'; readonly fileData: Uint8Array; readonly moreFollows: boolean }
  | { readonly service: 'fileClose' }
  | { readonly service: 'fileDelete' }
  /** moreFollows is DEFAULT FALSE: true asks for another request with continueAfter. */
  | { readonly service: 'fileDirectory'; readonly entries: readonly DirectoryEntry[]; readonly moreFollows: boolean };

type FileServiceName = FileRequest['service'];
type Req<K extends FileServiceName> = Extract<FileRequest, { service: K }>;
type Res<K extends FileServiceName> = Extract<FileResponse, { service: K }>;
interface Codec<T> {
  decode(r: BerReader, t: Tlv): T;
  encode(w: BerWriter, v: T, tag: number): void;
}

const ctx = (tag: number): { tagClass: 'context'; tag: number } => ({ tagClass: 'context', tag });
const GRAPHIC = { tagClass: 'universal', tag: UniversalTag.GRAPHIC_STRING } as const;

/** Integer32 / Unsigned32 (7.5.1) within the range a file service allows. */
function int32(r: BerReader, t: Tlv, what: string, min: number, max: number): number {
  const v = r.readInteger(t);
  if (typeof v !== 'number' || v < min || v > max) return mmsFail(t.start, `${what} ${v} outside ${min}..${max}`, 'out-of-range');
  return v;
}

/** FileName: SEQUENCE OF GraphicString in the `[tag]` TLV `t`; the components joined with `/`. */
function readFileName(r: BerReader, t: Tlv): string {
  const parts = [...r.children(t)].map((c) => r.readVisibleString(r.expect(c, 'universal', UniversalTag.GRAPHIC_STRING, false)));
  if (parts.length === 0) mmsFail(t.start, 'FileName without a component', 'bad-value');
  return parts.join('/');
}

const writeFileName = (w: BerWriter, name: string, tag: number): void =>
  void w.writeConstructed('context', tag, () => w.writeVisibleString(name, GRAPHIC));

/** GeneralizedTime (X.680 46) as `YYYYMMDDHHMMSS[.fff]Z`; a time without `Z` is read as UTC too. */
function readGeneralizedTime(r: BerReader, t: Tlv): number {
  const text = r.readVisibleString(t);
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:[.,](\d{1,9}))?Z?$/.exec(text);
  if (m === null) return mmsFail(t.start, `GeneralizedTime '${text}' is not YYYYMMDDHHMMSS[.fff][Z]`, 'bad-value');
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  return Date.UTC(y, mo - 1, d, h, mi, s, ms);
}

function generalizedTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-12-07T14:30:00.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 23)}Z`;
}

function readAttributes(r: BerReader, t: Tlv): FileAttributes {
  const s = r.enter(t);
  const sizeOfFile = int32(s, s.expect(s.readTlv(), 'context', 0, false), 'sizeOfFile', 0, 0xffffffff);
  const lm = s.atEnd ? undefined : s.expect(s.readTlv(), 'context', 1, false);
  s.expectEnd();
  return lm === undefined ? { sizeOfFile } : { sizeOfFile, lastModified: readGeneralizedTime(s, lm) };
}

function writeAttributes(w: BerWriter, a: FileAttributes, tag: number): void {
  w.writeConstructed('context', tag, () => {
    w.writeUnsigned(a.sizeOfFile, ctx(0));
    if (a.lastModified !== undefined) w.writeVisibleString(generalizedTime(a.lastModified), ctx(1));
  });
}

/** BOOLEAN TRUE as 0x01, as the other services write it. */
const writeBool = (w: BerWriter, v: boolean, tag: number): void => void w.writeTlv('context', tag, false, Uint8Array.of(v ? 1 : 0));

/** The next element if it has context tag `tag`. */
function optional(s: BerReader, tag: number): Tlv | undefined {
  const p = s.peek();
  return p !== undefined && p.tagClass === 'context' && p.tag === tag ? s.readTlv() : undefined;
}

/** Request codecs of the file services (the ConfirmedServiceRequest tag is passed in). */
export const FILE_REQUEST_CODECS: { readonly [K in FileServiceName]: Codec<Req<K>> } = {
  fileOpen: {
    decode: (r, t) => {
      const s = r.enter(t);
      const fileName = readFileName(s, s.expect(s.readTlv(), 'context', 0, true));
      const initialPosition = int32(s, s.expect(s.readTlv(), 'context', 1, false), 'initialPosition', 0, 0xffffffff);
      s.expectEnd();
      return { service: 'fileOpen', fileName, initialPosition };
    },
    encode: (w, v, tag) =>
      void w.writeConstructed('context', tag, () => {
        writeFileName(w, v.fileName, 0);
        w.writeUnsigned(v.initialPosition, ctx(1));
      }),
  },
  fileRead: {
    decode: (r, t) => ({ service: 'fileRead', frsmId: int32(r, t, 'frsmID', -0x80000000, 0x7fffffff) }),
    encode: (w, v, tag) => void w.writeInteger(v.frsmId, ctx(tag)),
  },
  fileClose: {
    decode: (r, t) => ({ service: 'fileClose', frsmId: int32(r, t, 'frsmID', -0x80000000, 0x7fffffff) }),
    encode: (w, v, tag) => void w.writeInteger(v.frsmId, ctx(tag)),
  },
  fileDelete: {
    decode: (r, t) => ({ service: 'fileDelete', fileName: readFileName(r, t) }),
    encode: (w, v, tag) => writeFileName(w, v.fileName, tag),
  },
  fileDirectory: {
    decode: (r, t) => {
      const s = r.enter(t);
      const spec = optional(s, 0);
      const after = optional(s, 1);
      s.expectEnd();
      return {
        service: 'fileDirectory',
        ...(spec === undefined ? {} : { fileSpecification: readFileName(s, spec) }),
        ...(after === undefined ? {} : { continueAfter: readFileName(s, after) }),
      };
    },
    encode: (w, v, tag) =>
      void w.writeConstructed('context', tag, () => {
        if (v.fileSpecification !== undefined) writeFileName(w, v.fileSpecification, 0);
        if (v.continueAfter !== undefined) writeFileName(w, v.continueAfter, 1);
      }),
  },
};

/** Response codecs of the file services. */
export const FILE_RESPONSE_CODECS: { readonly [K in FileServiceName]: Codec<Res<K>> } = {
  fileOpen: {
    decode: (r, t) => {
      const s = r.enter(t);
      const frsmId = int32(s, s.expect(s.readTlv(), 'context', 0, false), 'frsmID', -0x80000000, 0x7fffffff);
      const attributes = readAttributes(s, s.expect(s.readTlv(), 'context', 1, true));
      s.expectEnd();
      return { service: 'fileOpen', frsmId, ...attributes };
    },
    encode: (w, v, tag) =>
      void w.writeConstructed('context', tag, () => {
        w.writeInteger(v.frsmId, ctx(0));
        writeAttributes(w, v, 1);
      }),
  },
  fileRead: {
    decode: (r, t) => {
      const s = r.enter(t);
      const fileData = s.readOctetString(s.expect(s.readTlv(), 'context', 0, false));
      const more = optional(s, 1);
      s.expectEnd();
      return { service: 'fileRead', fileData, moreFollows: more === undefined ? true : s.readBoolean(more) };
    },
    encode: (w, v, tag) =>
      void w.writeConstructed('context', tag, () => {
        w.writeOctetString(v.fileData, ctx(0));
        if (!v.moreFollows) writeBool(w, false, 1);
      }),
  },
  fileClose: { decode: (r, t) => (r.readNull(t), { service: 'fileClose' }), encode: (w, _v, tag) => void w.writeNull(ctx(tag)) },
  fileDelete: { decode: (r, t) => (r.readNull(t), { service: 'fileDelete' }), encode: (w, _v, tag) => void w.writeNull(ctx(tag)) },
  fileDirectory: {
    decode: (r, t) => {
      const s = r.enter(t);
      // listOfDirectoryEntry [0] SEQUENCE OF DirectoryEntry carries no IMPLICIT: the tag wraps the SEQUENCE OF.
      const outer = s.enter(s.expect(s.readTlv(), 'context', 0, true));
      const list = outer.expect(outer.readTlv(), 'universal', UniversalTag.SEQUENCE, true);
      outer.expectEnd();
      const entries = [...s.children(list)].map((e): DirectoryEntry => {
        const d = s.enter(s.expect(e, 'universal', UniversalTag.SEQUENCE, true));
        const fileName = readFileName(d, d.expect(d.readTlv(), 'context', 0, true));
        const attributes = readAttributes(d, d.expect(d.readTlv(), 'context', 1, true));
        d.expectEnd();
        return { fileName, ...attributes };
      });
      const more = optional(s, 1);
      s.expectEnd();
      return { service: 'fileDirectory', entries, moreFollows: more === undefined ? false : s.readBoolean(more) };
    },
    encode: (w, v, tag) =>
      void w.writeConstructed('context', tag, () => {
        w.writeConstructed('context', 0, () =>
          w.writeSequence(() =>
            v.entries.forEach((e) =>
              w.writeSequence(() => {
                writeFileName(w, e.fileName, 0);
                writeAttributes(w, e, 1);
              }),
            ),
          ),
        );
        if (v.moreFollows) writeBool(w, true, 1);
      }),
  },
};
