// Shared building blocks for the RDATA codecs: a token cursor, a byte writer and reader, and the scalar
// presentation formats (numbers, TTL-style durations, addresses, character-strings, times, mnemonics).

import { Name, NameError } from '../name.js';
import { RRType, typeFromString, typeToString } from '../constants.js';
import { RdataError, type RdataToken } from '../rdata-api.js';

/** Walks the RDATA tokens of one record; errors carry the index of the offending token. */
export class Cursor {
  i = 0;
  constructor(
    readonly tokens: readonly RdataToken[],
    readonly origin: Name,
  ) {}

  get done(): boolean {
    return this.i >= this.tokens.length;
  }

  /** Next token text; RdataError at tokens.length when missing. */
  next(what: string): string {
    const t = this.tokens[this.i];
    if (t === undefined) throw new RdataError(`missing ${what}`, this.tokens.length);
    this.i++;
    return t.text;
  }

  peek(): RdataToken | undefined {
    return this.tokens[this.i];
  }

  /** Error about the token just consumed by next(). */
  fail(message: string): never {
    throw new RdataError(message, Math.max(0, this.i - 1));
  }

  /** All remaining tokens concatenated (hex/base64 may be split over several tokens). */
  rest(): string {
    let s = '';
    while (this.i < this.tokens.length) s += this.tokens[this.i++]!.text;
    return s;
  }

  finish(): void {
    if (this.i < this.tokens.length) throw new RdataError('too many fields in RDATA', this.i);
  }
}

/** Growable byte sink for building wire RDATA at load time. */
export class Writer {
  private buf = new Uint8Array(64);
  length = 0;

  private grow(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.length));
    this.buf = nb;
  }

  u8(v: number): void {
    this.grow(1);
    this.buf[this.length++] = v;
  }

  u16(v: number): void {
    this.grow(2);
    this.buf[this.length++] = v >>> 8;
    this.buf[this.length++] = v & 0xff;
  }

  u32(v: number): void {
    this.grow(4);
    this.buf[this.length++] = v >>> 24;
    this.buf[this.length++] = (v >>> 16) & 0xff;
    this.buf[this.length++] = (v >>> 8) & 0xff;
    this.buf[this.length++] = v & 0xff;
  }

  bytes(b: Uint8Array): void {
    this.grow(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** Overwrite a 16-bit value at `at` (for length fields filled in afterwards). */
  setU16(at: number, v: number): void {
    this.buf[at] = v >>> 8;
    this.buf[at + 1] = v & 0xff;
  }

  name(n: Name): void {
    this.bytes(n.toWire());
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Bounds-checked reader over wire RDATA; every error is RdataError(…, 0). */
export class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  get left(): number {
    return this.buf.length - this.pos;
  }

  need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) throw new RdataError(`RDATA too short for ${what}`, 0);
  }

  u8(what = 'an 8-bit field'): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what = 'a 16-bit field'): number {
    this.need(2, what);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u32(what = 'a 32-bit field'): number {
    this.need(4, what);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const s = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  name(): Name {
    try {
      const n = Name.fromWire(this.buf, this.pos);
      this.pos += n.wireLength;
      return n;
    } catch (e) {
      if (e instanceof NameError) throw new RdataError(`bad domain name in RDATA: ${e.message}`, 0);
      throw e;
    }
  }

  end(): void {
    if (this.pos !== this.buf.length) throw new RdataError(`${this.buf.length - this.pos} trailing octets in RDATA`, 0);
  }
}

/** Parse a domain name token (RFC 1035 §5.1), completing relative names with the origin. */
export function parseName(c: Cursor, what: string): Name {
  const text = c.next(what);
  try {
    return Name.parse(text, c.origin);
  } catch (e) {
    if (e instanceof NameError) c.fail(`bad ${what} "${text}": ${e.message}`);
    throw e;
  }
}

const DECIMAL = /^[0-9]+$/;

/** Unsigned decimal integer with an upper bound. */
export function parseUint(c: Cursor, what: string, max: number): number {
  const text = c.next(what);
  if (!DECIMAL.test(text)) c.fail(`${what} "${text}" is not a decimal number`);
  const v = Number(text);
  if (v > max) c.fail(`${what} ${text} is out of range 0..${max}`);
  return v;
}

const UNIT: Readonly<Record<string, number>> = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };

