// The zone data model shared by the parser, the store, the query pipeline, DNSSEC and transfers: records with
// their source position and Cloudflare attributes, RRsets, and parse diagnostics.

import type { WireRR } from '../wire/message.js';
import type { Name } from '../wire/name.js';

/** Where a record or error came from (1-based line and column). */
export interface SourcePos {
  readonly file: string;
  readonly line: number;
  readonly col: number;
}

/** One `cf_tags=` entry: `name` or `name:value` (seed "Import and export records"). */
export interface RecordTag {
  readonly name: string;
  readonly value?: string;
}

/** Per-record attributes carried in zone-file comments. */
export interface RecordMeta {
  /** Comment text with the `cf_tags=...` part removed, trimmed; undefined when none. */
  readonly comment?: string;
  /** Plain tags (everything in cf_tags except the cf-* control tags). */
  readonly tags: readonly RecordTag[];
  /** `cf-proxied:true` */
  readonly proxied: boolean;
  /** `cf-flatten-cname`, or the record was written as ALIAS/ANAME. */
  readonly flatten: boolean;
  readonly pos?: SourcePos;
}

export const NO_META: RecordMeta = Object.freeze({ tags: Object.freeze([]), proxied: false, flatten: false });

/** A zone record: the wire fields plus where it came from and its Cloudflare attributes. */
export interface RR extends WireRR {
  readonly meta: RecordMeta;
}

/** A record received on the wire (a transfer, an UPDATE) as zone data: no source position, no attributes. */
export function zoneRecord(rr: WireRR): RR {
  return { owner: rr.owner, type: rr.type, class: rr.class, ttl: rr.ttl, rdata: rr.rdata, meta: NO_META };
}

/**
 * All records of one owner, class and type (RFC 2181 §5). One TTL for the set (RFC 2181 §5.2). `rdata` and `meta`
 * are parallel arrays; duplicates are removed at build time.
 */
export interface RRset {
  readonly owner: Name;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly rdata: readonly Uint8Array[];
  readonly meta: readonly RecordMeta[];
}

export type Severity = 'error' | 'warning';

/** A zone-file diagnostic: rendered as `file:line:col: severity: message`. */
export interface Diagnostic {
  readonly severity: Severity;
  readonly pos: SourcePos;
  readonly message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.pos.file}:${d.pos.line}:${d.pos.col}: ${d.severity}: ${d.message}`;
}

/** Thrown when a zone file cannot be parsed at all; carries every error found. */
export class ZoneParseError extends Error {
  override readonly name = 'ZoneParseError';
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    super(diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('\n'));
  }
}
