/**
 * SNTP client codec (RFC 4330; packet format and on-wire arithmetic of RFC 5905).
 *
 * Pure functions: the caller reads its own clock and passes Unix milliseconds in. A request is a
 * 48-octet mode-3 packet whose transmit timestamp is our send time (T1); the server echoes it as
 * the originate timestamp of its reply, which is how {@link decodeResponse} tells a genuine reply
 * from a stray or replayed one.
 *
 * Timestamps (RFC 5905 clause 6): 32 bits of seconds since 1900-01-01T00:00Z and 32 bits of
 * fraction, big-endian. The seconds field wraps on 2036-02-07T06:28:16Z (era 1). Following
 * RFC 4330 clause 3, the most significant bit picks the era: set means era 0 (1968-01-20T03:14:08Z
 * up to the wrap), clear means era 1 (the wrap up to 2104-02-26T09:42:24Z). The pivot does not
 * depend on our own clock, so a machine whose clock was reset to 1970 still reads the server's
 * time correctly, which is the case that matters when we are about to set that clock.
 */
import { WriterError } from '../../core/bytes.js';
import type { DecodeFailure } from '../../core/errors.js';
import { fail, ok, type Ok } from '../../core/result.js';

/** Layer name in decode failures. */
export const NTP_LAYER = 'ntp';

/** Octets in an NTP header without extension fields or MAC (RFC 5905 clause 7.3, Figure 8). */
export const NTP_PACKET_LENGTH = 48;

/** Field offsets of the NTP header (RFC 5905 clause 7.3, Figure 8). */
export const NtpField = {
  /** LI (2 bits) | VN (3 bits) | Mode (3 bits). */
  flags: 0,
  stratum: 1,
  /** Poll interval, signed log2 seconds. */
  poll: 2,
  /** Clock precision, signed log2 seconds. */
  precision: 3,
  /** NTP short format (16.16 seconds). */
  rootDelay: 4,
  rootDispersion: 8,
  referenceId: 12,
  /** NTP timestamps (32.32). */
  referenceTimestamp: 16,
  originateTimestamp: 24,
  receiveTimestamp: 32,
  transmitTimestamp: 40,
} as const;

/** Association modes (RFC 5905 clause 7.3, Figure 10). */
export const NtpMode = {
  reserved: 0,
  symmetricActive: 1,
  symmetricPassive: 2,
  client: 3,
  server: 4,
  broadcast: 5,
  control: 6,
  private: 7,
} as const;
export type NtpMode = (typeof NtpMode)[keyof typeof NtpMode];

const MODE_NAMES: readonly string[] = Object.keys(NtpMode);

/** Leap indicator values (RFC 5905 clause 7.3, Figure 9); 3 means the server is unsynchronised. */
export const LeapIndicator = {
  noWarning: 0,
  lastMinute61: 1,
  lastMinute59: 2,
  unsynchronised: 3,
} as const;
export type LeapIndicator = (typeof LeapIndicator)[keyof typeof LeapIndicator];

/** Protocol version we send (RFC 5905). Servers answer with the version of the request. */
export const NTP_VERSION = 4;

/** Stratum 16 means unsynchronised; 17..255 are reserved (RFC 5905 clause 7.3, Figure 11). */
export const MAX_STRATUM = 15;

/**
 * Kiss codes a server sends in the reference ID of a stratum-0 reply (kiss-o'-death), with what
 * each asks of the client (RFC 5905 clause 7.4, Figure 13; NTSN from RFC 8915 clause 5.7).
 */
export const KissCode = {
  ACST: 'the association belongs to a unicast server',
  AUTH: 'server authentication failed',
  AUTO: 'autokey sequence failed',
  BCST: 'the association belongs to a broadcast server',
  CRYP: 'cryptographic authentication or identification failed',
  DENY: 'access denied by remote server',
  DROP: 'lost peer in symmetric mode',
  RSTR: 'access denied due to local policy',
  INIT: 'the association has not yet synchronised for the first time',
  MCST: 'the association belongs to a dynamically discovered server',
  NKEY: 'no key found',
  NTSN: 'NTS negative acknowledgment',
  RATE: 'rate exceeded: the server asks us to poll less often',
  RMOT: 'alteration of association from a remote host running ntpdc',
  STEP: 'a step change in system time has occurred',
} as const;

