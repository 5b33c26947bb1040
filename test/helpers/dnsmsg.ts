// Strict, independent DNS message decoder for tests: header bits, question echo, RRs with decompressed RDATA
// and a case-folded comparison key, and the OPT pseudo-RR split out (RFC 1035 §4.1, RFC 6891 §6.1).

import { escapeLabel } from '../../src/wire/name.js';
import { classToString, typeToString } from '../../src/wire/constants.js';

export interface ParsedQuestion {
  /** Presentation form in the case the peer sent (question echo is compared case-sensitively). */
  readonly name: string;
  readonly type: number;
  readonly class: number;
}

export interface ParsedRR {
  /** Owner in presentation form, original case. */
  readonly owner: string;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  /** RDATA with embedded names decompressed (original case). */
  readonly rdata: Uint8Array;
  /** Human-readable RDATA. */
  readonly rdataText: string;
  /** Comparison key: RDATA with embedded names lowercased (RFC 4034 §6.2 canonical form), as hex. */
  readonly rdataKey: string;
}

export interface ParsedOpt {
  readonly udpSize: number;
  readonly extRcode: number;
  readonly version: number;
  /** The 16 EDNS flag bits (DO = 0x8000). */
  readonly flags: number;
  readonly options: readonly { readonly code: number; readonly data: Uint8Array }[];
}

export interface ParsedMessage {
  readonly id: number;
  /** The full 16-bit flags word (QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode). */
  readonly flags: number;
  readonly qr: boolean;
  readonly opcode: number;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  readonly ra: boolean;
  readonly ad: boolean;
  readonly cd: boolean;
  /** Header rcode combined with the OPT extended rcode (RFC 6891 §6.1.3). */
  readonly rcode: number;
  readonly counts: readonly [number, number, number, number];
  readonly question: readonly ParsedQuestion[];
  readonly answer: readonly ParsedRR[];
  readonly authority: readonly ParsedRR[];
  /** Additional section without OPT (and without TSIG/SIG(0), which are kept in `opt`/`tsig`). */
  readonly additional: readonly ParsedRR[];
  readonly opt: ParsedOpt | undefined;
  /** Number of OPT RRs seen (more than one is a FORMERR condition, RFC 6891 §6.1.1). */
  readonly optCount: number;
  readonly size: number;
}

export class DnsParseError extends Error {
  override readonly name = 'DnsParseError';
}

interface NameRead {
  readonly labels: readonly string[];
  /** Offset just after the name in the original position (after the first pointer, if any). */
  readonly end: number;
}

/** Read a possibly-compressed name (RFC 1035 §4.1.4). Pointers must point backwards; loops are rejected. */
function readName(buf: Uint8Array, offset: number): NameRead {
  const labels: string[] = [];
  let p = offset;
  let end = -1;
  let jumps = 0;
  let wire = 1;
  for (;;) {
    const len = buf[p];
    if (len === undefined) throw new DnsParseError(`name at ${offset} runs past the end`);
    if (len === 0) {
      p += 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      const lo = buf[p + 1];
      if (lo === undefined) throw new DnsParseError('truncated compression pointer');
      const target = ((len & 0x3f) << 8) | lo;
      if (end < 0) end = p + 2;
      if (target >= p || ++jumps > 127) throw new DnsParseError(`bad compression pointer at ${p}`);
      p = target;
      continue;
    }
    if (kind !== 0) throw new DnsParseError(`unsupported label type 0x${kind.toString(16)} at ${p}`);
    if (p + 1 + len > buf.length) throw new DnsParseError('label runs past the end');
    let s = '';
    for (let i = 0; i < len; i++) s += String.fromCharCode(buf[p + 1 + i]!);
    labels.push(s);
    wire += len + 1;
    // RFC 1035 §2.3.4: 255 octets max.
    if (wire > 255) throw new DnsParseError('name longer than 255 octets');
    p += 1 + len;
  }
  return { labels, end: end < 0 ? p : end };
}

export function nameText(labels: readonly string[]): string {
  return labels.length === 0 ? '.' : labels.map(escapeLabel).join('.') + '.';
}

