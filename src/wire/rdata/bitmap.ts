// NSEC/NSEC3/CSYNC type bit maps (RFC 4034 §4.1.2): window blocks of up to 32 octets, one bit per RR type.

import { RdataError } from '../rdata-api.js';

/**
 * Encode a set of RR types as window blocks (RFC 4034 §4.1.2): ascending windows, each `window, length, bitmap`
 * with trailing zero octets dropped and empty windows omitted. Duplicates are ignored; order does not matter.
 */
export function typeBitmapToWire(types: readonly number[]): Uint8Array {
  if (types.length === 0) return new Uint8Array(0);
  const sorted = [...new Set(types)].sort((a, b) => a - b);
  const out: number[] = [];
  let i = 0;
  while (i < sorted.length) {
    const window = sorted[i]! >> 8;
    const bits = new Uint8Array(32);
    let maxOctet = 0;
    while (i < sorted.length && sorted[i]! >> 8 === window) {
      const low = sorted[i]! & 0xff;
      bits[low >> 3]! |= 0x80 >> (low & 7);
      if (low >> 3 > maxOctet) maxOctet = low >> 3;
      i++;
    }
    out.push(window, maxOctet + 1);
    for (let j = 0; j <= maxOctet; j++) out.push(bits[j]!);
  }
  return Uint8Array.from(out);
}

/**
 * Decode window blocks from `buf[start..end)` into ascending type codes. Throws RdataError(…, 0) when malformed
 * (RFC 4034 §4.1.2: windows strictly ascending, length 1..32, no trailing zero octet, no truncation).
 */
export function typeBitmapFromWire(buf: Uint8Array, start = 0, end = buf.length): number[] {
  const types: number[] = [];
  let p = start;
  let last = -1;
  while (p < end) {
    if (p + 2 > end) throw new RdataError('type bit map: truncated window header', 0);
    const window = buf[p]!;
    const len = buf[p + 1]!;
    if (window <= last) throw new RdataError('type bit map: windows not in strictly increasing order', 0);
    if (len < 1 || len > 32) throw new RdataError(`type bit map: window length ${len} outside 1..32`, 0);
    if (p + 2 + len > end) throw new RdataError('type bit map: window runs past the end of the RDATA', 0);
    if (buf[p + 1 + len] === 0) throw new RdataError('type bit map: trailing zero octet in window', 0);
    for (let j = 0; j < len; j++) {
      const octet = buf[p + 2 + j]!;
      if (octet === 0) continue;
      for (let b = 0; b < 8; b++) if (octet & (0x80 >> b)) types.push((window << 8) | (j << 3) | b);
    }
    last = window;
    p += 2 + len;
  }
  return types;
}

/** True when `type` is set in the (already validated) bit map at `buf[start..end)`. No allocation. */
export function typeBitmapHas(buf: Uint8Array, type: number, start = 0, end = buf.length): boolean {
  const window = type >> 8;
  const octet = (type & 0xff) >> 3;
  let p = start;
  while (p + 2 <= end) {
    const w = buf[p]!;
    const len = buf[p + 1]!;
    if (w === window) return octet < len && ((buf[p + 2 + octet] ?? 0) & (0x80 >> (type & 7))) !== 0;
    if (w > window) return false;
    p += 2 + len;
  }
  return false;
}
