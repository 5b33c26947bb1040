// DNS analytics recorder (seed R01/R04): per-zone, per-minute rollups of answered queries with bounded memory.

/**
 * Layout of the recorder:
 * - one bucket per zone and minute (folded into per-hour buckets after `minuteRetentionS`, dropped after
 *   `retentionS`);
 * - in a bucket, the query names kept are those of a space-saving sketch of `maxNames` entries (Metwally et al.
 *   2005): a name not in the sketch replaces the one with the lowest estimate (once full, on every ADMIT_EVERY-th
 *   such query only), whose rows move to the `(other)` name. Totals stay exact; a kept name's rows are exact since
 *   it (re)entered, so its count is low by what it had before: at most the sketch's minimum estimate (itself at
 *   most (queries in the bucket) / maxNames) plus the queries it made while waiting for admission;
 * - sources (client /24 or /56) beyond `maxSources` per bucket, and any row beyond `maxRows`, count under
 *   `(other)` too;
 * - response times in a fixed log-scale histogram per row (2 buckets per octave from 1 µs): percentiles are the
 *   geometric middle of their bucket, within 19 % of the true value.
 */

import { RRType } from '../wire/constants.js';

/** The name and source value that collects everything beyond the caps. */
export const OTHER = '(other)';

/** Histogram buckets: bucket i holds times in [2^(i/2), 2^((i+1)/2)) µs; the last one everything above. */
export const HIST_BUCKETS = 48;

export function histBucket(ms: number): number {
  const us = ms * 1000;
  if (!(us >= 1)) return 0;
  const b = Math.floor(2 * Math.log2(us));
  return b >= HIST_BUCKETS ? HIST_BUCKETS - 1 : b;
}

/** The time a histogram bucket stands for, in ms (the geometric middle of its bounds). */
export function histValue(bucket: number): number {
  return 2 ** ((bucket + 0.5) / 2) / 1000;
}

/** Size buckets "by multiples of 16" (seed R04): 0-15, 16-31, ... */
export function sizeBucket(n: number): string {
  const lo = n - (n % 16);
  return `${lo}-${lo + 15}`;
}

/** What is known about one answered query, gathered on the answer path. */
export interface QueryFacts {
  /** Lowercased wire-form key of the QNAME (src/wire/name.ts Name.key). */
  readonly nameKey: string;
  /** Presentation name of the zone the query belongs to. */
  readonly zone: string;
  readonly qtype: number;
  readonly rcode: number;
  readonly cached: boolean;
  readonly stale: boolean;
  /** Flattening upstream that answered; '' when none or answered from cache (seed R04). */
  readonly origin: string;
  readonly tcp: boolean;
  readonly ipv6: boolean;
  readonly querySize: number;
  readonly responseSize: number;
  /** Client /24 or /56 (or OTHER). */
  readonly source: string;
  readonly ms: number;
}

/**
 * A row's dimensions besides queryName, packed into one number below 2^53 (a Map key without a string to build
 * and hash on the answer path): type index (7 bits), rcode (4), cached, tcp, IPv6 (1 each), query size / 16
 * (8 bits, larger queries count in the last bucket), response size / 16 (12), source index in the bucket (11),
 * origin index in the bucket (8).
 */
export interface Row {
  key: number;
  count: number;
  uncached: number;
  stale: number;
  /** Sum of response times (ms) for the average. */
  sumMs: number;
  /** Response-time histogram, sparse: [bucket, count, bucket, count, …] (most rows touch a few buckets). */
  readonly hist: number[];
}

/** A row's dimensions, unpacked. */
export interface RowDims {
  /** 0 for types without a mnemonic (seed R04: "Unknown types are empty"). */
  readonly qtype: number;
  readonly rcode: number;
  readonly cached: boolean;
  readonly tcp: boolean;
  readonly ipv6: boolean;
  /** Size / 16. */
  readonly querySize16: number;
  readonly responseSize16: number;
  readonly source: string;
  readonly origin: string;
}

