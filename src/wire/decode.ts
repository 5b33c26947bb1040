// DNS message decoders: the never-throwing hot-path query decoder and the full message decoder for clients.

import { EdnsOption, Opcode, RRType } from './constants.js';
import { decompressRdata, expandName, nameCursor } from './layout.js';
import { Name, latin1 } from './name.js';
import {
  WireError,
  type DecodeResult,
  type EdnsInfo,
  type EdnsOptionData,
  type Message,
  type Query,
  type Question,
  type TsigInfo,
  type WireRR,
} from './message.js';

const DROP: DecodeResult = Object.freeze({ kind: 'drop' });
const NO_OPTIONS: readonly EdnsOptionData[] = Object.freeze([]);

/** Scratch for expanding names before turning them into Name values. */
const nameScratch = new Uint8Array(256);

function u16(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}

/** The fixed RR fields after an owner name, set by readRRFixed (one shared object: no allocation per record). */
const rrCursor = { type: 0, cls: 0, ttl: 0, rdStart: 0, rdEnd: 0 };

/** RFC 1035 §4.1.3: TYPE, CLASS, TTL, RDLENGTH at `p`, then RDATA; throws WireError when cut off before `len`. */
function readRRFixed(buf: Uint8Array, p: number, len: number): void {
  if (p + 10 > len) throw new WireError('truncated', 'RR header cut off');
  rrCursor.type = u16(buf, p);
  rrCursor.cls = u16(buf, p + 2);
  rrCursor.ttl = u32(buf, p + 4);
  rrCursor.rdStart = p + 10;
  rrCursor.rdEnd = p + 10 + u16(buf, p + 8);
  if (rrCursor.rdEnd > len) throw new WireError('truncated', 'RDATA runs past the end of the message');
}

/** Reads a possibly compressed name at `pos` as a Name; nameCursor.next is set to the offset after it. */
function readName(buf: Uint8Array, pos: number, end: number): Name {
  expandName(buf, pos, end, nameScratch, 0);
  const next = nameCursor.next;
  const name = Name.fromWire(nameScratch, 0);
  nameCursor.next = next;
  return name;
}

/** Parses OPT RDATA and fixed fields (RFC 6891 §6.1.2, §6.1.3); `copy` makes option data independent of `buf`. */
function parseOpt(buf: Uint8Array, cls: number, ttl: number, rdStart: number, rdEnd: number, copy: boolean): EdnsInfo {
  let options: EdnsOptionData[] | undefined;
  let p = rdStart;
  while (p < rdEnd) {
    // RFC 6891 §6.1.2: {OPTION-CODE, OPTION-LENGTH, OPTION-DATA} pairs filling RDATA exactly.
    if (p + 4 > rdEnd) throw new WireError('bad-opt', 'OPT option header runs past RDATA');
    const code = u16(buf, p);
    const len = u16(buf, p + 2);
    p += 4;
    if (p + len > rdEnd) throw new WireError('bad-opt', 'OPT option data runs past RDATA');
    const data = copy ? buf.slice(p, p + len) : buf.subarray(p, p + len);
    (options ??= []).push({ code, data });
    p += len;
  }
  return {
    udpSize: cls,
    extendedRcodeHigh: ttl >>> 24,
    version: (ttl >>> 16) & 0xff,
    flags: ttl & 0xffff,
    options: options ?? NO_OPTIONS,
  };
}

/** Parses TSIG RDATA (RFC 8945 §4.2); the RR starts at `rrStart`. */
function parseTsig(
  buf: Uint8Array,
  rrStart: number,
  owner: Name,
  cls: number,
  ttl: number,
  rdStart: number,
  rdEnd: number,
  copy: boolean,
): TsigInfo {
  const algorithm = readName(buf, rdStart, rdEnd);
  let p = nameCursor.next;
  if (p + 10 > rdEnd) throw new WireError('bad-tsig', 'TSIG RDATA too short');
  const timeSigned = u16(buf, p) * 0x100000000 + u32(buf, p + 2);
  const fudge = u16(buf, p + 6);
  const macLen = u16(buf, p + 8);
  p += 10;
  if (p + macLen + 6 > rdEnd) throw new WireError('bad-tsig', 'TSIG MAC runs past RDATA');
  const mac = copy ? buf.slice(p, p + macLen) : buf.subarray(p, p + macLen);
  p += macLen;
  const originalId = u16(buf, p);
  const error = u16(buf, p + 2);
  const otherLen = u16(buf, p + 4);
  p += 6;
  if (p + otherLen !== rdEnd) throw new WireError('bad-tsig', 'TSIG other data does not match RDATA length');
  const otherData = copy ? buf.slice(p, p + otherLen) : buf.subarray(p, p + otherLen);
  return { offset: rrStart, name: owner, class: cls, ttl, algorithm, timeSigned, fudge, mac, originalId, error, otherData };
}

