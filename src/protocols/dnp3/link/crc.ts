/**
 * CRC-16/DNP of IEEE 1815-2012 Annex E: generator polynomial 0x3D65 (x^16 + x^13 + x^12 + x^11 +
 * x^10 + x^8 + x^6 + x^5 + x^2 + 1), processed least significant bit first (the reflected
 * polynomial 0xA6BC), initial value 0, result complemented. The link layer (clause 9) sends it
 * low octet first after the header and after every user data block of up to 16 octets.
 *
 * Catalogue check value: the CRC of the ASCII octets "123456789" is 0xEA82.
 */

/** The reflected form of the generator polynomial 0x3D65. */
const POLY_REFLECTED = 0xa6bc;

/** One row per value of the octet being shifted in (Annex E computes the same table). */
const TABLE: Uint16Array = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY_REFLECTED : c >>> 1;
    t[i] = c;
  }
  return t;
})();

/**
 * CRC-16/DNP of `bytes[start..end)`. The value is the 16-bit number whose low octet goes first on
 * the wire: a block followed by `crc & 0xff, crc >>> 8` is valid.
 */
export function crcDnp(bytes: Uint8Array, start = 0, end: number = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ TABLE[(crc ^ bytes[i]!) & 0xff]!;
  return ~crc & 0xffff;
}

/** Whether `bytes[start..end)` is followed, at `end`, by its CRC (low octet first). */
export function crcDnpMatches(bytes: Uint8Array, start: number, end: number): boolean {
  return crcDnp(bytes, start, end) === (bytes[end]! | (bytes[end + 1]! << 8));
}