function nameWire(labels: readonly string[], lower: boolean): number[] {
  const out: number[] = [];
  for (const l of labels) {
    out.push(l.length);
    for (let i = 0; i < l.length; i++) {
      const c = l.charCodeAt(i);
      out.push(lower && c >= 65 && c <= 90 ? c + 32 : c);
    }
  }
  out.push(0);
  return out;
}

/** RDATA layout: fixed-length prefix bytes, then names, then the rest (RFC 1035 §3.3, RFC 2782, RFC 6672...). */
type Part = { readonly fixed: number } | 'name' | 'rest';
const LAYOUT: ReadonlyMap<number, readonly Part[]> = new Map<number, readonly Part[]>([
  [2, ['name']], // NS
  [3, ['name']], // MD
  [4, ['name']], // MF
  [5, ['name']], // CNAME
  [6, ['name', 'name', { fixed: 20 }]], // SOA
  [7, ['name']], // MB
  [8, ['name']], // MG
  [9, ['name']], // MR
  [12, ['name']], // PTR
  [14, ['name', 'name']], // MINFO
  [15, [{ fixed: 2 }, 'name']], // MX
  [17, ['name', 'name']], // RP
  [18, [{ fixed: 2 }, 'name']], // AFSDB
  [21, [{ fixed: 2 }, 'name']], // RT
  [26, [{ fixed: 2 }, 'name', 'name']], // PX
  [33, [{ fixed: 6 }, 'name']], // SRV
  [36, [{ fixed: 2 }, 'name']], // KX
  [39, ['name']], // DNAME
]);

function decodeRdata(
  buf: Uint8Array,
  start: number,
  len: number,
  type: number,
): { rdata: Uint8Array; key: Uint8Array; text: string } {
  const layout = LAYOUT.get(type);
  const raw = buf.subarray(start, start + len);
  if (layout === undefined) {
    return { rdata: raw.slice(), key: raw.slice(), text: renderOpaque(type, raw) };
  }
  const out: number[] = [];
  const key: number[] = [];
  const texts: string[] = [];
  let p = start;
  const endAt = start + len;
  for (const part of layout) {
    if (part === 'name') {
      const n = readName(buf, p);
      if (n.end > endAt) throw new DnsParseError(`${typeToString(type)} RDATA name overruns RDLENGTH`);
      out.push(...nameWire(n.labels, false));
      key.push(...nameWire(n.labels, true));
      texts.push(nameText(n.labels));
      p = n.end;
    } else if (part === 'rest') {
      for (let i = p; i < endAt; i++) {
        out.push(buf[i]!);
        key.push(buf[i]!);
      }
      p = endAt;
    } else {
      if (p + part.fixed > endAt) throw new DnsParseError(`${typeToString(type)} RDATA too short`);
      const v: number[] = [];
      for (let i = 0; i < part.fixed; i++) v.push(buf[p + i]!);
      out.push(...v);
      key.push(...v);
      texts.push(fixedText(type, v));
      p += part.fixed;
    }
  }
  if (p !== endAt) throw new DnsParseError(`${typeToString(type)} RDATA has ${endAt - p} trailing octets`);
  return { rdata: Uint8Array.from(out), key: Uint8Array.from(key), text: texts.join(' ') };
}

function fixedText(type: number, v: readonly number[]): string {
  const u16 = (i: number): number => ((v[i] ?? 0) << 8) | (v[i + 1] ?? 0);
  const u32 = (i: number): number => u16(i) * 65536 + u16(i + 2);
  if (type === 6) return [u32(0), u32(4), u32(8), u32(12), u32(16)].join(' ');
  if (type === 33) return [u16(0), u16(2), u16(4)].join(' ');
  return String(u16(0));
}