/** QTYPE → index (0: unknown) and back: the types with a mnemonic (src/wire/constants.ts), fewer than 128. */
const TYPE_INDEX = new Uint8Array(65536);
const INDEX_TYPE: number[] = [0];
for (const v of Object.values(RRType)) {
  if (TYPE_INDEX[v] === 0 && INDEX_TYPE.length < 128) {
    TYPE_INDEX[v] = INDEX_TYPE.length;
    INDEX_TYPE.push(v);
  }
}

/**
 * Once the sketch is full and ADMIT_ALL × maxNames queries of names outside it have evicted (plain space-saving),
 * only every ADMIT_EVERY-th such query evicts the smallest entry; the others count under (other) at once. Evicting
 * on every query cost about 0.35 µs a query with 10k names asked over a 200-name sketch; a name asked often
 * still gets in after about ADMIT_EVERY / (its share of those queries) of them.
 */
const ADMIT_ALL = 4;
const ADMIT_EVERY = 16;

const MAX_SOURCES = 2047;
const MAX_ORIGINS = 255;
/** Source index 0 and origin index 1 stand for OTHER; origin index 0 is '' (none). */
const SRC_OTHER = 0;

function pack(f: QueryFacts, src: number, org: number): number {
  const q = f.querySize >> 4;
  const r = f.responseSize >> 4;
  const head = (((TYPE_INDEX[f.qtype]! * 16 + f.rcode) * 2 + (f.cached ? 1 : 0)) * 2 + (f.tcp ? 1 : 0)) * 2 + (f.ipv6 ? 1 : 0);
  return ((head * 256 + (q > 255 ? 255 : q)) * 4096 + (r > 4095 ? 4095 : r)) * 524_288 + src * 256 + org;
}

/** The key with another source index. */
function withSource(key: number, src: number): number {
  const low = key % 524_288;
  return key - low + src * 256 + (low % 256);
}

function newRow(key: number): Row {
  return { key, count: 0, uncached: 0, stale: 0, sumMs: 0, hist: [] };
}

function addInto(to: Row, from: Row): void {
  to.count += from.count;
  to.uncached += from.uncached;
  to.stale += from.stale;
  to.sumMs += from.sumMs;
  const h = from.hist;
  for (let i = 0; i + 1 < h.length; i += 2) histAdd(to.hist, h[i]!, h[i + 1]!);
}

/** Add `n` to bucket `b` of a sparse histogram. */
export function histAdd(h: number[], b: number, n: number): void {
  for (let i = 0; i < h.length; i += 2) {
    if (h[i] === b) {
      h[i + 1]! += n;
      return;
    }
  }
  h.push(b, n);
}

/** A name of the space-saving sketch with its rows. */
interface Slot {
  nameKey: string;
  /** Space-saving estimate (an upper bound of the name's count in the bucket). */
  est: number;
  heapAt: number;
  readonly rows: Map<number, Row>;
}

export interface BucketLimits {
  readonly maxNames: number;
  readonly maxSources: number;
  readonly maxRows: number;
}

/** The rollup of one zone over one time span (a minute or an hour). */
export class Bucket {
  private readonly slots = new Map<string, Slot>();
  /** Min-heap of the slots by estimate. */
  private readonly heap: Slot[] = [];
  readonly other = new Map<number, Row>();
  private readonly sourceIndex = new Map<string, number>();
  private readonly sourceList: string[] = [OTHER];
  private readonly originIndex = new Map<string, number>([['', 0]]);
  private readonly originList: string[] = ['', OTHER];
  private readonly maxSources: number;
  private readonly spare: Row[] = [];
  /** Queries of names outside the full sketch (for ADMIT_EVERY). */
  private misses = 0;
  rows = 0;
  total = 0;

  constructor(
    readonly start: number,
    readonly span: number,
    private readonly limits: BucketLimits,
  ) {
    this.maxSources = Math.min(limits.maxSources, MAX_SOURCES);
  }

  /** The sketch's smallest estimate once full (else 0): a kept name may be low by this plus its wait for admission. */
  get errorBound(): number {
    return this.heap.length >= this.limits.maxNames ? this.heap[0]!.est : 0;
  }

  private source(text: string): number {
    let i = this.sourceIndex.get(text);
    if (i === undefined) {
      if (text === OTHER || this.sourceList.length > this.maxSources) return SRC_OTHER;
      i = this.sourceList.length;
      this.sourceList.push(text);
      this.sourceIndex.set(text, i);
    }
    return i;
  }