/**
 * TTL-style duration as BIND accepts it in SOA timers: a plain number of seconds or a sequence of
 * `<n><unit>` with units w/d/h/m/s, case-insensitive (e.g. `1h30m`, `2w`). Undefined when malformed.
 */
export function durationFromText(text: string): number | undefined {
  if (DECIMAL.test(text)) {
    const v = Number(text);
    return v <= 0xffffffff ? v : undefined;
  }
  const re = /([0-9]+)([wdhmsWDHMS])/y;
  let total = 0;
  let p = 0;
  while (p < text.length) {
    re.lastIndex = p;
    const m = re.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT[m[2]!.toLowerCase()]!;
    p = re.lastIndex;
  }
  if (p === 0 || total > 0xffffffff) return undefined;
  return total;
}

export function parseDuration(c: Cursor, what: string): number {
  const text = c.next(what);
  const v = durationFromText(text);
  if (v === undefined) c.fail(`${what} "${text}" is not a number of seconds or a duration like 1h30m`);
  return v;
}

const IPV4_PART = /^(0|[1-9][0-9]{0,2})$/;

/** Strict dotted quad: exactly four decimal parts 0..255 without leading zeros (RFC 1035 §3.4.1 A RDATA). */
export function ipv4FromText(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!IPV4_PART.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

export function ipv4ToText(b: Uint8Array, off = 0): string {
  return `${b[off]!}.${b[off + 1]!}.${b[off + 2]!}.${b[off + 3]!}`;
}

const HEXGROUP = /^[0-9a-fA-F]{1,4}$/;

/** IPv6 text in any RFC 4291 §2.2 form, including `::` and a trailing embedded dotted quad. */
export function ipv6FromText(text: string): Uint8Array | undefined {
  const dbl = text.indexOf('::');
  if (dbl !== -1 && text.indexOf('::', dbl + 1) !== -1) return undefined;
  const head = dbl === -1 ? text : text.slice(0, dbl);
  const tail = dbl === -1 ? '' : text.slice(dbl + 2);
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === '' ? [] : tail.split(':');
  const words: number[] = [];
  const tailWords: number[] = [];
  const conv = (parts: string[], out: number[], last: boolean): boolean => {
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (last && i === parts.length - 1 && p.includes('.')) {
        const v4 = ipv4FromText(p);
        if (!v4) return false;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!HEXGROUP.test(p)) return false;
        out.push(parseInt(p, 16));
      }
    }
    return true;
  };
  if (dbl === -1) {
    if (!conv(headParts, words, true) || words.length !== 8) return undefined;
  } else {
    if (!conv(headParts, words, false) || !conv(tailParts, tailWords, true)) return undefined;
    // RFC 4291 §2.2: "::" stands for one or more groups of zeros.
    if (words.length + tailWords.length > 7) return undefined;
    while (words.length + tailWords.length < 8) words.push(0);
    words.push(...tailWords);
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

/**
 * RFC 5952 §4 text (lowercase, no leading zeros, longest run of two or more zero groups as "::", first on a tie),
 * with the dotted-quad tail that inet_ntop (and so BIND) uses for IPv4-compatible and IPv4-mapped addresses.
 */
export function ipv6ToText(b: Uint8Array, off = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestBase = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) s += ':';
      continue;
    }
    if (i !== 0) s += ':';
    // RFC 5952 §5 / RFC 4291 §2.5.5: ::a.b.c.d and ::ffff:a.b.c.d keep the IPv4 tail.
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 7 && w[7] !== 1) || (bestLen === 5 && w[5] === 0xffff))) {
      s += ipv4ToText(b, off + 12);
      break;
    }
    s += w[i]!.toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) s += ':';
  return s;
}

