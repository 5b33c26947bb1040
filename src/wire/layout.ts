// Domain names inside RDATA per type: compression rules, canonical lowercasing, decompression on receipt.

import { RRType } from './constants.js';
import { WireError } from './message.js';
import { foldOctet } from './name.js';

/** One field of an RDATA layout. */
export type LayoutField =
  | { readonly kind: 'name' }
  | { readonly kind: 'fixed'; readonly len: number }
  | { readonly kind: 'cstr' } // <character-string>: length octet + data (RFC 1035 §3.3)
  | { readonly kind: 'rest' }; // everything up to the end of the RDATA

export type Layout = readonly LayoutField[];

const N: LayoutField = Object.freeze({ kind: 'name' });
const C: LayoutField = Object.freeze({ kind: 'cstr' });
const R: LayoutField = Object.freeze({ kind: 'rest' });
const F = (len: number): LayoutField => Object.freeze({ kind: 'fixed', len });

const layouts = new Map<number, Layout>();
function def(types: readonly number[], layout: Layout): void {
  const frozen = Object.freeze(layout.slice());
  for (const t of types) layouts.set(t, frozen);
}
// RFC 1035 §3.3 single-name types, RFC 6672 DNAME.
def([RRType.NS, RRType.MD, RRType.MF, RRType.CNAME, RRType.MB, RRType.MG, RRType.MR, RRType.PTR, RRType.DNAME], [N]);
// RFC 1035 §3.3.9 MX, RFC 1183 §1 AFSDB, §3.3 RT, RFC 2230 §3 KX: preference + name.
def([RRType.MX, RRType.AFSDB, RRType.RT, RRType.KX], [F(2), N]);
// RFC 1035 §3.3.13 SOA: MNAME, RNAME, five 32-bit fields.
def([RRType.SOA], [N, N, F(20)]);
// RFC 1035 §3.3.7 MINFO, RFC 1183 §2.2 RP.
def([RRType.MINFO, RRType.RP], [N, N]);
// RFC 2163 §4 PX: preference, MAP822, MAPX400.
def([RRType.PX], [F(2), N, N]);
// RFC 2782 SRV: priority, weight, port, target.
def([RRType.SRV], [F(6), N]);
// RFC 3403 §4.1 NAPTR: order, preference, flags, services, regexp, replacement.
def([RRType.NAPTR], [F(4), C, C, C, N]);
// RFC 4034 §3.1 RRSIG / RFC 2535 §4.1 SIG: 18 octets, signer's name, signature.
def([RRType.RRSIG, RRType.SIG], [F(18), N, R]);
// RFC 4034 §4.1 NSEC / RFC 2535 §5.2 NXT: next name, type bitmap.
def([RRType.NSEC, RRType.NXT], [N, R]);
// RFC 9460 §2.2 SVCB/HTTPS: priority, target name, parameters.
def([RRType.SVCB, RRType.HTTPS], [F(2), N, R]);

/** Field layout of a type whose RDATA embeds domain names; undefined for types without names (or unknown). */
export function rdataNameLayout(type: number): Layout | undefined {
  return layouts.get(type);
}

function flagTable(types: readonly number[]): Uint8Array {
  const t = new Uint8Array(256);
  for (const x of types) t[x] = 1;
  return t;
}

// RFC 3597 §4: only the well-known RFC 1035 types may have their embedded names compressed on output.
const COMPRESSIBLE = flagTable([
  RRType.NS, RRType.MD, RRType.MF, RRType.CNAME, RRType.SOA, RRType.MB, RRType.MG, RRType.MR, RRType.PTR,
  RRType.MINFO, RRType.MX,
]);

// RFC 3597 §4: receivers MUST decompress the RFC 1035 types and SHOULD decompress RP, AFSDB, RT, SIG, PX, NXT,
// NAPTR, SRV; KX, DNAME, RRSIG, NSEC added for robustness against servers that compress them anyway.
const DECOMPRESSIBLE = flagTable([
  RRType.NS, RRType.MD, RRType.MF, RRType.CNAME, RRType.SOA, RRType.MB, RRType.MG, RRType.MR, RRType.PTR,
  RRType.MINFO, RRType.MX, RRType.RP, RRType.AFSDB, RRType.RT, RRType.SIG, RRType.PX, RRType.NXT, RRType.NAPTR,
  RRType.SRV, RRType.KX, RRType.DNAME, RRType.RRSIG, RRType.NSEC,
]);