function renderOpaque(type: number, raw: Uint8Array): string {
  if (type === 1 && raw.length === 4) return Array.from(raw).join('.');
  if (type === 28 && raw.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push((((raw[i] ?? 0) << 8) | (raw[i + 1] ?? 0)).toString(16));
    return groups.join(':');
  }
  if (type === 16) {
    const parts: string[] = [];
    let p = 0;
    while (p < raw.length) {
      const l = raw[p]!;
      let s = '';
      for (let i = 0; i < l && p + 1 + i < raw.length; i++) {
        const c = raw[p + 1 + i]!;
        s += c === 0x22 || c === 0x5c ? '\\' + String.fromCharCode(c) : c < 0x20 || c > 0x7e ? '\\' + String(c).padStart(3, '0') : String.fromCharCode(c);
      }
      parts.push(`"${s}"`);
      p += 1 + l;
    }
    return parts.join(' ');
  }
  return `\\# ${raw.length} ${Buffer.from(raw).toString('hex')}`;
}

function u16(buf: Uint8Array, p: number): number {
  const a = buf[p];
  const b = buf[p + 1];
  if (a === undefined || b === undefined) throw new DnsParseError(`message truncated at ${p}`);
  return (a << 8) | b;
}

/** Decode a whole DNS message. Throws DnsParseError on anything malformed, including trailing garbage. */
export function parseMessage(buf: Uint8Array): ParsedMessage {
  if (buf.length < 12) throw new DnsParseError(`message is ${buf.length} octets, shorter than a header`);
  const id = u16(buf, 0);
  const flags = u16(buf, 2);
  const counts: [number, number, number, number] = [u16(buf, 4), u16(buf, 6), u16(buf, 8), u16(buf, 10)];
  let p = 12;
  const question: ParsedQuestion[] = [];
  for (let i = 0; i < counts[0]; i++) {
    const n = readName(buf, p);
    p = n.end;
    question.push({ name: nameText(n.labels), type: u16(buf, p), class: u16(buf, p + 2) });
    p += 4;
  }
  const sections: ParsedRR[][] = [[], [], []];
  let opt: ParsedOpt | undefined;
  let optCount = 0;
  for (let s = 0; s < 3; s++) {
    const count = counts[s + 1]!;
    for (let i = 0; i < count; i++) {
      const n = readName(buf, p);
      p = n.end;
      const type = u16(buf, p);
      const cls = u16(buf, p + 2);
      const ttl = u16(buf, p + 4) * 65536 + u16(buf, p + 6);
      const rdlen = u16(buf, p + 8);
      p += 10;
      if (p + rdlen > buf.length) throw new DnsParseError(`RDATA of ${nameText(n.labels)} runs past the end`);
      if (type === 41 && s === 2) {
        // RFC 6891 §6.1.2: CLASS = UDP payload size, TTL = ext-rcode | version | flags.
        optCount++;
        const options: { code: number; data: Uint8Array }[] = [];
        let q = p;
        while (q < p + rdlen) {
          const code = u16(buf, q);
          const olen = u16(buf, q + 2);
          if (q + 4 + olen > p + rdlen) throw new DnsParseError('EDNS option overruns OPT RDATA');
          options.push({ code, data: buf.slice(q + 4, q + 4 + olen) });
          q += 4 + olen;
        }
        opt ??= { udpSize: cls, extRcode: ttl >>> 24, version: (ttl >>> 16) & 0xff, flags: ttl & 0xffff, options };
      } else {
        const d = decodeRdata(buf, p, rdlen, type);
        sections[s]!.push({
          owner: nameText(n.labels),
          type,
          class: cls,
          ttl,
          rdata: d.rdata,
          rdataText: d.text,
          rdataKey: Buffer.from(d.key).toString('hex'),
        });
      }
      p += rdlen;
    }
  }
  if (p !== buf.length) throw new DnsParseError(`${buf.length - p} trailing octets after the last record`);
  return {
    id,
    flags,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode: (flags & 0xf) | ((opt?.extRcode ?? 0) << 4),
    counts,
    question,
    answer: sections[0]!,
    authority: sections[1]!,
    additional: sections[2]!,
    opt,
    optCount,
    size: buf.length,
  };
}

/** One line per record, dig-like: `owner ttl class type rdata`. */
export function rrText(rr: ParsedRR): string {
  return `${rr.owner} ${rr.ttl} ${classToString(rr.class)} ${typeToString(rr.type)} ${rr.rdataText}`;
}
