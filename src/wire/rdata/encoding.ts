// Binary-to-text encodings used in RDATA presentation: hex (RFC 4648 §8), base64 (RFC 4648 §4), base32hex (RFC 4648 §7).

const HEX_UPPER = '0123456789ABCDEF';
const B32HEX = '0123456789ABCDEFGHIJKLMNOPQRSTUV';
const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Uppercase hex, as BIND prints it. */
export function hexEncode(data: Uint8Array, start = 0, end = data.length): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const b = data[i]!;
    s += HEX_UPPER[b >> 4]! + HEX_UPPER[b & 15]!;
  }
  return s;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Strict hex decode (either case, even length); undefined when malformed. */
export function hexDecode(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexDigit(text.charCodeAt(2 * i));
    const lo = hexDigit(text.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return undefined;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

/** Padded base64 (RFC 4648 §4). */
export function base64Encode(data: Uint8Array, start = 0, end = data.length): string {
  return Buffer.from(data.buffer, data.byteOffset + start, end - start).toString('base64');
}

/**
 * Strict base64 decode: alphabet, padding to a multiple of 4, and zero unused trailing bits (RFC 4648 §3.5, BIND
 * rejects non-canonical input too). Undefined when malformed.
 */
export function base64Decode(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !B64_RE.test(text)) return undefined;
  const buf = Buffer.from(text, 'base64');
  if (buf.toString('base64') !== text) return undefined;
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** Unpadded uppercase base32hex (RFC 4648 §7), as used for NSEC3 hashed owner names (RFC 5155 §3.3). */
export function base32hexEncode(data: Uint8Array, start = 0, end = data.length): string {
  let s = '';
  let acc = 0;
  let bits = 0;
  for (let i = start; i < end; i++) {
    acc = ((acc << 8) | data[i]!) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      s += B32HEX[(acc >> bits) & 31]!;
    }
  }
  if (bits > 0) s += B32HEX[(acc << (5 - bits)) & 31]!;
  return s;
}

function b32Digit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 86) return c - 55;
  if (c >= 97 && c <= 118) return c - 87;
  return -1;
}

/**
 * Strict unpadded base32hex decode (either case). The length must be a valid unpadded length (mod 8 in
 * {0,2,4,5,7}) and unused trailing bits must be zero; undefined otherwise.
 */
export function base32hexDecode(text: string): Uint8Array | undefined {
  const rem = text.length % 8;
  if (rem === 1 || rem === 3 || rem === 6) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let acc = 0;
  let bits = 0;
  let p = 0;
  for (let i = 0; i < text.length; i++) {
    const v = b32Digit(text.charCodeAt(i));
    if (v < 0) return undefined;
    acc = ((acc << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[p++] = (acc >> bits) & 0xff;
    }
  }
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}

/** Split `s` into space-separated chunks of `width` characters (BIND's one-line master-file style uses 56). */
export function splitChunks(s: string, width: number): string {
  if (s.length <= width) return s;
  const parts: string[] = [];
  for (let i = 0; i < s.length; i += width) parts.push(s.slice(i, i + width));
  return parts.join(' ');
}