// RFC 4034 §6.2 item 3, minus NSEC per RFC 6840 §5.1 (HINFO is listed but has no names).
const CANONICAL_LOWER = flagTable([
  RRType.NS, RRType.MD, RRType.MF, RRType.CNAME, RRType.SOA, RRType.MB, RRType.MG, RRType.MR, RRType.PTR,
  RRType.MINFO, RRType.MX, RRType.RP, RRType.AFSDB, RRType.RT, RRType.SIG, RRType.PX, RRType.NXT, RRType.NAPTR,
  RRType.KX, RRType.SRV, RRType.DNAME, RRType.A6, RRType.RRSIG,
]);

/** May names embedded in this type's RDATA be compressed on output? (RFC 3597 §4.) */
export function compressibleRdata(type: number): boolean {
  return type < 256 && COMPRESSIBLE[type] === 1;
}

/** Are names in this type's RDATA decompressed when received? (RFC 3597 §4.) */
export function decompressibleRdata(type: number): boolean {
  return type < 256 && DECOMPRESSIBLE[type] === 1;
}

/** Length of the uncompressed name at `pos` that must end before `end`; throws WireError otherwise. */
function plainNameLength(buf: Uint8Array, pos: number, end: number): number {
  let p = pos;
  for (;;) {
    if (p >= end) throw new WireError('bad-rdata', 'name in RDATA runs past its end');
    const len = buf[p]!;
    if (len === 0) break;
    if (len > 63) throw new WireError('bad-label', 'compression pointer or bad label type in uncompressed RDATA name');
    p += len + 1;
  }
  const n = p + 1 - pos;
  // RFC 1035 §2.3.4: 255 octets at most.
  if (n > 255) throw new WireError('name-too-long', 'name in RDATA longer than 255 octets');
  return n;
}

/**
 * Octets taken by a non-name field at `p` of RDATA ending at `end`; throws WireError when it does not fit.
 */
function dataFieldLength(f: Exclude<LayoutField, { readonly kind: 'name' }>, buf: Uint8Array, p: number, end: number): number {
  switch (f.kind) {
    case 'fixed':
      if (p + f.len > end) throw new WireError('bad-rdata', 'RDATA too short for its type');
      return f.len;
    case 'cstr': {
      // RFC 1035 §3.3: length octet + that many octets.
      if (p >= end) throw new WireError('bad-rdata', 'RDATA too short for its type');
      const n = 1 + buf[p]!;
      if (p + n > end) throw new WireError('bad-rdata', 'character-string runs past the end of RDATA');
      return n;
    }
    case 'rest':
      return end - p;
    default: {
      const never: never = f;
      throw new Error(`unknown layout field ${String(never)}`);
    }
  }
}

/**
 * Calls `onName(start, length)` for every embedded name of an uncompressed RDATA laid out as `layout`, checking the
 * fields fit. Returns nothing; throws WireError when RDATA does not match the layout.
 */
export function forEachRdataName(
  layout: Layout,
  rdata: Uint8Array,
  onName: (start: number, length: number) => void,
): void {
  const end = rdata.length;
  let p = 0;
  for (const f of layout) {
    if (f.kind === 'name') {
      const n = plainNameLength(rdata, p, end);
      onName(p, n);
      p += n;
    } else {
      p += dataFieldLength(f, rdata, p, end);
    }
  }
  if (p !== end) throw new WireError('bad-rdata', 'RDATA longer than its type allows');
}

/** A6 (RFC 2874 §3.1.1): prefix length, address suffix of ceil((128-prefix)/8) octets, prefix name when prefix > 0. */
function a6NameSpan(rdata: Uint8Array): [number, number] | undefined {
  const prefix = rdata[0];
  if (prefix === undefined || prefix > 128) throw new WireError('bad-rdata', 'A6 prefix length missing or above 128');
  const start = 1 + Math.ceil((128 - prefix) / 8);
  if (prefix === 0) {
    if (start !== rdata.length) throw new WireError('bad-rdata', 'A6 RDATA length does not match its prefix');
    return undefined;
  }
  const n = plainNameLength(rdata, start, rdata.length);
  if (start + n !== rdata.length) throw new WireError('bad-rdata', 'A6 RDATA longer than its fields');
  return [start, n];
}

function hasUpper(buf: Uint8Array, start: number, len: number): boolean {
  for (let i = start; i < start + len; i++) {
    const c = buf[i]!;
    if (c >= 65 && c <= 90) return true;
  }
  return false;
}

/** Lowercase A-Z in the labels of the uncompressed name at `start` (length octets are < 64, never A-Z). */
function lowerInPlace(buf: Uint8Array, start: number, len: number): void {
  for (let i = start; i < start + len; i++) buf[i] = foldOctet(buf[i]!);
}

/**
 * RDATA in canonical form (RFC 4034 §6.2 item 3, RFC 6840 §5.1): embedded names lowercased for the listed types.
 * Returns the same array when nothing changes. Throws WireError on malformed RDATA of those types.
 */