  private origin(text: string): number {
    let i = this.originIndex.get(text);
    if (i === undefined) {
      if (text === OTHER || this.originList.length > MAX_ORIGINS) return 1;
      i = this.originList.length;
      this.originList.push(text);
      this.originIndex.set(text, i);
    }
    return i;
  }

  record(f: QueryFacts): void {
    const row = this.rowFor(f.nameKey, pack(f, this.source(f.source), f.origin === '' ? 0 : this.origin(f.origin)), 1);
    row.count++;
    if (!f.cached) row.uncached++;
    if (f.stale) row.stale++;
    row.sumMs += f.ms;
    histAdd(row.hist, histBucket(f.ms), 1);
  }

  /** Add a whole row of another bucket (folding minutes into hours). */
  addRow(nameKey: string, r: Row, from: Bucket): void {
    const d = from.dimsOf(r);
    const low = r.key % 524_288;
    const key = r.key - low + this.source(d.source) * 256 + this.origin(d.origin);
    addInto(this.rowFor(nameKey, key, r.count), r);
  }

  /** This bucket's rows for a save: name key, packed key without source and origin, source, origin, figures. */
  save(): SavedBucket {
    const rows: SavedRow[] = [];
    for (const [name, r] of this.entries()) {
      const d = this.dimsOf(r);
      rows.push([name, r.key - (r.key % 524_288), d.source, d.origin, r.count, r.uncached, r.stale, r.sumMs, [...r.hist]]);
    }
    return { start: this.start, span: this.span, rows };
  }

  /** Add a saved row (restore after a restart). */
  addSaved(s: SavedRow): void {
    const [name, head, source, origin, count, uncached, stale, sumMs, hist] = s;
    const row = newRow(0);
    row.count = count;
    row.uncached = uncached;
    row.stale = stale;
    row.sumMs = sumMs;
    for (let i = 0; i + 1 < hist.length; i += 2) if (hist[i]! >= 0 && hist[i]! < HIST_BUCKETS) histAdd(row.hist, hist[i]!, hist[i + 1]!);
    addInto(this.rowFor(name, head + this.source(source) * 256 + this.origin(origin), count), row);
  }

  /** The dimensions of one of this bucket's rows. */
  dimsOf(r: Row): RowDims {
    let k = r.key;
    const org = k % 256;
    k = (k - org) / 256;
    const src = k % 2048;
    k = (k - src) / 2048;
    const rs = k % 4096;
    k = (k - rs) / 4096;
    const qs = k % 256;
    k = (k - qs) / 256;
    const ipv6 = k % 2 === 1;
    k = Math.floor(k / 2);
    const tcp = k % 2 === 1;
    k = Math.floor(k / 2);
    const cached = k % 2 === 1;
    k = Math.floor(k / 2);
    const rcode = k % 16;
    const ti = Math.floor(k / 16);
    return { qtype: INDEX_TYPE[ti] ?? 0, rcode, cached, tcp, ipv6, querySize16: qs, responseSize16: rs, source: this.sourceList[src] ?? OTHER, origin: this.originList[org] ?? OTHER };
  }

