// DNS message encoder: MessageWriter (compression, RRset-atomic overflow), encodeResponse (TC, OPT), encodeQuery.

import { Flag, RRType } from './constants.js';
import { Compressor } from './compress.js';
import { compressibleRdata, rdataNameLayout, type Layout } from './layout.js';
import type { Name } from './name.js';
import {
  WireError,
  type EdnsOut,
  type Question,
  type QueryMessage,
  type ResponseMessage,
  type Section,
  type SectionEntry,
} from './message.js';

/** RFC 1035 §4.2.2 / §2.3.4: a message is at most 65535 octets (TCP length prefix). */
export const MAX_MESSAGE = 65535;
/** Room past the limit so one whole RR (≤ 255 + 10 + 65535 octets) can be written before the size check. */
const SCRATCH = MAX_MESSAGE + 65535 + 512;
/** Header flag bits a response may carry (the Z bit stays zero, RFC 1035 §4.1.1). */
const FLAG_MASK = Flag.AA | Flag.TC | Flag.RD | Flag.RA | Flag.AD | Flag.CD;

const SECTION_INDEX: Readonly<Record<Section, 1 | 2 | 3>> = { answer: 1, authority: 2, additional: 3 };

/** Octets an OPT RR takes: root owner (1) + type, class, TTL, RDLENGTH (10) + options (RFC 6891 §6.1.2). */
export function optSize(edns: EdnsOut): number {
  let n = 11;
  for (const o of edns.options) n += 4 + o.data.length;
  return n;
}

/** Slab size for carve(); messages larger than an eighth of it get their own buffer. */
const SLAB = 64 * 1024;
let slab = new ArrayBuffer(SLAB);
let slabUsed = 0;

/**
 * A fresh `n`-octet view into a shared slab: a new ArrayBuffer per message cost about 1 µs in malloc and GC
 * (measured on the signed NXDOMAIN path). A view keeps its whole slab alive, so a holder that keeps a message for
 * long (the answer cache) stores a copy (`slice()` makes one with its own buffer).
 */
function carve(n: number): Uint8Array {
  if (n > SLAB / 8) return new Uint8Array(n);
  if (slabUsed + n > SLAB) {
    slab = new ArrayBuffer(SLAB);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, n);
  slabUsed += (n + 7) & ~7;
  return out;
}

/**
 * Builds one DNS message in a private scratch buffer. Compression (RFC 1035 §4.1.4) uses a map from lowercased
 * name-suffix keys to offsets; the map restarts with every message. RRsets are added all-or-nothing: when one
 * does not fit under the size limit, the message is rolled back to before it and `false` is returned.
 * Usage: begin → question → add* (sections in order) → opt → finish; then begin again for the next message.
 */
export class MessageWriter {
  private readonly buf = new Uint8Array(SCRATCH);
  private readonly names = new Compressor();
  private pos = 12;
  private limit = 512;
  private section = 0;
  private qd = 0;
  private an = 0;
  private ns = 0;
  private ar = 0;

  /**
   * Start a new message. `flagsWord` is the complete header word (QR, opcode, flags, low RCODE bits).
   * `maxSize` is the size cap (clamped to 65535); `reserve` octets are kept free for a later opt()/TSIG.
   */
  begin(id: number, flagsWord: number, maxSize: number, reserve = 0): void {
    const b = this.buf;
    b[0] = (id >>> 8) & 0xff;
    b[1] = id & 0xff;
    b[2] = (flagsWord >>> 8) & 0xff;
    b[3] = flagsWord & 0xff;
    this.pos = 12;
    this.limit = Math.min(maxSize, MAX_MESSAGE) - reserve;
    this.section = 0;
    this.qd = this.an = this.ns = this.ar = 0;
    this.names.reset();
  }

  /** Octets written so far. */
  get size(): number {
    return this.pos;
  }

  /** Records in a section so far. */
  count(section: Section): number {
    return section === 'answer' ? this.an : section === 'authority' ? this.ns : this.ar;
  }

  /** Set or clear the TC bit (RFC 1035 §4.1.1). */
  setTruncated(tc: boolean): void {
    const hi = Flag.TC >>> 8;
    this.buf[2] = tc ? this.buf[2]! | hi : this.buf[2]! & ~hi;
  }

  /** Append a question entry; its name becomes a compression target. */
  question(q: Question): void {
    if (this.section > 0) throw new Error('question after an RR section');
    this.putOwner(q.name);
    this.put16(q.type);
    this.put16(q.class);
    this.qd++;
  }