/**
 * Decode a <character-string> token (RFC 1035 §5.1): `\DDD` decimal escapes and `\X` quoting. With `max`, reject
 * longer results (255 for a length-prefixed string). Throws on malformed escapes.
 */
export function charStringFromText(c: Cursor, text: string, max: number, what: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 92) {
      if (i + 1 >= text.length) c.fail(`dangling "\\" in ${what}`);
      const d = text.slice(i + 1, i + 4);
      if (text.charCodeAt(i + 1) >= 48 && text.charCodeAt(i + 1) <= 57) {
        if (!/^[0-9]{3}$/.test(d) || Number(d) > 255) c.fail(`bad escape "\\${d}" in ${what}`);
        out.push(Number(d));
        i += 3;
      } else {
        out.push(text.charCodeAt(i + 1));
        i += 1;
      }
    } else if (ch > 0xff) {
      // Non-latin1 input (e.g. UTF-8 text from the file decoded as UTF-16): store its UTF-8 octets.
      const cp = text.codePointAt(i)!;
      const enc = Buffer.from(String.fromCodePoint(cp), 'utf8');
      for (const x of enc) out.push(x);
      if (cp > 0xffff) i++;
    } else {
      out.push(ch);
    }
  }
  if (out.length > max) c.fail(`${what} is ${out.length} octets, more than ${max}`);
  return Uint8Array.from(out);
}

/** BIND's quoted presentation of octets: `"` and `\` backslash-escaped, non-printables as \DDD (RFC 1035 §5.1). */
export function quoteBytes(b: Uint8Array, start: number, end: number): string {
  let s = '"';
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c < 0x20 || c >= 0x7f) s += '\\' + (c < 10 ? '00' : c < 100 ? '0' : '') + c;
    else if (c === 0x22 || c === 0x5c) s += '\\' + String.fromCharCode(c);
    else s += String.fromCharCode(c);
  }
  return s + '"';
}

/** Extra mnemonics BIND 9.18 knows that are not in the shared RRType table. */
const EXTRA_TYPES: ReadonlyMap<string, number> = new Map([
  ['NSAP-PTR', 23], ['GPOS', 27], ['EID', 31], ['NIMLOC', 32], ['ATMA', 34], ['SINK', 40], ['NINFO', 56],
  ['RKEY', 57], ['TALINK', 58], ['UINFO', 100], ['UID', 101], ['GID', 102], ['UNSPEC', 103], ['RESINFO', 261],
  ['WALLET', 262],
]);
const EXTRA_TYPE_NAMES: ReadonlyMap<number, string> = new Map([...EXTRA_TYPES].map(([k, v]) => [v, k]));

/** Type mnemonic as BIND 9.18 prints it (RFC 3597 §5 TYPEnnn when it has none). */
export function typeMnemonic(type: number): string {
  // BIND 9.18 predates NXNAME (128), so prints it as TYPE128.
  if (type === RRType.NXNAME) return 'TYPE128';
  return EXTRA_TYPE_NAMES.get(type) ?? typeToString(type);
}

export function typeFromMnemonic(text: string): number | undefined {
  return typeFromString(text) ?? EXTRA_TYPES.get(text.toUpperCase());
}

export function parseType(c: Cursor, what: string): number {
  const text = c.next(what);
  const t = typeFromMnemonic(text);
  if (t === undefined) c.fail(`unknown RR type "${text}"`);
  return t;
}

/** DNSSEC algorithm mnemonics (IANA "DNS Security Algorithm Numbers", names as BIND spells them). */
const SECALG: ReadonlyMap<string, number> = new Map([
  ['RSAMD5', 1], ['DH', 2], ['DSA', 3], ['ECC', 4], ['RSASHA1', 5], ['NSEC3DSA', 6], ['NSEC3RSASHA1', 7],
  ['RSASHA256', 8], ['RSASHA512', 10], ['ECCGOST', 12], ['ECDSAP256SHA256', 13], ['ECDSAP384SHA384', 14],
  ['ED25519', 15], ['ED448', 16], ['INDIRECT', 252], ['PRIVATEDNS', 253], ['PRIVATEOID', 254],
]);
const SECALG_NAMES: ReadonlyMap<number, string> = new Map([...SECALG].map(([k, v]) => [v, k]));