/** Seconds from 1900-01-01T00:00Z (NTP era 0) to 1970-01-01T00:00Z (Unix epoch). */
export const NTP_UNIX_OFFSET_S = 2_208_988_800;

const TWO_32 = 0x1_0000_0000;
/** NTP seconds with the top bit set belong to era 0 (RFC 4330 clause 3). */
const ERA0_MSB = 0x8000_0000;

/** First Unix millisecond the era pivot can represent: 1968-01-20T03:14:08Z. */
export const NTP_MIN_UNIX_MS = (ERA0_MSB - NTP_UNIX_OFFSET_S) * 1000;
/** First Unix millisecond past the pivot's range: 2104-02-26T09:42:24Z. */
export const NTP_END_UNIX_MS = (ERA0_MSB + TWO_32 - NTP_UNIX_OFFSET_S) * 1000;

/** A server's answer, with the four on-wire timestamps converted to Unix milliseconds. */
export interface SntpReply {
  /** Leap indicator: 0 none, 1 last minute has 61 s, 2 last minute has 59 s (3 is rejected). */
  readonly leap: LeapIndicator;
  readonly version: number;
  /** 4 (server) or 5 (broadcast). */
  readonly mode: NtpMode;
  /** 1 (primary) .. 15; 0 (kiss-o'-death) and 16+ are rejected. */
  readonly stratum: number;
  /** Poll interval exponent: log2 seconds, signed. */
  readonly poll: number;
  /** Precision exponent of the server clock: log2 seconds, signed (-20 is about a microsecond). */
  readonly precision: number;
  /** Round-trip delay to the primary reference, milliseconds. */
  readonly rootDelayMs: number;
  /** Dispersion relative to the primary reference, milliseconds. */
  readonly rootDispersionMs: number;
  /**
   * Reference ID: for stratum 1 a four-character source name such as `GPS` or `PPS`; for higher
   * strata the IPv4 address of the server's own source (or the first four octets of an MD5 hash
   * of its IPv6 address), written as a dotted quad.
   */
  readonly referenceId: string;
  /** When the server clock was last set or corrected; `undefined` when the server sent zero (never). */
  readonly referenceMs: number | undefined;
  /** T1 as echoed by the server (our transmit time, to within the 2^-32 s of the wire format). */
  readonly originateMs: number;
  /** T2: when the request reached the server. */
  readonly receiveMs: number;
  /** T3: when the server sent the reply. */
  readonly transmitMs: number;
  /** T4: when the reply reached us, as given by the caller. */
  readonly destinationMs: number;
  /** Server clock minus our clock: ((T2 - T1) + (T3 - T4)) / 2 (RFC 5905 clause 8). */
  readonly offsetMs: number;
  /** Round-trip delay excluding the server's processing time: (T4 - T1) - (T3 - T2). */
  readonly delayMs: number;
}

/** An NTP timestamp as its two 32-bit halves. */
export interface NtpTimestamp {
  readonly seconds: number;
  readonly fraction: number;
}

/**
 * Unix milliseconds to an NTP timestamp (RFC 5905 clause 6). The fraction is truncated, never
 * rounded up, so it cannot carry into the seconds field.
 *
 * @throws WriterError when `unixMs` is not finite or lies outside 1968-01-20 .. 2104-02-26, the
 * range the era pivot can tell apart.
 */
export function unixMsToNtp(unixMs: number): NtpTimestamp {
  if (!Number.isFinite(unixMs) || unixMs < NTP_MIN_UNIX_MS || unixMs >= NTP_END_UNIX_MS) {
    throw new WriterError(`NTP timestamp ${String(unixMs)} ms outside ${NTP_MIN_UNIX_MS}..${NTP_END_UNIX_MS - 1}`);
  }
  let unixS = Math.floor(unixMs / 1000);
  let subMs = unixMs - unixS * 1000;
  // The division can round across a second boundary (and -5e-324 / 1000 is -0): normalise.
  if (subMs < 0) {
    unixS -= 1;
    subMs += 1000;
  } else if (subMs >= 1000) {
    unixS += 1;
    subMs -= 1000;
  }
  const fraction = Math.min(Math.max(Math.floor((subMs * TWO_32) / 1000), 0), TWO_32 - 1);
  return { seconds: (unixS + NTP_UNIX_OFFSET_S) % TWO_32, fraction };
}