  /** The row a query (or `weight` queries) of `nameKey` with `key` counts in; makes room in the sketch. */
  private rowFor(nameKey: string, key: number, weight: number): Row {
    this.total += weight;
    let rows: Map<number, Row>;
    if (nameKey === OTHER) rows = this.other;
    else {
      let slot = this.slots.get(nameKey);
      if (slot !== undefined) this.bump(slot, weight);
      else if (this.heap.length < this.limits.maxNames) {
        slot = { nameKey, est: 0, heapAt: this.heap.length, rows: new Map() };
        this.heap.push(slot);
        this.slots.set(nameKey, slot);
        this.bump(slot, weight);
      } else if (weight === 1 && ++this.misses > ADMIT_ALL * this.limits.maxNames && this.misses % ADMIT_EVERY !== 0) {
        // Sketch full, name not in it: counted under (other) without an eviction (see ADMIT_EVERY).
        slot = undefined;
      } else {
        // Space-saving: the new name takes the place of the smallest estimate and inherits it; the rows of the
        // name it replaces move to (other).
        slot = this.heap[0]!;
        for (const r of slot.rows.values()) {
          const o = this.other.get(r.key);
          if (o === undefined) this.other.set(r.key, r);
          else {
            addInto(o, r);
            this.rows--;
            // Under a flood every query evicts a one-row name: reuse its row rather than make garbage.
            if (this.spare.length < 16) this.spare.push(r);
          }
        }
        slot.rows.clear();
        this.slots.delete(slot.nameKey);
        slot.nameKey = nameKey;
        this.slots.set(nameKey, slot);
        this.bump(slot, weight);
      }
      rows = slot === undefined ? this.other : slot.rows;
    }
    let row = rows.get(key);
    if (row === undefined) {
      if (this.rows >= this.limits.maxRows && rows !== this.other) {
        // Row cap: the query counts under (other) name and source.
        const ok = withSource(key, SRC_OTHER);
        row = this.other.get(ok);
        if (row !== undefined) return row;
        row = newRow(ok);
        this.other.set(ok, row);
      } else {
        row = this.spare.pop();
        if (row === undefined) row = newRow(key);
        else {
          row.key = key;
          row.count = row.uncached = row.stale = row.sumMs = 0;
          row.hist.length = 0;
        }
        rows.set(key, row);
      }
      this.rows++;
    }
    return row;
  }

  private bump(slot: Slot, weight: number): void {
    slot.est += weight;
    // Sift down: the estimate only grows.
    const h = this.heap;
    let i = slot.heapAt;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && h[r]!.est < h[l]!.est ? r : l;
      if (h[c]!.est >= slot.est) break;
      h[i] = h[c]!;
      h[i]!.heapAt = i;
      i = c;
    }
    h[i] = slot;
    slot.heapAt = i;
  }

  /** Every row with its name key (OTHER for the rest). */
  *entries(): IterableIterator<readonly [string, Row]> {
    for (const s of this.heap) for (const r of s.rows.values()) yield [s.nameKey, r];
    for (const r of this.other.values()) yield [OTHER, r];
  }
}

export interface RecorderOptions {
  /** Names kept per zone and minute (space-saving sketch size). */
  readonly maxNames: number;
  /** Names kept per zone and hour, once minutes are folded into hours. */
  readonly maxNamesHourly: number;
  readonly maxSources: number;
  readonly maxRows: number;
  /** Minutes are kept this long (s), then folded into their hour. */
  readonly minuteRetentionS: number;
  /** Everything older than this (s) is dropped. */
  readonly retentionS: number;
  /**
   * Rows held in all buckets of the process at most (the memory budget): past it the oldest buckets are dropped,
   * whatever the retention. Checked once a minute, so the current minute may add up to `maxRows` per zone.
   */
  readonly maxTotalRows: number;
}

export const DEFAULT_RECORDER: RecorderOptions = Object.freeze({
  maxNames: 200,
  maxNamesHourly: 500,
  maxSources: 200,
  maxRows: 2000,
  minuteRetentionS: 6 * 3600,
  retentionS: 7 * 86_400,
  maxTotalRows: 80_000,
});

/** A row as saved: name key, packed key without source and origin, source, origin, count, uncached, stale, sumMs, histogram pairs. */
export type SavedRow = readonly [string, number, string, string, number, number, number, number, readonly number[]];
export interface SavedBucket {
  readonly start: number;
  readonly span: number;
  readonly rows: readonly SavedRow[];
}
/** What a recorder saves under state-dir (JSON). */
export interface SavedRecorder {
  readonly version: 1;
  readonly zones: { readonly [zone: string]: readonly SavedBucket[] };
}

/** One zone's buckets by start time (unix seconds). */
interface ZoneBuckets {
  readonly minutes: Map<number, Bucket>;
  readonly hours: Map<number, Bucket>;
}

/** One process's rollups: per zone, minute buckets and the hour buckets older minutes were folded into. */
export class AnalyticsRecorder {
  private readonly zones = new Map<string, ZoneBuckets>();
  /** The current minute's bucket per zone (the hot path's shortcut). */
  private readonly current = new Map<string, Bucket>();
  private currentMinute = -1;
  private readonly minuteLimits: BucketLimits;
  private readonly hourLimits: BucketLimits;