  /**
   * Append a received question entry verbatim (RFC 1035 §4.1.2 fields, uncompressed QNAME, original case).
   * Its QNAME becomes a compression target.
   */
  rawQuestion(raw: Uint8Array): void {
    if (this.section > 0) throw new Error('question after an RR section');
    const at = this.pos;
    this.buf.set(raw, at);
    this.pos += raw.length;
    this.qd++;
    // Register QNAME suffixes at their offsets, if it is a plain name of plain labels.
    const b = this.buf;
    let p = at;
    const end = at + raw.length;
    while (p < end && b[p] !== 0) {
      const l = b[p]!;
      if (l > 63) return; // not a plain name: do not compress against it
      p += l + 1;
    }
    if (p >= end || p + 1 - at > 255) return;
    this.names.stageWire(b, at);
    this.names.register(at, b);
  }

  /** Add a whole RRset to `section`; false (and nothing written) when it does not fit. */
  addRRset(section: Section, e: SectionEntry): boolean {
    const idx = this.enter(section);
    const markPos = this.pos;
    const mark = this.names.mark;
    const compress = compressibleRdata(e.type);
    const layout = compress ? rdataNameLayout(e.type) : undefined;
    for (const rd of e.rdata) {
      this.putRR(e.owner, e.type, e.class, e.ttl, rd, layout);
      if (this.pos > this.limit) {
        this.rollback(markPos, mark);
        return false;
      }
    }
    this.bump(idx, e.rdata.length);
    return true;
  }

  /** Add one RR to `section`; false (and nothing written) when it does not fit. */
  addRR(section: Section, owner: Name, type: number, cls: number, ttl: number, rdata: Uint8Array): boolean {
    const idx = this.enter(section);
    const markPos = this.pos;
    const mark = this.names.mark;
    const layout = compressibleRdata(type) ? rdataNameLayout(type) : undefined;
    this.putRR(owner, type, cls, ttl, rdata, layout);
    if (this.pos > this.limit) {
      this.rollback(markPos, mark);
      return false;
    }
    this.bump(idx, 1);
    return true;
  }

  /**
   * Append the OPT pseudo-RR (RFC 6891 §6.1.2) in the additional section, ignoring the size limit (its room is
   * meant to be reserved in begin()). TTL = extended RCODE high bits, version 0, DO flag (RFC 6891 §6.1.3).
   */
  opt(edns: EdnsOut, rcodeHigh: number): void {
    this.enter('additional');
    const b = this.buf;
    b[this.pos++] = 0; // owner: root (RFC 6891 §6.1.2)
    this.put16(RRType.OPT);
    this.put16(edns.udpSize);
    b[this.pos++] = rcodeHigh & 0xff;
    b[this.pos++] = 0; // VERSION 0
    // DO bit (RFC 3225 §3); CO bit (RFC 9824 §5.1: echoed by servers implementing compact denial).
    this.put16((edns.do ? 0x8000 : 0) | (edns.co === true ? 0x4000 : 0));
    const lenAt = this.pos;
    this.pos += 2;
    for (const o of edns.options) {
      this.put16(o.code);
      this.put16(o.data.length);
      b.set(o.data, this.pos);
      this.pos += o.data.length;
    }
    const rdlen = this.pos - lenAt - 2;
    b[lenAt] = rdlen >>> 8;
    b[lenAt + 1] = rdlen & 0xff;
    this.ar++;
  }

  /**
   * Write the counts and return a copy of the message, carved from a shared slab (see carve: short-lived; whoever
   * keeps it long takes its own copy). Throws WireError when it exceeds 65535 octets.
   */
  finish(): Uint8Array {
    if (this.pos > MAX_MESSAGE) throw new WireError('too-big', `message of ${this.pos} octets exceeds 65535`);
    const b = this.buf;
    b[4] = this.qd >>> 8;
    b[5] = this.qd & 0xff;
    b[6] = this.an >>> 8;
    b[7] = this.an & 0xff;
    b[8] = this.ns >>> 8;
    b[9] = this.ns & 0xff;
    b[10] = this.ar >>> 8;
    b[11] = this.ar & 0xff;
    const out = carve(this.pos);
    out.set(b.subarray(0, this.pos));
    return out;
  }

  private enter(section: Section): 1 | 2 | 3 {
    const idx = SECTION_INDEX[section];
    if (idx < this.section) throw new Error(`cannot add to ${section} after a later section`);
    this.section = idx;
    return idx;
  }