/** An NTP timestamp to Unix milliseconds, choosing the era by the pivot of RFC 4330 clause 3. */
export function ntpToUnixMs(ts: NtpTimestamp): number {
  const eraBase = ts.seconds >= ERA0_MSB ? 0 : TWO_32;
  return (ts.seconds + eraBase - NTP_UNIX_OFFSET_S) * 1000 + (ts.fraction * 1000) / TWO_32;
}

/**
 * A 48-octet SNTP request (RFC 4330 clause 5): LI 0, VN 4, mode 3 (client), every other field
 * zero except the transmit timestamp, which carries `transmitTimeMs` (T1, Unix milliseconds).
 *
 * @throws WriterError when `transmitTimeMs` cannot be written (see {@link unixMsToNtp}).
 */
export function encodeRequest(transmitTimeMs: number): Uint8Array {
  const out = new Uint8Array(NTP_PACKET_LENGTH);
  out[NtpField.flags] = (LeapIndicator.noWarning << 6) | (NTP_VERSION << 3) | NtpMode.client;
  writeTimestamp(out, NtpField.transmitTimestamp, unixMsToNtp(transmitTimeMs));
  return out;
}

/** What can be wrong with a server's reply (RFC 5905, RFC 4330), for counting; `reason` says more. */
export const SNTP_FAILURES = ['short', 'bad-mode', 'bogus-originate', 'kiss-o-death', 'unsynchronised', 'zero-timestamp'] as const;
export type SntpFailure = (typeof SNTP_FAILURES)[number];

/**
 * Decodes and checks a server's reply to the request sent at `originateMs` (T1, the value given
 * to {@link encodeRequest}); `receivedMs` is when the reply arrived (T4). Octets after the first 48
 * (extension fields, MAC) are ignored.
 *
 * Rejected, in this order so a spoofed kiss-o'-death cannot make us back off: fewer than 48
 * octets; a mode other than server (4) or broadcast (5); an originate timestamp that is not our
 * transmit timestamp (a reply to someone else's request, or a replay; RFC 5905 clause 8);
 * stratum 0, reported with its kiss code (RFC 5905 clause 7.4); stratum above 15; leap
 * indicator 3 (server not synchronised); a zero receive or transmit timestamp (RFC 4330 clause 5).
 */