/**
 * What peekPlainQuery found (one shared object, overwritten by every call: no allocation on the hot path).
 * `questionEnd` is the offset after QCLASS; the EDNS fields are meaningful only when `edns` is true.
 */
export const plainQuery = { questionEnd: 0, edns: false, udpSize: 0, ednsFlags: 0, nsid: false, cookieAt: -1, cookieLength: 0 };

/**
 * True when `buf` is a plain query: QR=0, opcode QUERY, one question, no answer or authority records, at most one
 * additional record and that an OPT of EDNS version 0 owned by the root, nothing after it. Fills `plainQuery`.
 * decodeQuery accepts every packet this accepts and reads the same question and EDNS fields from it; this only
 * finds the bytes the answer cache is keyed by without building a Query. Never throws.
 */
export function peekPlainQuery(buf: Uint8Array): boolean {
  const len = buf.length;
  // RFC 1035 §4.1.1: QR=0 and opcode 0 (QUERY); QDCOUNT 1, ANCOUNT 0, NSCOUNT 0, ARCOUNT 0 or 1.
  if (len < 17 || (buf[2]! & 0xf8) !== 0 || buf[4] !== 0 || buf[5] !== 1) return false;
  if (buf[6] !== 0 || buf[7] !== 0 || buf[8] !== 0 || buf[9] !== 0 || buf[10] !== 0 || buf[11]! > 1) return false;
  // QNAME as plain labels (RFC 1035 §4.1.2; no pointer can precede it), at most 255 octets (§2.3.4).
  let p = 12;
  for (;;) {
    const l = buf[p]!;
    if (l === 0) break;
    if (l > 63) return false;
    p += l + 1;
    if (p - 12 > 254 || p >= len) return false;
  }
  p += 5;
  if (p > len) return false;
  plainQuery.questionEnd = p;
  plainQuery.edns = false;
  plainQuery.cookieAt = -1;
  if (buf[11] === 0) return p === len;
  // RFC 6891 §6.1.2: OPT owned by the root, TYPE 41, CLASS = UDP payload size, TTL = extended RCODE, VERSION, flags.
  if (p + 11 > len || buf[p] !== 0 || u16(buf, p + 1) !== RRType.OPT || buf[p + 6] !== 0) return false;
  const rdEnd = p + 11 + u16(buf, p + 9);
  if (rdEnd !== len) return false;
  plainQuery.edns = true;
  plainQuery.udpSize = u16(buf, p + 3);
  plainQuery.ednsFlags = u16(buf, p + 7);
  plainQuery.nsid = false;
  // Options fill RDATA exactly (RFC 6891 §6.1.2); NSID (RFC 5001) and COOKIE (RFC 7873) are the ones that change our
  // answer. A second COOKIE is left to the full decoder (and FORMERR).
  for (let o = p + 11; o < rdEnd; ) {
    if (o + 4 > rdEnd) return false;
    const code = u16(buf, o);
    const olen = u16(buf, o + 2);
    if (code === EdnsOption.NSID) plainQuery.nsid = true;
    else if (code === EdnsOption.COOKIE) {
      if (plainQuery.cookieAt >= 0) return false;
      plainQuery.cookieAt = o + 4;
      plainQuery.cookieLength = olen;
    }
    o += 4 + olen;
    if (o > rdEnd) return false;
  }
  return true;
}

/** Mutable state of decodeQuery, so a FORMERR can carry what was read before the error. */
let partialQuestion: Question | undefined;

/**
 * Decodes a request on the hot path. Never throws and always terminates.
 * - drop: shorter than a header (RFC 1035 §4.1.1) or QR=1 (a response; answering it could loop).
 * - formerr: anything malformed (see reason); carries id/opcode/flags so the caller can answer (or NOTIMP).
 * - query: a request with exactly one question, optional OPT and TSIG located.
 */
export function decodeQuery(buf: Uint8Array): DecodeResult {
  const len = buf.length;
  if (len < 12) return DROP;
  const flags = (buf[2]! << 8) | buf[3]!;
  if ((flags & 0x8000) !== 0) return DROP;
  partialQuestion = undefined;
  try {
    return { kind: 'query', query: parseQuery(buf, flags) };
  } catch (e) {
    const reason = e instanceof Error ? e.message : 'malformed message';
    const id = (buf[0]! << 8) | buf[1]!;
    const opcode = (flags >>> 11) & 0xf;
    const q = partialQuestion;
    partialQuestion = undefined;
    return q ? { kind: 'formerr', id, opcode, flags, question: q, reason } : { kind: 'formerr', id, opcode, flags, reason };
  }
}