  private bump(idx: 1 | 2 | 3, n: number): void {
    switch (idx) {
      case 1:
        this.an += n;
        break;
      case 2:
        this.ns += n;
        break;
      case 3:
        this.ar += n;
        break;
      default: {
        const never: never = idx;
        throw new Error(`bad section ${String(never)}`);
      }
    }
  }

  private rollback(pos: number, mark: number): void {
    this.pos = pos;
    this.names.rollback(mark);
  }

  private put16(v: number): void {
    const b = this.buf;
    b[this.pos++] = (v >>> 8) & 0xff;
    b[this.pos++] = v & 0xff;
  }

  private putRR(owner: Name, type: number, cls: number, ttl: number, rd: Uint8Array, layout: Layout | undefined): void {
    if (rd.length > 0xffff) throw new WireError('too-big', 'RDATA longer than 65535 octets');
    this.putOwner(owner);
    const b = this.buf;
    let p = this.pos;
    b[p] = type >>> 8;
    b[p + 1] = type & 0xff;
    b[p + 2] = cls >>> 8;
    b[p + 3] = cls & 0xff;
    b[p + 4] = (ttl >>> 24) & 0xff;
    b[p + 5] = (ttl >>> 16) & 0xff;
    b[p + 6] = (ttl >>> 8) & 0xff;
    b[p + 7] = ttl & 0xff;
    const lenAt = p + 8;
    p += 10;
    if (layout === undefined || !this.putCompressedRdata(rd, layout, p)) {
      // RFC 3597 §4: RDATA of other types is written as is, uncompressed.
      if (rd.length <= 16) for (let i = 0; i < rd.length; i++) b[p + i] = rd[i]!;
      else b.set(rd, p);
      this.pos = p + rd.length;
    }
    const rdlen = this.pos - lenAt - 2;
    b[lenAt] = rdlen >>> 8;
    b[lenAt + 1] = rdlen & 0xff;
  }

  /** Write an owner name with compression (RFC 1035 §4.1.4), registering its new suffixes as targets. */
  private putOwner(name: Name): void {
    this.names.stageLabels(name.labels);
    this.pos = this.names.write(this.buf, this.pos);
  }

  /**
   * RDATA of a compressible type with its names compressed, written at `at`; sets pos. Returns false (writing
   * nothing lasting) when the RDATA does not match the layout, so the caller falls back to a plain copy.
   */
  private putCompressedRdata(rd: Uint8Array, layout: Layout, at: number): boolean {
    const b = this.buf;
    const logMark = this.names.mark;
    const end = rd.length;
    let s = 0;
    let pos = at;
    for (const f of layout) {
      switch (f.kind) {
        case 'name': {
          // Measure the uncompressed name first.
          let q = s;
          for (;;) {
            if (q >= end) return this.abandon(logMark);
            const l = rd[q]!;
            if (l === 0) break;
            if (l > 63) return this.abandon(logMark);
            q += l + 1;
          }
          const nlen = q + 1 - s;
          if (nlen > 255) return this.abandon(logMark);
          this.names.stageWire(rd, s);
          pos = this.names.write(b, pos);
          s += nlen;
          break;
        }
        case 'fixed':
          if (s + f.len > end) return this.abandon(logMark);
          for (let i = 0; i < f.len; i++) b[pos + i] = rd[s + i]!;
          pos += f.len;
          s += f.len;
          break;
        case 'cstr': {
          if (s >= end) return this.abandon(logMark);
          const n = 1 + rd[s]!;
          if (s + n > end) return this.abandon(logMark);
          for (let i = 0; i < n; i++) b[pos + i] = rd[s + i]!;
          pos += n;
          s += n;
          break;
        }
        case 'rest':
          b.set(rd.subarray(s), pos);
          pos += end - s;
          s = end;
          break;
        default: {
          const never: never = f;
          throw new Error(`unknown layout field ${String(never)}`);
        }
      }
    }
    if (s !== end) return this.abandon(logMark);
    this.pos = pos;
    return true;
  }

  private abandon(logMark: number): false {
    this.names.rollback(logMark);
    return false;
  }
}

const shared = new MessageWriter();

/**
 * Encode a response of at most `maxSize` octets (RFC 1035 §4.1; 512 or the EDNS size for UDP, 65535 for TCP).
 * Truncation (RFC 2181 §9): when an answer or authority RRset does not fit, TC is set and everything after it is
 * dropped; additional RRsets that do not fit are omitted without TC, except the `requiredAdditional` leading ones
 * (RFC 9471 §3 in-domain glue), whose loss sets TC. Room for the OPT is reserved first so it is always present when
 * `edns` is given (RFC 6891 §7). Must not be re-entered (uses a shared scratch buffer).
 */