  constructor(readonly options: RecorderOptions = DEFAULT_RECORDER) {
    this.minuteLimits = { maxNames: options.maxNames, maxSources: options.maxSources, maxRows: options.maxRows };
    this.hourLimits = { maxNames: options.maxNamesHourly, maxSources: options.maxSources * 2, maxRows: options.maxRows * 2 };
  }

  /** Count one answered query at `nowMs`. */
  record(f: QueryFacts, nowMs = Date.now()): void {
    const minute = Math.floor(nowMs / 60_000) * 60;
    if (minute !== this.currentMinute) {
      this.current.clear();
      this.currentMinute = minute;
      this.compact(minute);
    }
    let b = this.current.get(f.zone);
    if (b === undefined) {
      let z = this.zones.get(f.zone);
      if (z === undefined) this.zones.set(f.zone, (z = { minutes: new Map(), hours: new Map() }));
      b = z.minutes.get(minute);
      if (b === undefined) z.minutes.set(minute, (b = new Bucket(minute, 60, this.minuteLimits)));
      this.current.set(f.zone, b);
    }
    b.record(f);
  }

  /** Fold minutes older than the minute retention into hours; drop what is past the retention. */
  compact(nowS: number): void {
    const fold = nowS - this.options.minuteRetentionS;
    const drop = nowS - this.options.retentionS;
    for (const [zone, z] of this.zones) {
      for (const [start, b] of z.minutes) {
        if (start >= fold) continue;
        z.minutes.delete(start);
        if (start + 60 <= drop) continue;
        const hs = start - (start % 3600);
        let h = z.hours.get(hs);
        if (h === undefined) z.hours.set(hs, (h = new Bucket(hs, 3600, this.hourLimits)));
        for (const [name, r] of b.entries()) h.addRow(name, r, b);
      }
      for (const start of z.hours.keys()) if (start + 3600 <= drop) z.hours.delete(start);
      if (z.minutes.size === 0 && z.hours.size === 0) this.zones.delete(zone);
    }
    this.enforceBudget();
  }

  /** Rows held now (all zones and buckets). */
  get rowCount(): number {
    let n = 0;
    for (const z of this.zones.values()) for (const m of [z.hours, z.minutes]) for (const b of m.values()) n += b.rows;
    return n;
  }

  /** Drop the oldest buckets (of any zone) while more than `maxTotalRows` rows are held. */
  private enforceBudget(): void {
    let n = this.rowCount;
    if (n <= this.options.maxTotalRows) return;
    const all: { readonly m: Map<number, Bucket>; readonly b: Bucket }[] = [];
    for (const z of this.zones.values()) for (const m of [z.hours, z.minutes]) for (const b of m.values()) all.push({ m, b });
    all.sort((x, y) => x.b.start - y.b.start);
    for (const { m, b } of all) {
      if (n <= this.options.maxTotalRows) break;
      m.delete(b.start);
      n -= b.rows;
      this.dropped = Math.max(this.dropped, b.start + b.span);
    }
    this.current.clear();
  }

  /** End (unix s) of the newest bucket dropped for the memory budget; 0 when none was. */
  dropped = 0;

  /** The buckets of `zone` overlapping [sinceS, untilS), oldest first. */
  buckets(zone: string, sinceS: number, untilS: number): Bucket[] {
    const z = this.zones.get(zone);
    if (z === undefined) return [];
    const out: Bucket[] = [];
    for (const m of [z.hours, z.minutes]) for (const b of m.values()) if (b.start < untilS && b.start + b.span > sinceS) out.push(b);
    return out.sort((a, b) => a.start - b.start);
  }

  /** Everything held, for a save. */
  save(): SavedRecorder {
    const zones: { [zone: string]: SavedBucket[] } = {};
    for (const [zone, z] of this.zones) zones[zone] = [...z.hours.values(), ...z.minutes.values()].map((b) => b.save());
    return { version: 1, zones };
  }

