// The analytics hook on the answer path: gathers a query's facts from the raw request and reply bytes.

import type { Replies } from '../wire/message.js';
import type { ZoneStore } from '../zone/store.js';
import { requestNameKey, sourcePrefix, type AnalyticsRecorder } from './analytics.js';
import { flattenedAnswer, type QueryContext, type QueryEngine } from './pipeline.js';

/** The QTYPE following the QNAME that ends at `end` (RFC 1035 §4.1.2). */
function qtypeAt(buf: Uint8Array, end: number): number {
  return end + 1 < buf.length ? (buf[end]! << 8) | buf[end + 1]! : 0;
}

const FEW_ZONES = 16;

/** The longest of `zones` (wire keys) that is a label-aligned suffix of `key`, or undefined. */
function longestZone(key: string, zones: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const z of zones) {
    if ((best === undefined || z.length > best.length) && key.endsWith(z)) {
      const target = key.length - z.length;
      let p = 0;
      while (p < target) p += key.charCodeAt(p) + 1;
      if (p === target) best = z;
    }
  }
  return best;
}

/**
 * Records every answered query of a served zone (queries outside our zones, dropped requests and zone transfers
 * are not recorded). The zone is the longest-suffix match of the QNAME's wire key in the zone set; whether the
 * answer came from the answer cache is the engine's flag for the call, read right after handle() returned.
 */
export class AnalyticsTap {
  /** Presentation names of the zones by origin key, for the current zone set. */
  private zoneNames = new Map<string, string>();
  /** With few zones, their keys for a suffix scan (cheaper than hashing every parent of the QNAME). */
  private zoneKeys: readonly string[] | undefined;
  private generation = -1;
  /** The last client (address, or /24 as a number) and its prefix (a client usually sends several queries in a row). */
  private lastAddress = '';
  private lastV4 = -1;
  private lastSource = '';

  constructor(
    private readonly recorder: AnalyticsRecorder,
    private readonly store: ZoneStore,
    private readonly engine: QueryEngine,
  ) {}

  observe(req: Uint8Array, r: Replies, ctx: QueryContext, ipv6: boolean, started: number): Replies {
    const cached = this.engine.lastCached;
    if (r instanceof Uint8Array) this.record(req, r, ctx, ipv6, started, cached);
    else if (r instanceof Promise) {
      return r.then((v) => {
        if (v !== null) this.record(req, v, ctx, ipv6, started, false);
        return v;
      });
    }
    return r;
  }

  /**
   * The client's /24 or /56. From the address octets when the transport has them: the batched UDP path formats
   * `address` only on demand, and formatting it for every query cost more than the rest of the recording.
   */
  private sourceOf(ctx: QueryContext): string {
    const o = ctx.octets?.();
    if (o !== undefined && o.length === 4) return this.v4Source(o[0]!, o[1]!, o[2]!);
    // RFC 4291 §2.5.5.2: an IPv4-mapped address is the IPv4 client.
    if (o !== undefined && o.length === 16 && o[10] === 0xff && o[11] === 0xff && o.subarray(0, 10).every((b) => b === 0)) return this.v4Source(o[12]!, o[13]!, o[14]!);
    if (ctx.address !== this.lastAddress) {
      this.lastAddress = ctx.address;
      this.lastV4 = -1;
      this.lastSource = sourcePrefix(ctx.address);
    }
    return this.lastSource;
  }

  private v4Source(a: number, b: number, c: number): string {
    const k = (a << 16) | (b << 8) | c;
    if (k !== this.lastV4) {
      this.lastV4 = k;
      this.lastAddress = '';
      this.lastSource = `${a}.${b}.${c}.0/24`;
    }
    return this.lastSource;
  }

  private record(req: Uint8Array, reply: Uint8Array, ctx: QueryContext, ipv6: boolean, started: number, cached: boolean): void {
    if (reply.length < 12) return;
    const set = this.store.current;
    if (set.generation !== this.generation) {
      this.generation = set.generation;
      this.zoneNames = new Map([...set.zones()].map((z) => [z.snapshot.origin.key, z.snapshot.origin.toString().replace(/\.$/, '').toLowerCase() || '.']));
      this.zoneKeys = this.zoneNames.size <= FEW_ZONES ? [...this.zoneNames.keys()] : undefined;
    }
    const nameKey = requestNameKey(req);
    if (nameKey === undefined) return;
    const zoneKey = this.zoneKeys === undefined ? set.find(nameKey)?.snapshot.origin.key : longestZone(nameKey, this.zoneKeys);
    if (zoneKey === undefined) return;
    const source = this.sourceOf(ctx);
    const flat = cached ? undefined : flattenedAnswer(reply);
    this.recorder.record({
      nameKey,
      zone: this.zoneNames.get(zoneKey)!,
      qtype: qtypeAt(req, 12 + nameKey.length),
      rcode: reply[3]! & 0x0f,
      cached,
      stale: flat?.stale ?? false,
      origin: flat?.origin ?? '',
      tcp: ctx.transport === 'tcp',
      ipv6,
      querySize: req.length,
      responseSize: reply.length,
      source,
      ms: performance.now() - started,
    });
  }
}
