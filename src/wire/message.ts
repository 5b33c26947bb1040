// Shared DNS message types: decoded queries, full decoded messages, responses to encode, and the wire error type.

import type { Name } from './name.js';

/** What went wrong while reading or writing wire data. */
export type WireErrorKind =
  | 'truncated' // data ends before a field it announces
  | 'bad-count' // a header count not allowed for the opcode (e.g. QDCOUNT ≠ 1)
  | 'bad-label' // label type 0x40/0x80 (RFC 6891 §5 retired extended labels) or malformed label
  | 'bad-pointer' // compression pointer that does not point strictly backwards into the message
  | 'pointer-loop' // too many pointer hops
  | 'name-too-long' // more than 255 octets (RFC 1035 §2.3.4)
  | 'bad-rdata' // RDATA does not match its type's layout
  | 'bad-opt' // malformed, misplaced or repeated OPT (RFC 6891 §6.1.1)
  | 'bad-tsig' // malformed or misplaced TSIG (RFC 8945 §5.1)
  | 'trailing' // bytes after the last counted record
  | 'too-big'; // output would exceed 65535 octets

export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(
    readonly kind: WireErrorKind,
    message: string,
  ) {
    super(message);
  }
}

export interface Question {
  readonly name: Name;
  readonly type: number;
  readonly class: number;
}

export interface EdnsOptionData {
  readonly code: number;
  readonly data: Uint8Array;
}

/** An OPT pseudo-RR as received (RFC 6891 §6.1.2, §6.1.3). */
export interface EdnsInfo {
  /** Requestor's UDP payload size (the OPT CLASS field), raw: callers apply the "< 512 means 512" rule. */
  readonly udpSize: number;
  readonly version: number;
  /** The 16-bit EDNS flags word (DO = 0x8000, CO = 0x4000; see EdnsFlag). */
  readonly flags: number;
  readonly options: readonly EdnsOptionData[];
  /** Upper 8 bits of the 12-bit extended RCODE. */
  readonly extendedRcodeHigh: number;
}

/** A TSIG RR located in a message (RFC 8945 §4.2). */
export interface TsigInfo {
  /** Offset of the first octet of the TSIG RR (its owner name) in the packet; the signed data ends here. */
  readonly offset: number;
  /** Key name (the TSIG owner). */
  readonly name: Name;
  readonly class: number;
  readonly ttl: number;
  readonly algorithm: Name;
  /** 48-bit seconds since the epoch. */
  readonly timeSigned: number;
  readonly fudge: number;
  readonly mac: Uint8Array;
  /** The message ID when the TSIG was generated (RFC 8945 §4.2 Original ID). */
  readonly originalId: number;
  readonly error: number;
  readonly otherData: Uint8Array;
}

/** Header counts as received. */
export interface SectionCounts {
  readonly qd: number;
  readonly an: number;
  readonly ns: number;
  readonly ar: number;
}

/**
 * A decoded request. `questionOffset`/`questionLength` span the question entry (QNAME, QTYPE, QCLASS) in the packet,
 * so a response can echo the exact bytes including the QNAME's case. Byte arrays (EDNS option data, TSIG MAC) are
 * views into the received buffer, not copies.
 */
export interface Query {
  readonly id: number;
  readonly opcode: number;
  /** The whole 16-bit header flags word as received (includes the opcode and rcode bits). */
  readonly flags: number;
  readonly question: Question;
  readonly questionOffset: number;
  readonly questionLength: number;
  readonly edns?: EdnsInfo;
  readonly tsig?: TsigInfo;
  readonly counts: SectionCounts;
  /** Size of the packet in octets. */
  readonly size: number;
}

/** Outcome of decodeQuery: ignore the packet, answer FORMERR, or process the query. */
export type DecodeResult =
  | { readonly kind: 'drop' }
  | {
      readonly kind: 'formerr';
      readonly id: number;
      readonly opcode: number;
      readonly flags: number;
      /** Present when the question was read before the error. */
      readonly question?: Question;
      readonly reason: string;
    }
  | { readonly kind: 'query'; readonly query: Query };