/** Algorithm field: number 0..255 or mnemonic (RFC 4034 App. A.1). */
export function parseSecAlg(c: Cursor, what: string): number {
  const text = c.next(what);
  if (DECIMAL.test(text)) {
    const v = Number(text);
    if (v > 255) c.fail(`${what} ${text} is out of range 0..255`);
    return v;
  }
  const v = SECALG.get(text.toUpperCase());
  if (v === undefined) c.fail(`unknown ${what} "${text}"`);
  return v;
}

export function secAlgMnemonic(v: number): string {
  return SECALG_NAMES.get(v) ?? String(v);
}

/** CERT type mnemonics (RFC 4398 §2.1). */
const CERTTYPE: ReadonlyMap<string, number> = new Map([
  ['PKIX', 1], ['SPKI', 2], ['PGP', 3], ['IPKIX', 4], ['ISPKI', 5], ['IPGP', 6], ['ACPKIX', 7], ['IACPKIX', 8],
  ['URI', 253], ['OID', 254],
]);
const CERTTYPE_NAMES: ReadonlyMap<number, string> = new Map([...CERTTYPE].map(([k, v]) => [v, k]));

export function parseCertType(c: Cursor): number {
  const text = c.next('certificate type');
  if (DECIMAL.test(text)) {
    const v = Number(text);
    if (v > 0xffff) c.fail(`certificate type ${text} is out of range 0..65535`);
    return v;
  }
  const v = CERTTYPE.get(text.toUpperCase());
  if (v === undefined) c.fail(`unknown certificate type "${text}"`);
  return v;
}

export function certTypeMnemonic(v: number): string {
  return CERTTYPE_NAMES.get(v) ?? String(v);
}

/** Seconds since the epoch (mod 2^32) from RRSIG `YYYYMMDDHHmmSS` or a plain number (RFC 4034 §3.2). */
export function sigTimeFromText(text: string): number | undefined {
  if (/^[0-9]{14}$/.test(text)) {
    const y = Number(text.slice(0, 4));
    const mo = Number(text.slice(4, 6));
    const d = Number(text.slice(6, 8));
    const h = Number(text.slice(8, 10));
    const mi = Number(text.slice(10, 12));
    const s = Number(text.slice(12, 14));
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
    const ms = Date.UTC(y, mo - 1, d, h, mi, s);
    if (new Date(ms).getUTCDate() !== d) return undefined;
    const secs = Math.floor(ms / 1000);
    // RFC 4034 §3.1.5: the field holds the time modulo 2^32.
    return ((secs % 0x100000000) + 0x100000000) % 0x100000000;
  }
  if (/^[0-9]{1,10}$/.test(text)) {
    const v = Number(text);
    return v <= 0xffffffff ? v : undefined;
  }
  return undefined;
}

/**
 * `YYYYMMDDHHmmSS` for a 32-bit time, choosing the instant within 2^31 seconds of now (RFC 4034 §3.1.5 serial
 * arithmetic, as BIND does).
 */
export function sigTimeToText(v: number, nowSecs = Math.floor(Date.now() / 1000)): string {
  const nowMod = nowSecs % 0x100000000;
  let diff = v - nowMod;
  if (diff >= 0x80000000) diff -= 0x100000000;
  else if (diff < -0x80000000) diff += 0x100000000;
  const d = new Date((nowSecs + diff) * 1000);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return (
    String(d.getUTCFullYear()).padStart(4, '0') + p2(d.getUTCMonth() + 1) + p2(d.getUTCDate()) +
    p2(d.getUTCHours()) + p2(d.getUTCMinutes()) + p2(d.getUTCSeconds())
  );
}