export function decodeResponse(bytes: Uint8Array, originateMs: number, receivedMs: number): Ok<SntpReply> | DecodeFailure<SntpFailure> {
  if (bytes.length < NTP_PACKET_LENGTH) {
    return fail(NTP_LAYER, bytes.length, `reply too short: ${bytes.length} octet(s), need ${NTP_PACKET_LENGTH}`, 'short');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, NTP_PACKET_LENGTH);
  const flags = view.getUint8(NtpField.flags);
  const leap = (flags >>> 6) as LeapIndicator;
  const version = (flags >>> 3) & 0x07;
  const mode = (flags & 0x07) as NtpMode;
  const stratum = view.getUint8(NtpField.stratum);

  if (mode !== NtpMode.server && mode !== NtpMode.broadcast) {
    return fail(
      NTP_LAYER,
      NtpField.flags,
      `mode ${mode} (${MODE_NAMES[mode] ?? '?'}) is not a server (4) or broadcast (5) reply`,
      'bad-mode',
    );
  }

  const originate = readTimestamp(view, NtpField.originateTimestamp);
  const bogus = checkOriginate(originate, originateMs);
  if (bogus !== undefined) return bogus;

  if (stratum === 0) {
    const code = refIdAscii(bytes.subarray(NtpField.referenceId, NtpField.referenceId + 4));
    const meaning = (KissCode as Readonly<Record<string, string>>)[code] ?? 'unknown kiss code';
    return fail(NTP_LAYER, NtpField.referenceId, `kiss-o'-death ${code}: ${meaning}`, 'kiss-o-death');
  }
  if (stratum > MAX_STRATUM) {
    return fail(NTP_LAYER, NtpField.stratum, `stratum ${stratum}: server not synchronised`, 'unsynchronised');
  }
  if (leap === LeapIndicator.unsynchronised) {
    return fail(NTP_LAYER, NtpField.flags, 'leap indicator 3: server clock not synchronised', 'unsynchronised');
  }

  const transmit = readTimestamp(view, NtpField.transmitTimestamp);
  if (isZero(transmit)) return fail(NTP_LAYER, NtpField.transmitTimestamp, 'transmit timestamp is zero', 'zero-timestamp');
  const receive = readTimestamp(view, NtpField.receiveTimestamp);
  if (isZero(receive)) return fail(NTP_LAYER, NtpField.receiveTimestamp, 'receive timestamp is zero', 'zero-timestamp');
  const reference = readTimestamp(view, NtpField.referenceTimestamp);

  const t1 = originateMs;
  const t2 = ntpToUnixMs(receive);
  const t3 = ntpToUnixMs(transmit);
  const t4 = receivedMs;
  return ok({
    leap,
    version,
    mode,
    stratum,
    poll: view.getInt8(NtpField.poll),
    precision: view.getInt8(NtpField.precision),
    rootDelayMs: shortToMs(view.getUint32(NtpField.rootDelay)),
    rootDispersionMs: shortToMs(view.getUint32(NtpField.rootDispersion)),
    referenceId: formatReferenceId(bytes.subarray(NtpField.referenceId, NtpField.referenceId + 4), stratum),
    referenceMs: isZero(reference) ? undefined : ntpToUnixMs(reference),
    originateMs: ntpToUnixMs(originate),
    receiveMs: t2,
    transmitMs: t3,
    destinationMs: t4,
    offsetMs: (t2 - t1 + (t3 - t4)) / 2,
    delayMs: t4 - t1 - (t3 - t2),
  });
}

/** Compares on the wire format, so the check is exact and needs no era arithmetic. */
function checkOriginate(originate: NtpTimestamp, originateMs: number): DecodeFailure<SntpFailure> | undefined {
  let expected: NtpTimestamp;
  try {
    expected = unixMsToNtp(originateMs);
  } catch (e) {
    return fail(
      NTP_LAYER,
      NtpField.originateTimestamp,
      `our transmit time is not representable: ${(e as Error).message}`,
      'bogus-originate',
    );
  }
  if (originate.seconds === expected.seconds && originate.fraction === expected.fraction) return undefined;
  return fail(
    NTP_LAYER,
    NtpField.originateTimestamp,
    `originate timestamp ${hex32(originate.seconds)}.${hex32(originate.fraction)} is not our transmit timestamp ` +
      `${hex32(expected.seconds)}.${hex32(expected.fraction)}: bogus or replayed reply`,
    'bogus-originate',
  );
}

function writeTimestamp(out: Uint8Array, at: number, ts: NtpTimestamp): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(at, ts.seconds);
  view.setUint32(at + 4, ts.fraction);
}

function readTimestamp(view: DataView, at: number): NtpTimestamp {
  return { seconds: view.getUint32(at), fraction: view.getUint32(at + 4) };
}

function isZero(ts: NtpTimestamp): boolean {
  return ts.seconds === 0 && ts.fraction === 0;
}

/** NTP short format (16.16 seconds) to milliseconds. */
function shortToMs(v: number): number {
  return (v * 1000) / 0x1_0000;
}

function formatReferenceId(id: Uint8Array, stratum: number): string {
  return stratum <= 1 ? refIdAscii(id) : Array.from(id).join('.');
}

/** Four ASCII octets, NUL-padded on the right; anything unprintable is shown as hex instead. */
function refIdAscii(id: Uint8Array): string {
  let end = id.length;
  while (end > 0 && id[end - 1] === 0) end--;
  const used = id.subarray(0, end);
  if (used.every((c) => c >= 0x20 && c < 0x7f)) return String.fromCharCode(...used);
  return `0x${Array.from(id, (c) => c.toString(16).padStart(2, '0')).join('')}`;
}

function hex32(v: number): string {
  return v.toString(16).padStart(8, '0');
}