export function encodeResponse(msg: ResponseMessage, maxSize: number): Uint8Array {
  const w = shared;
  const edns = msg.edns;
  const reserve = (edns ? optSize(edns) : 0) + (msg.reserve ?? 0);
  // RFC 1035 §4.1.1: QR=1, opcode, flags, RCODE low 4 bits (high 8 go into the OPT, RFC 6891 §6.1.3).
  const word = Flag.QR | ((msg.opcode & 0xf) << 11) | (msg.flags & FLAG_MASK) | (msg.rcode & 0xf);
  w.begin(msg.id, word, maxSize, reserve);
  if (msg.rawQuestion) w.rawQuestion(msg.rawQuestion);
  else if (msg.question) w.question(msg.question);
  let truncated = false;
  for (const e of msg.answer) {
    if (!w.addRRset('answer', e)) {
      truncated = true;
      break;
    }
  }
  if (!truncated) {
    for (const e of msg.authority) {
      if (!w.addRRset('authority', e)) {
        truncated = true;
        break;
      }
    }
  }
  if (!truncated) {
    // RFC 9471 §3: "If message size constraints prevent the inclusion of all in-domain glue records over UDP
    // transport, the server MUST set the TC (Truncated) flag".
    const required = msg.requiredAdditional ?? 0;
    for (let i = 0; i < msg.additional.length; i++) {
      if (w.addRRset('additional', msg.additional[i]!)) continue;
      if (i < required) {
        truncated = true;
        break;
      }
      // RFC 2181 §9: other additional data that does not fit is simply left out, without TC.
    }
  }
  if (truncated) w.setTruncated(true);
  if (edns) w.opt(edns, (msg.rcode >>> 4) & 0xff);
  return w.finish();
}

/** Encode a client-side message (query, NOTIFY with SOA in answer, IXFR with SOA in authority). */
export function encodeQuery(q: QueryMessage): Uint8Array {
  const w = shared;
  const word = ((q.opcode ?? 0) & 0xf) << 11 | ((q.flags ?? 0) & FLAG_MASK);
  w.begin(q.id, word, MAX_MESSAGE, q.edns ? optSize(q.edns) : 0);
  w.question(q.question);
  const sections: readonly [Section, readonly SectionEntry[] | undefined][] = [
    ['answer', q.answer],
    ['authority', q.authority],
    ['additional', q.additional],
  ];
  for (const [section, entries] of sections) {
    for (const e of entries ?? []) {
      if (!w.addRRset(section, e)) throw new WireError('too-big', 'query does not fit in 65535 octets');
    }
  }
  if (q.edns) w.opt(q.edns, 0);
  return w.finish();
}

/**
 * A truncated empty answer to `request` (its header and the question entry ending at `questionEnd`): QR and TC set
 * (RFC 1035 §4.1.1), RD and CD copied, no records but our OPT when the request had one (RFC 6891 §7; `do` copied).
 * What a rate limiter "slips" instead of a dropped response so that a real resolver retries over TCP.
 */
export function truncatedReply(request: Uint8Array, questionEnd: number, edns: { readonly udpSize: number; readonly do: boolean } | undefined): Uint8Array {
  const out = new Uint8Array(questionEnd + (edns ? 11 : 0));
  out.set(request.subarray(0, questionEnd));
  const word = Flag.QR | Flag.TC | (((request[2]! << 8) | request[3]!) & (Flag.RD | Flag.CD | (0xf << 11)));
  out[2] = word >>> 8;
  out[3] = word & 0xff;
  // QDCOUNT 1 when the question is echoed (a FORMERR may have none to echo).
  out[4] = 0;
  out[5] = questionEnd > 12 ? 1 : 0;
  out.fill(0, 6, 12);
  if (edns) {
    out[11] = 1;
    const p = questionEnd;
    // RFC 6891 §6.1.2: root owner, TYPE OPT, CLASS = our payload size, TTL = ext-rcode 0, version 0, flags.
    out[p + 2] = RRType.OPT;
    out[p + 3] = edns.udpSize >>> 8;
    out[p + 4] = edns.udpSize & 0xff;
    out[p + 7] = edns.do ? 0x80 : 0;
  }
  return out;
}