function parseQuery(buf: Uint8Array, flags: number): Query {
  const len = buf.length;
  const id = (buf[0]! << 8) | buf[1]!;
  const opcode = (flags >>> 11) & 0xf;
  const qd = u16(buf, 4);
  const an = u16(buf, 6);
  const ns = u16(buf, 8);
  const ar = u16(buf, 10);
  // RFC 1035 §4.1.2 (QUERY), RFC 1996 §3.7 (NOTIFY), RFC 2136 §2.3 (UPDATE zone section): exactly one entry.
  if (qd !== 1) {
    const what = opcode === Opcode.NOTIFY ? 'NOTIFY' : opcode === Opcode.QUERY ? 'QUERY' : `opcode ${opcode}`;
    throw new WireError('bad-count', `QDCOUNT ${qd} in ${what}, expected 1`);
  }
  // QNAME: the first name in the message, so a compression pointer cannot point backwards (RFC 1035 §4.1.4).
  const labels: string[] = [];
  let p = 12;
  let wire = 1;
  for (;;) {
    if (p >= len) throw new WireError('truncated', 'question name runs past the end of the message');
    const l = buf[p]!;
    if (l === 0) {
      p++;
      break;
    }
    if (l > 63) {
      if ((l & 0xc0) === 0xc0) throw new WireError('bad-pointer', 'compression pointer in QNAME');
      throw new WireError('bad-label', 'unsupported label type in QNAME');
    }
    wire += l + 1;
    // RFC 1035 §2.3.4: names are at most 255 octets.
    if (wire > 255) throw new WireError('name-too-long', 'QNAME longer than 255 octets');
    if (p + 1 + l > len) throw new WireError('truncated', 'question name runs past the end of the message');
    labels.push(latin1(buf, p + 1, l));
    p += l + 1;
  }
  if (p + 4 > len) throw new WireError('truncated', 'question cut off before QTYPE/QCLASS');
  const question: Question = { name: new Name(labels), type: u16(buf, p), class: u16(buf, p + 2) };
  partialQuestion = question;
  p += 4;
  const questionLength = p - 12;

  // Answer/authority (e.g. NOTIFY's SOA, IXFR's SOA, UPDATE prerequisites): skip them, checking their structure.
  for (let i = an + ns; i > 0; i--) {
    expandName(buf, p, len, null, 0);
    p = nameCursor.next;
    readRRFixed(buf, p, len);
    const { type, rdEnd } = rrCursor;
    // RFC 6891 §6.1.1: OPT only in the additional section; RFC 8945 §5.1: TSIG only as the last additional RR.
    if (type === RRType.OPT) throw new WireError('bad-opt', 'OPT outside the additional section');
    if (type === RRType.TSIG) throw new WireError('bad-tsig', 'TSIG outside the additional section');
    p = rdEnd;
  }

  let edns: EdnsInfo | undefined;
  let tsig: TsigInfo | undefined;
  for (let i = 0; i < ar; i++) {
    const rrStart = p;
    expandName(buf, p, len, null, 0);
    p = nameCursor.next;
    readRRFixed(buf, p, len);
    const { type, cls, ttl, rdStart, rdEnd } = rrCursor;
    if (type === RRType.OPT) {
      // RFC 6891 §6.1.1: at most one OPT, owned by the root.
      if (edns) throw new WireError('bad-opt', 'more than one OPT RR');
      if (p !== rrStart + 1) throw new WireError('bad-opt', 'OPT owner is not the root');
      edns = parseOpt(buf, cls, ttl, rdStart, rdEnd, false);
    } else if (type === RRType.TSIG) {
      // RFC 8945 §5.1: the TSIG RR must be the last record of the additional section.
      if (i !== ar - 1) throw new WireError('bad-tsig', 'TSIG is not the last record');
      const owner = readName(buf, rrStart, len);
      tsig = parseTsig(buf, rrStart, owner, cls, ttl, rdStart, rdEnd, false);
    }
    p = rdEnd;
  }
  if (p !== len) throw new WireError('trailing', `${len - p} octets after the last record`);

  const query: Query = {
    id,
    opcode,
    flags,
    question,
    questionOffset: 12,
    questionLength,
    edns,
    tsig,
    counts: { qd, an, ns, ar },
    size: len,
  };
  return query;
}