  /** Add what a save held (merged with what is recorded already); past the retention is dropped at once. */
  restore(saved: SavedRecorder, nowS: number): void {
    if (saved.version !== 1 || typeof saved.zones !== 'object' || saved.zones === null) return;
    for (const [zone, buckets] of Object.entries(saved.zones)) {
      if (!Array.isArray(buckets)) continue;
      let z = this.zones.get(zone);
      if (z === undefined) this.zones.set(zone, (z = { minutes: new Map(), hours: new Map() }));
      for (const sb of buckets) {
        const hour = sb.span === 3600;
        const m = hour ? z.hours : z.minutes;
        let b = m.get(sb.start);
        if (b === undefined) m.set(sb.start, (b = new Bucket(sb.start, hour ? 3600 : 60, hour ? this.hourLimits : this.minuteLimits)));
        for (const r of sb.rows) b.addSaved(r);
      }
    }
    this.current.clear();
    this.compact(nowS);
  }

  /** Buckets held (all zones). */
  get bucketCount(): number {
    let n = 0;
    for (const z of this.zones.values()) n += z.minutes.size + z.hours.size;
    return n;
  }
}

/** Presentation form (no trailing dot, lower case) of a lowercased wire key; `\DDD` for unprintable octets. */
export function keyToText(key: string): string {
  if (key === OTHER) return OTHER;
  const labels: string[] = [];
  let p = 0;
  while (p < key.length) {
    const len = key.charCodeAt(p);
    if (len === 0) break;
    let s = '';
    for (let i = p + 1; i <= p + len; i++) {
      const c = key.charCodeAt(i);
      // RFC 1035 §5.1: `\.` and `\\` escapes, `\DDD` for other octets.
      if (c === 0x2e || c === 0x5c) s += '\\' + key[i];
      else if (c <= 0x20 || c >= 0x7f) s += '\\' + String(c).padStart(3, '0');
      else s += key[i];
    }
    labels.push(s);
    p += len + 1;
  }
  return labels.length === 0 ? '.' : labels.join('.');
}

/** Node's latin1 decoder (one octet per char, no 0x80-0x9f remapping as TextDecoder('latin1') does). */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;

/**
 * The lowercased wire key of the QNAME of a request, read from the raw bytes (RFC 1035 §4.1.2; no compression
 * in a question), or undefined when it cannot be read. Cheap: no decoding of the rest.
 */
export function requestNameKey(buf: Uint8Array): string | undefined {
  if (buf.length < 17) return undefined;
  let i = 12;
  let upper = false;
  for (let hops = 0; hops < 128; hops++) {
    const len = buf[i];
    if (len === undefined || len > 63 || i + len + 1 > buf.length) return undefined;
    if (len === 0) {
      // One flat string from the octets (latin1), lowercased only when needed (RFC 4343 §3: ASCII only).
      const s = latin1Slice.call(buf, 12, i + 1);
      return upper ? s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32)) : s;
    }
    for (let j = i + 1; j <= i + len; j++) {
      const c = buf[j]!;
      if (c >= 65 && c <= 90) upper = true;
    }
    i += len + 1;
  }
  return undefined;
}

/** Client prefix of an address in text form: /24 for IPv4, /56 for IPv6 (as Cloudflare's source dimension). */
export function sourcePrefix(address: string): string {
  if (address.indexOf(':') < 0) {
    const d = address.lastIndexOf('.');
    return d < 0 ? address : `${address.slice(0, d)}.0/24`;
  }
  // IPv4-mapped IPv6 (RFC 4291 §2.5.5.2): the IPv4 client's /24.
  const v4 = address.lastIndexOf('.');
  if (v4 >= 0) {
    const tail = address.slice(address.lastIndexOf(':') + 1);
    return /^::ffff:/i.test(address) ? sourcePrefix(tail) : `${address}/56`;
  }
  // IPv6: expand to 8 groups and keep the first 56 bits (3.5 groups).
  let a = address;
  const dbl = a.indexOf('::');
  let groups: string[];
  if (dbl >= 0) {
    const head = a.slice(0, dbl).split(':').filter((g) => g !== '');
    const tail = a.slice(dbl + 2).split(':').filter((g) => g !== '');
    groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  } else groups = a.split(':');
  a = groups.slice(0, 4).map((g) => parseInt(g, 16)).map((v, i) => (i === 3 ? v & 0xff00 : v).toString(16)).join(':');
  return `${a}::/56`;
}