/** One RRset of a response section: a zone RRset can be passed as it is; synthesized ones are easy to build. */
export interface SectionEntry {
  readonly owner: Name;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly rdata: readonly Uint8Array[];
}

/** EDNS to put in an outgoing message (the OPT is always version 0 here). */
export interface EdnsOut {
  /** Our advertised UDP payload size (OPT CLASS). */
  readonly udpSize: number;
  readonly do: boolean;
  /** RFC 9824 §5.1 Compact Answers OK: set in responses to queries that set it (0x4000 in the OPT flags). */
  readonly co?: boolean;
  readonly options: readonly EdnsOptionData[];
}

/** A response to encode. */
export interface ResponseMessage {
  readonly id: number;
  readonly opcode: number;
  /** Header flag bits (OR of Flag.AA, Flag.RD, Flag.CD, Flag.AD, Flag.RA, Flag.TC); QR is always set. */
  readonly flags: number;
  /** Full 12-bit RCODE: low 4 bits go into the header, high 8 bits into the OPT (RFC 6891 §6.1.3). */
  readonly rcode: number;
  readonly question?: Question;
  /** The received question entry (QNAME, QTYPE, QCLASS, uncompressed) to copy verbatim instead of `question`. */
  readonly rawQuestion?: Uint8Array;
  readonly answer: readonly SectionEntry[];
  readonly authority: readonly SectionEntry[];
  readonly additional: readonly SectionEntry[];
  /**
   * How many leading `additional` RRsets are required, not optional: when one does not fit, TC is set (RFC 9471 §3:
   * in-domain glue of a referral). The rest of the additional section is left out silently when it does not fit.
   */
  readonly requiredAdditional?: number;
  readonly edns?: EdnsOut;
  /** Octets to keep free at the end (e.g. for a TSIG RR added after encoding). */
  readonly reserve?: number;
}

/** A query (or NOTIFY / IXFR request) to encode on the client side. */
export interface QueryMessage {
  readonly id: number;
  readonly opcode?: number;
  /** Header flag bits (e.g. Flag.RD, Flag.CD, Flag.AA for NOTIFY). QR is never set. */
  readonly flags?: number;
  readonly question: Question;
  readonly answer?: readonly SectionEntry[];
  readonly authority?: readonly SectionEntry[];
  readonly additional?: readonly SectionEntry[];
  readonly edns?: EdnsOut;
}

/** One resource record as it travels: owner, type, class, TTL and uncompressed RDATA (RFC 1035 §4.1.3). */
export interface WireRR {
  readonly owner: Name;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly rdata: Uint8Array;
}

/** A fully decoded message (responses, transfers, tests). OPT and TSIG are taken out of `additional`. */
export interface Message {
  readonly id: number;
  readonly opcode: number;
  /** The whole 16-bit header flags word. */
  readonly flags: number;
  /** Full RCODE: header RCODE plus the OPT's extended bits when an OPT is present. */
  readonly rcode: number;
  readonly question: readonly Question[];
  readonly answer: readonly WireRR[];
  readonly authority: readonly WireRR[];
  readonly additional: readonly WireRR[];
  readonly edns?: EdnsInfo;
  readonly tsig?: TsigInfo;
}

/** The three RR sections, in wire order. */
export type Section = 'answer' | 'authority' | 'additional';

/**
 * What answering one request produces: nothing (drop), one message, or several in order (an AXFR stream), possibly
 * later (a Promise, e.g. flattening waits on an upstream) or as an async iterable.
 */
export type Replies =
  | Uint8Array
  | null
  | readonly Uint8Array[]
  | Iterable<Uint8Array>
  | AsyncIterable<Uint8Array>
  | Promise<Uint8Array | null>;