/**
 * Find the TSIG RR of a message without decoding its other records (RFC 8945 §5.1): it must be the last record of the
 * additional section and the only TSIG. Returns undefined when the message has none; throws WireError when the
 * message is malformed (names checked for bounds, pointer direction and loops like every other name we read).
 */
export function locateTsig(buf: Uint8Array): TsigInfo | undefined {
  const len = buf.length;
  if (len < 12) throw new WireError('truncated', 'shorter than a header');
  const qd = u16(buf, 4);
  const an = u16(buf, 6);
  const ns = u16(buf, 8);
  const ar = u16(buf, 10);
  let p = 12;
  for (let i = 0; i < qd; i++) {
    expandName(buf, p, len, null, 0);
    p = nameCursor.next + 4;
    if (p > len) throw new WireError('truncated', 'question cut off');
  }
  const total = an + ns + ar;
  let last = -1;
  for (let i = 0; i < total; i++) {
    const start = p;
    expandName(buf, p, len, null, 0);
    readRRFixed(buf, nameCursor.next, len);
    if (rrCursor.type === RRType.TSIG && i !== total - 1) throw new WireError('bad-tsig', 'TSIG is not the last record');
    last = start;
    p = rrCursor.rdEnd;
  }
  if (ar === 0 || last < 0 || rrCursor.type !== RRType.TSIG) return undefined;
  if (p !== len) throw new WireError('trailing', `${len - p} octets after the TSIG record`);
  const { cls, ttl, rdStart, rdEnd } = rrCursor;
  return parseTsig(buf, last, readName(buf, last, len), cls, ttl, rdStart, rdEnd, true);
}

/**
 * Full decoder: header, all sections as RRs with uncompressed RDATA (RFC 3597 §4 decompression), OPT and TSIG
 * taken out of the additional section. Throws WireError on malformed input.
 */
export function decodeMessage(buf: Uint8Array): Message {
  const len = buf.length;
  if (len < 12) throw new WireError('truncated', 'message shorter than a header');
  const id = u16(buf, 0);
  const flags = u16(buf, 2);
  const qd = u16(buf, 4);
  const an = u16(buf, 6);
  const ns = u16(buf, 8);
  const ar = u16(buf, 10);
  let p = 12;
  const question: Question[] = [];
  for (let i = 0; i < qd; i++) {
    const name = readName(buf, p, len);
    p = nameCursor.next;
    if (p + 4 > len) throw new WireError('truncated', 'question cut off');
    question.push({ name, type: u16(buf, p), class: u16(buf, p + 2) });
    p += 4;
  }
  const answer: WireRR[] = [];
  const authority: WireRR[] = [];
  const additional: WireRR[] = [];
  let edns: EdnsInfo | undefined;
  let tsig: TsigInfo | undefined;
  const total = an + ns + ar;
  for (let i = 0; i < total; i++) {
    const rrStart = p;
    const owner = readName(buf, p, len);
    p = nameCursor.next;
    readRRFixed(buf, p, len);
    const { type, cls, ttl, rdStart, rdEnd } = rrCursor;
    const inAdditional = i >= an + ns;
    if (type === RRType.OPT) {
      // RFC 6891 §6.1.1: one OPT, root owner, additional section only.
      if (!inAdditional) throw new WireError('bad-opt', 'OPT outside the additional section');
      if (edns) throw new WireError('bad-opt', 'more than one OPT RR');
      if (!owner.isRoot) throw new WireError('bad-opt', 'OPT owner is not the root');
      edns = parseOpt(buf, cls, ttl, rdStart, rdEnd, true);
    } else if (type === RRType.TSIG) {
      // RFC 8945 §5.1: last record of the additional section.
      if (i !== total - 1) throw new WireError('bad-tsig', 'TSIG is not the last record');
      tsig = parseTsig(buf, rrStart, owner, cls, ttl, rdStart, rdEnd, true);
    } else {
      const rr: WireRR = { owner, type, class: cls, ttl, rdata: decompressRdata(type, buf, rdStart, rdEnd - rdStart) };
      (i < an ? answer : i < an + ns ? authority : additional).push(rr);
    }
    p = rdEnd;
  }
  if (p !== len) throw new WireError('trailing', `${len - p} octets after the last record`);
  // RFC 6891 §6.1.3: the OPT carries the upper 8 bits of the 12-bit RCODE.
  const rcode = (flags & 0xf) | (edns ? edns.extendedRcodeHigh << 4 : 0);
  return { id, opcode: (flags >>> 11) & 0xf, flags, rcode, question, answer, authority, additional, edns, tsig };
}
