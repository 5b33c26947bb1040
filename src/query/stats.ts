// Per-process query counters for metrics: plain integer increments on the answer path, read on scrape.

import type { Replies } from '../wire/message.js';

/** QTYPEs counted under their own label; every other type counts as "other" (bounded label cardinality). */
const NAMED_TYPES: Readonly<Record<number, string>> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV',
  35: 'NAPTR', 39: 'DNAME', 43: 'DS', 44: 'SSHFP', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 50: 'NSEC3',
  51: 'NSEC3PARAM', 52: 'TLSA', 59: 'CDS', 60: 'CDNSKEY', 64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 251: 'IXFR',
  252: 'AXFR', 255: 'ANY', 256: 'URI', 257: 'CAA',
};
const OTHER_TYPE = 0;

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE', 'DSOTYPENI', 'RCODE12', 'RCODE13', 'RCODE14', 'RCODE15'];

/** Upper bounds (seconds) of the response-time histogram buckets; +Inf is implied. */
export const RESPONSE_TIME_BUCKETS: readonly number[] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/** One labelled count as it leaves the process. */
export interface QueryCount {
  readonly qtype: string;
  readonly rcode: string;
  readonly protocol: 'udp' | 'tcp';
  readonly ipVersion: '4' | '6';
  readonly value: number;
}

export interface QueryStatsSnapshot {
  readonly queries: readonly QueryCount[];
  readonly truncated: number;
  readonly dropped: number;
  /** Cumulative counts per bucket of RESPONSE_TIME_BUCKETS, then +Inf. */
  readonly responseTimeBuckets: readonly number[];
  readonly responseTimeSum: number;
}

/** The QTYPE of the single question of a request, or -1 when it cannot be read (RFC 1035 §4.1.2). */
function requestQtype(buf: Uint8Array): number {
  if (buf.length < 17 || buf[4] !== 0 || buf[5] !== 1) return -1;
  let i = 12;
  for (let hops = 0; hops < 128; hops++) {
    const len = buf[i];
    if (len === undefined || len > 63) return -1;
    i += len + 1;
    if (len === 0) return i + 1 < buf.length ? (buf[i]! << 8) | buf[i + 1]! : -1;
  }
  return -1;
}

/**
 * Counts of answered queries by QTYPE, RCODE, protocol and IP version (a number key per combination), truncated and
 * dropped responses, and a response-time histogram. Answers that are iterables (zone transfers) count once, as
 * NOERROR.
 */
export class QueryStats {
  private readonly counts = new Map<number, number>();
  private readonly buckets = new Float64Array(RESPONSE_TIME_BUCKETS.length + 1);
  private timeSum = 0;
  truncated = 0;
  dropped = 0;

  /** Count the reply to `req` given `seconds` after it arrived (null: nothing was sent). */
  count(req: Uint8Array, reply: Uint8Array | null, transport: 'udp' | 'tcp', ipv6: boolean, seconds: number): void {
    if (reply === null || reply.length < 4) {
      this.dropped++;
      return;
    }
    if ((reply[2]! & 0x02) !== 0) this.truncated++;
    this.record(req, reply[3]! & 0x0f, transport, ipv6, seconds);
  }

  private record(req: Uint8Array, rcode: number, transport: 'udp' | 'tcp', ipv6: boolean, seconds: number): void {
    const qtype = requestQtype(req);
    const t = qtype >= 0 && NAMED_TYPES[qtype] !== undefined ? qtype : OTHER_TYPE;
    const key = ((t * 16 + rcode) * 2 + (transport === 'tcp' ? 1 : 0)) * 2 + (ipv6 ? 1 : 0);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    let b = 0;
    while (b < RESPONSE_TIME_BUCKETS.length && seconds > RESPONSE_TIME_BUCKETS[b]!) b++;
    this.buckets[b]!++;
    this.timeSum += seconds;
  }

  /** Wrap a pipeline result: count it now, or when a Promise settles. */
  observe(req: Uint8Array, r: Replies, transport: 'udp' | 'tcp', ipv6: boolean, started: number): Replies {
    if (r === null || r instanceof Uint8Array) {
      this.count(req, r, transport, ipv6, (performance.now() - started) / 1000);
      return r;
    }
    if (r instanceof Promise) {
      return r.then((v) => {
        this.count(req, v, transport, ipv6, (performance.now() - started) / 1000);
        return v;
      });
    }
    // A streamed answer (AXFR/IXFR): counted once when it starts, by the rcode of its first message when known.
    if (Array.isArray(r)) this.count(req, (r as readonly Uint8Array[])[0] ?? null, transport, ipv6, (performance.now() - started) / 1000);
    else this.record(req, 0, transport, ipv6, (performance.now() - started) / 1000);
    return r;
  }

  snapshot(): QueryStatsSnapshot {
    const queries: QueryCount[] = [];
    for (const [key, value] of this.counts) {
      const ipVersion = key & 1 ? '6' : '4';
      const protocol = key & 2 ? 'tcp' : 'udp';
      const rcode = RCODES[(key >> 2) & 15]!;
      const t = key >> 6;
      queries.push({ qtype: t === OTHER_TYPE ? 'other' : NAMED_TYPES[t]!, rcode, protocol, ipVersion, value });
    }
    const responseTimeBuckets: number[] = [];
    let acc = 0;
    for (const n of this.buckets) responseTimeBuckets.push((acc += n));
    return { queries, truncated: this.truncated, dropped: this.dropped, responseTimeBuckets, responseTimeSum: this.timeSum };
  }
}