export function canonicalRdata(type: number, rdata: Uint8Array): Uint8Array {
  if (type >= 256 || CANONICAL_LOWER[type] !== 1) return rdata;
  const spans: number[] = [];
  if (type === RRType.A6) {
    const s = a6NameSpan(rdata);
    if (s) spans.push(s[0], s[1]);
  } else {
    const layout = layouts.get(type);
    if (!layout) return rdata; // HINFO: listed, but no names
    forEachRdataName(layout, rdata, (start, length) => {
      spans.push(start, length);
    });
  }
  let out = rdata;
  for (let i = 0; i < spans.length; i += 2) {
    const start = spans[i]!;
    const len = spans[i + 1]!;
    if (!hasUpper(rdata, start, len)) continue;
    if (out === rdata) out = rdata.slice();
    lowerInPlace(out, start, len);
  }
  return out;
}

/** Result slot of expandName (module-level to avoid a per-call allocation). */
export const nameCursor = { next: 0, length: 0 };

/**
 * Reads a possibly compressed name at `pos` of message `msg`; the name's own octets (before any pointer) must lie
 * below `end`. Writes the uncompressed form into `out` at `outPos` when `out` is given. Sets nameCursor.next to
 * the offset after the name in the original stream and nameCursor.length to its uncompressed length.
 * RFC 1035 §4.1.4: a pointer must refer to a prior occurrence, so each pointer must point strictly before the
 * start of the run of labels that contains it; that rule alone makes loops impossible.
 */
export function expandName(msg: Uint8Array, pos: number, end: number, out: Uint8Array | null, outPos: number): void {
  let p = pos;
  let runStart = pos;
  let limit = end;
  let next = -1;
  let len = 0;
  let hops = 0;
  for (;;) {
    if (p >= limit) throw new WireError('truncated', 'name runs past the end of the data');
    const b = msg[p]!;
    if (b === 0) {
      len += 1;
      if (out) out[outPos + len - 1] = 0;
      if (next < 0) next = p + 1;
      break;
    }
    const top = b & 0xc0;
    if (top === 0xc0) {
      if (p + 1 >= limit) throw new WireError('truncated', 'compression pointer cut off');
      const target = ((b & 0x3f) << 8) | msg[p + 1]!;
      if (target >= runStart) throw new WireError('bad-pointer', `compression pointer to ${target} does not point backwards`);
      if (++hops > 127) throw new WireError('pointer-loop', 'too many compression pointers');
      if (next < 0) next = p + 2;
      p = target;
      runStart = target;
      limit = msg.length; // labels reached through a pointer may lie anywhere in the message
      continue;
    }
    if (top !== 0) throw new WireError('bad-label', `unsupported label type 0x${top.toString(16)}`);
    // RFC 1035 §2.3.4: at most 255 octets including the root label.
    if (len + b + 2 > 255) throw new WireError('name-too-long', 'name longer than 255 octets');
    if (p + 1 + b > limit) throw new WireError('truncated', 'label runs past the end of the data');
    if (out) {
      out[outPos + len] = b;
      out.set(msg.subarray(p + 1, p + 1 + b), outPos + len + 1);
    }
    len += b + 1;
    p += b + 1;
  }
  nameCursor.next = next;
  nameCursor.length = len;
}

/**
 * Uncompressed RDATA for a record read from a message: embedded names of the types listed in RFC 3597 §4 (plus a
 * few that some servers compress) are expanded. Other types are copied unchanged. Throws WireError on pointer
 * loops, pointers out of range, or RDATA that does not match the type's layout.
 */
export function decompressRdata(type: number, msg: Uint8Array, offset: number, rdlength: number): Uint8Array {
  const end = offset + rdlength;
  if (end > msg.length) throw new WireError('truncated', 'RDATA runs past the end of the message');
  // RFC 2136 §2.4.1, §2.5.2: UPDATE prerequisites and deletes carry empty RDATA of any type (class ANY/NONE).
  if (rdlength === 0) return new Uint8Array(0);
  const layout = decompressibleRdata(type) ? layouts.get(type) : undefined;
  if (!layout) return msg.slice(offset, end);
  let names = 0;
  for (const f of layout) if (f.kind === 'name') names++;
  const out = new Uint8Array(rdlength + names * 255);
  let p = offset;
  let o = 0;
  for (const f of layout) {
    if (f.kind === 'name') {
      expandName(msg, p, end, out, o);
      p = nameCursor.next;
      o += nameCursor.length;
    } else {
      const n = dataFieldLength(f, msg, p, end);
      out.set(msg.subarray(p, p + n), o);
      p += n;
      o += n;
    }
  }
  if (p !== end) throw new WireError('bad-rdata', 'RDATA longer than its type allows');
  return out.slice(0, o);
}
