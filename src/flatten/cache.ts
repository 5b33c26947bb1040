// The flattening cache: upstream replies reduced to what flattening needs (final data, a CNAME to continue at, or
// no data), kept for their TTL and, after a failed refresh, served stale (RFC 8767, seed "Stale response").

import { RRType, Rcode } from '../wire/constants.js';
import type { Message } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import { rdataTargetName, soaFields } from '../wire/rdata/index.js';
import { FifoMap } from '../util/fifo-map.js';

/** What one upstream question told us about `name`/`type`. */
export type UpstreamData =
  /** The RRset of the asked type, reached from the asked name through `hops` CNAMEs; ttl = min over all of them. */
  | { readonly kind: 'data'; readonly rdata: readonly Uint8Array[]; readonly ttl: number; readonly hops: number }
  /** The reply followed CNAMEs to `target` and stopped there (an authoritative server outside its zone): go on there. */
  | { readonly kind: 'cname'; readonly target: Name; readonly ttl: number; readonly hops: number }
  /** NXDOMAIN or NODATA at the end of the chain (RFC 2308): flattening answers NODATA. */
  | { readonly kind: 'nodata'; readonly ttl: number }
  /** A referral or an unusable reply: the name cannot be flattened through this resolver. */
  | { readonly kind: 'unusable'; readonly reason: string };

export interface CacheEntry {
  readonly value: UpstreamData;
  /** Date.now() ms when the data expires. */
  readonly expiresAt: number;
  /** Until when the expired data may still be served (RFC 8767 §4 stale-answer window). */
  readonly staleUntil: number;
  /** Date.now() ms of the last failed refresh; 0 while refreshes succeed. While set, the data is served stale. */
  failedAt: number;
}

/** RFC 2308 §5: negative answers are cached for min(SOA TTL, SOA MINIMUM); this when the reply has no SOA. */
const DEFAULT_NEGATIVE_TTL = 60;
/** Upper bound on cached TTLs (RFC 8767 §4 suggests capping at 7 days; RFC 2181 §8 allows 2^31-1). */
const MAX_TTL = 604_800;
/** Longest CNAME chain accepted inside one upstream reply. */
const MAX_REPLY_CHAIN = 16;

/** Reduce a NOERROR/NXDOMAIN reply for `name`/`type` (RFC 1034 §4.3.2 answer-section CNAME chains, RFC 2308). */
export function interpretReply(msg: Message, name: Name, type: number): UpstreamData {
  let cur = name;
  let ttl = MAX_TTL;
  let hops = 0;
  const seen = new Set<string>();
  for (;;) {
    if (seen.has(cur.key) || hops > MAX_REPLY_CHAIN) return { kind: 'unusable', reason: `CNAME loop in the reply for ${name.toString()}` };
    seen.add(cur.key);
    const rdata: Uint8Array[] = [];
    let setTtl = MAX_TTL;
    let cname: { target: Name; ttl: number } | undefined;
    for (const rr of msg.answer) {
      if (rr.owner.key !== cur.key) continue;
      if (rr.type === type) {
        rdata.push(rr.rdata);
        // RFC 2181 §5.2: one TTL per RRset; use the lowest if a server sends differing ones.
        setTtl = Math.min(setTtl, rr.ttl);
      } else if (rr.type === RRType.CNAME && !cname) {
        const t = rdataTargetName(RRType.CNAME, rr.rdata);
        if (t) cname = { target: t, ttl: rr.ttl };
      }
    }
    if (rdata.length > 0) return { kind: 'data', rdata, ttl: Math.min(ttl, setTtl), hops };
    if (!cname) break;
    ttl = Math.min(ttl, cname.ttl);
    hops++;
    cur = cname.target;
  }
  // RFC 6604 §3: the RCODE describes the last name of the chain; NXDOMAIN means it does not exist.
  const soa = msg.authority.find((rr) => rr.type === RRType.SOA);
  const negTtl = soa ? Math.min(soa.ttl, soaFields(soa.rdata).minimum) : DEFAULT_NEGATIVE_TTL;
  if (msg.rcode === Rcode.NXDOMAIN) return { kind: 'nodata', ttl: negTtl };
  if (hops > 0 && !soa) {
    // An authoritative server answers a CNAME to a name outside its zones without following it: continue there.
    return { kind: 'cname', target: cur, ttl, hops };
  }
  if (!soa && msg.authority.some((rr) => rr.type === RRType.NS) && !msg.answer.some((rr) => rr.owner.key === cur.key)) {
    // RFC 1034 §4.3.1: a referral is not an answer; the resolvers must be recursive or authoritative for the target.
    return { kind: 'unusable', reason: `referral instead of an answer for ${cur.toString()}` };
  }
  return { kind: 'nodata', ttl: negTtl };
}

/** TTL-honouring cache of UpstreamData keyed by `name.key + type`, bounded in entries (oldest dropped first). */
export class UpstreamCache {
  private readonly map = new FifoMap<string, CacheEntry>();

  constructor(
    private readonly maxEntries: number,
    /** Seconds expired data may be served after a failed refresh. */
    private readonly staleTtl: number,
  ) {}

  static key(name: Name, type: number): string {
    return name.key + String.fromCharCode(type >> 8, type & 0xff);
  }

  get(key: string): CacheEntry | undefined {
    return this.map.get(key);
  }

  get size(): number {
    return this.map.size;
  }

  /** Store a fresh value; `now` in ms. Returns the entry. */
  set(key: string, value: UpstreamData, now: number): CacheEntry {
    const ttl = value.kind === 'unusable' ? 0 : Math.min(Math.max(value.ttl, 0), MAX_TTL);
    const expiresAt = now + ttl * 1000;
    const entry: CacheEntry = { value, expiresAt, staleUntil: expiresAt + this.staleTtl * 1000, failedAt: 0 };
    this.map.delete(key);
    if (this.map.size >= this.maxEntries) this.map.shift();
    this.map.set(key, entry);
    return entry;
  }

  clear(): void {
    this.map.clear();
  }
}
