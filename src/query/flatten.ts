// The CNAME-flattening stage: turns a resolution that stopped at a flattened CNAME into the target's final A/AAAA/HTTPS
// RRset at the CNAME's owner (seed "CNAME flattening", "CNAME flattening diagram", "Stale response").

import type { Logger } from 'pino';
import { EdeCode, RRClass } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import type { FlatteningConfig } from '../flatten/upstream.js';
import { NO_META, type RRset, type RecordMeta } from '../zone/model.js';
import type { ZoneSet, ZoneStore } from '../zone/store.js';
import { UpstreamCache, interpretReply, type CacheEntry, type UpstreamData } from '../flatten/cache.js';
import { upstreamClient, type UpstreamQuery, type UpstreamReply } from '../flatten/upstream.js';
import { resolve, type ResolveOptions } from './resolve.js';
import type { ChainLink, Resolution } from '../zone/resolution.js';
import type { Ede } from '../wire/response.js';
import { FifoMap } from '../util/fifo-map.js';

/** The flattening stage's result: the resolution to answer from, an optional EDE, and how long the bytes may be reused. */
export interface Shaped {
  /** `answer` (synthesized RRset at the flattened owner) or `nodata`; undefined = SERVFAIL (loop, upstream failure). */
  readonly res: Resolution | undefined;
  /** RFC 8914 Extended DNS Error to attach (stale answer, unreachable upstream, loop). */
  readonly ede?: Ede;
  /**
   * Until when (Date.now() ms) the encoded answer may be served from the encoded-answer cache: 0 = never (stale or
   * failed answers), Infinity = until the zone set changes (targets inside served zones only).
   */
  readonly cacheUntil: number;
  /** The external target whose data came from the upstream resolvers (analytics' `origin`); none for in-zone targets. */
  readonly origin?: string;
}

export interface FlattenOptions {
  readonly config: FlatteningConfig;
  readonly logger?: Logger | undefined;
  /** Replaces the network client (tests). */
  readonly upstream?: UpstreamQuery;
  /** Clock in ms (tests); default Date.now. */
  readonly now?: () => number;
  /** Entries in each of the two caches (upstream data, shaped answers). Default 10000. */
  readonly cacheEntries?: number;
}

/** The flatten mark on a CNAME RRset: apex CNAMEs, cf-flatten-cname, ALIAS/ANAME and flatten-all (set at load). */
export function isFlattened(cname: RRset): boolean {
  return cname.meta[0]?.flatten === true;
}

/** Options for resolve() that make flattened CNAMEs stop resolution (FLATTEN_TYPES) or be ignored (other types). */
export const FLATTEN_RESOLVE_OPTIONS: ResolveOptions = Object.freeze({ isFlattened });

/** True when `res` stopped at a flattened CNAME, i.e. the flattening stage must produce the answer. */
export function needsFlattening(res: Resolution): res is Resolution & { kind: 'external' } {
  if (res.kind !== 'external') return false;
  const last = res.chain[res.chain.length - 1];
  return last?.flatten === true;
}

/** RFC 8767 §4: stale answers carry a TTL of 30 seconds. */
const STALE_TTL = 30;
/** RFC 8767 §4 failure recheck timer: after a failed refresh, serve stale and retry in the background this often. */
const RETRY_MS = 30_000;

type Step =
  | { readonly kind: 'data'; readonly rdata: readonly Uint8Array[]; readonly meta: readonly RecordMeta[] | undefined }
  | { readonly kind: 'nodata' }
  | { readonly kind: 'fail'; readonly ede: Ede; readonly log: string | undefined }
  | { readonly kind: 'need'; readonly name: Name };

/** Mutable progress of one chase from the flattened CNAME's target to the final RRset. */
interface Walk {
  name: Name;
  /**
   * Minimum TTL seen so far (flattened CNAME, chain links, final RRset; seed "CNAME flattening diagram"), upstream
   * data counted with what is left of its TTL, as a resolver's cache counts it down.
   */
  ttl: number;
  /** Minimum TTL of the records from our own zones (the flattened CNAME and chain links in served zones). */
  zoneTtl: number;
  hops: number;
  readonly seen: Set<string>;
  /** Earliest expiry of upstream data used (Infinity when everything came from served zones). */
  expiresAt: number;
  stale: boolean;
  readonly set: ZoneSet;
  readonly qtype: number;
  /** Entries fetched during this chase: used even when their TTL is 0. */
  fetched: Map<string, CacheEntry> | undefined;
}

/** The `origin` of a flattened answer: the external target, when upstream data was used (seed R04 "origin"). */
function upstreamOrigin(res: Resolution & { kind: 'external' }, w: Walk): { origin?: string } {
  return w.expiresAt === Infinity ? {} : { origin: res.name.toString().replace(/\.$/, '').toLowerCase() };
}

interface ShapedEntry {
  readonly shaped: Shaped;
  readonly generation: number;
  readonly expiresAt: number;
}

type FetchOutcome = { readonly kind: 'ok'; readonly entry: CacheEntry } | (UpstreamReply & { kind: 'fail' });

export class Flattener {
  private readonly upstreamCache: UpstreamCache;
  /**
   * Finished answers per qtype by `qname.key` (whose hash V8 already computed during routing), valid for one zone-set
   * generation and until their data expires.
   */
  private readonly shapedCache = new Map<number, FifoMap<string, ShapedEntry>>();
  private readonly inflight = new Map<string, Promise<FetchOutcome>>();
  private readonly upstream: UpstreamQuery;
  private readonly now: () => number;
  private readonly maxEntries: number;
  upstreamQueries = 0;
  /** Upstream questions that failed (timeout, network, SERVFAIL...). */
  upstreamErrors = 0;
  /** Answers built from expired upstream data because the upstream failed (RFC 8767). */
  staleAnswers = 0;

  constructor(
    private readonly store: ZoneStore,
    private readonly opts: FlattenOptions,
  ) {
    this.maxEntries = opts.cacheEntries ?? 10_000;
    this.upstreamCache = new UpstreamCache(this.maxEntries, opts.config.staleTtl);
    this.upstream = opts.upstream ?? upstreamClient(opts.config.resolvers, opts.config.timeoutMs);
    this.now = opts.now ?? Date.now;
  }

  /**
   * Answer a resolution that stopped at a flattened CNAME (see needsFlattening). Synchronous when everything needed is
   * in served zones or fresh in the cache; a Promise only when an upstream must be asked.
   */
  shape(res: Resolution & { kind: 'external' }, qname: Name, qtype: number): Shaped | Promise<Shaped> {
    const set = this.store.current;
    let byName = this.shapedCache.get(qtype);
    if (byName === undefined) this.shapedCache.set(qtype, (byName = new FifoMap()));
    const key = qname.key;
    const hit = byName.get(key);
    if (hit !== undefined) {
      if (hit.generation === set.generation && (hit.expiresAt === Infinity || hit.expiresAt > this.now())) return hit.shaped;
      byName.delete(key);
    }
    const link = res.chain[res.chain.length - 1]!;
    const walk: Walk = {
      name: res.name,
      ttl: link.rrset.ttl,
      zoneTtl: link.rrset.ttl,
      // The flattened CNAME itself is the first hop.
      hops: 1,
      seen: new Set([link.rrset.owner.key]),
      expiresAt: Infinity,
      stale: false,
      set,
      qtype,
      fetched: undefined,
    };
    const step = this.walk(walk);
    if (step.kind !== 'need') return this.finish(res, link, walk, step, byName, key);
    return this.chaseAsync(walk, step.name).then((s) => this.finish(res, link, walk, s, byName, key));
  }

  /** Drop all cached upstream data and answers (tests, operator flush). */
  clear(): void {
    this.upstreamCache.clear();
    this.shapedCache.clear();
  }

  /** Follow the chain as far as served zones and the cache allow. Mutates `w`; `need` names the missing upstream data. */
  private walk(w: Walk): Step {
    const maxChain = this.opts.config.maxChain;
    for (;;) {
      if (w.seen.has(w.name.key)) return this.loopStep(`CNAME loop while flattening: ${w.name.toString()} is reached twice`);
      if (w.hops > maxChain) return this.loopStep(`CNAME chain longer than max-chain (${maxChain}) while flattening ${w.name.toString()}`);
      w.seen.add(w.name.key);

      const zone = w.set.find(w.name.key);
      if (zone) {
        if (zone.expired) return { kind: 'fail', ede: { code: EdeCode.NO_REACHABLE_AUTHORITY, text: `flattening target ${w.name.toString()} is in an expired zone` }, log: undefined };
        // Seed "Set up CNAME flattening": targets in zones we serve are resolved from our own data (chasing CNAMEs and
        // wildcards as RFC 1034 §4.3.2 does).
        const r = resolve(zone.snapshot, w.name, w.qtype);
        for (const l of r.chain) {
          w.ttl = Math.min(w.ttl, l.rrset.ttl);
          w.zoneTtl = Math.min(w.zoneTtl, l.rrset.ttl);
          w.hops++;
          w.seen.add(l.rrset.owner.key);
        }
        if (w.hops > maxChain) return this.loopStep(`CNAME chain longer than max-chain (${maxChain}) while flattening ${w.name.toString()}`);
        switch (r.kind) {
          case 'answer': {
            const set = r.rrsets[0]!;
            w.ttl = Math.min(w.ttl, set.ttl);
            w.zoneTtl = Math.min(w.zoneTtl, set.ttl);
            return { kind: 'data', rdata: set.rdata, meta: set.meta };
          }
          case 'nodata':
          case 'nxdomain':
            // Seed "Troubleshooting email issues" (D08): no data of that type gives an empty answer.
            return { kind: 'nodata' };
          case 'loop':
          case 'yxdomain':
            return this.loopStep(`CNAME loop or over-long chain in zone ${zone.snapshot.origin.toString()} while flattening ${w.name.toString()}`);
          case 'external':
            w.name = r.name;
            continue;
          case 'referral':
            // Below a zone cut: the data is not ours; ask the resolvers like for any other outside name.
            break;
          default: {
            const never: never = r;
            return never;
          }
        }
      }

      const key = UpstreamCache.key(w.name, w.qtype);
      const fetched = w.fetched?.get(key);
      const e = fetched ?? this.upstreamCache.get(key);
      if (e === undefined) {
        w.seen.delete(w.name.key);
        return { kind: 'need', name: w.name };
      }
      if (fetched === undefined) {
        const now = this.now();
        if (now >= e.expiresAt) {
          if (e.failedAt > 0 && now < e.staleUntil) {
            // Seed "Stale response": the upstream failed; answer from the expired data and refresh in the background.
            w.stale = true;
            if (now - e.failedAt >= RETRY_MS) this.refreshInBackground(w.name, w.qtype, e);
          } else {
            w.seen.delete(w.name.key);
            return { kind: 'need', name: w.name };
          }
        }
      }
      w.expiresAt = Math.min(w.expiresAt, e.expiresAt);
      const v: UpstreamData = e.value;
      // What is left of the upstream TTL (rounded up: 0 only when upstream said 0, or the data has expired and is
      // served stale, which finish() gives the stale TTL).
      const left = v.kind === 'unusable' ? 0 : Math.min(v.ttl, Math.max(0, Math.ceil((e.expiresAt - this.now()) / 1000)));
      switch (v.kind) {
        case 'data':
          w.ttl = Math.min(w.ttl, left);
          w.hops += v.hops;
          if (w.hops > maxChain) return this.loopStep(`CNAME chain longer than max-chain (${maxChain}) while flattening ${w.name.toString()}`);
          return { kind: 'data', rdata: v.rdata, meta: undefined };
        case 'nodata':
          return { kind: 'nodata' };
        case 'cname':
          w.ttl = Math.min(w.ttl, left);
          w.hops += v.hops;
          w.name = v.target;
          continue;
        case 'unusable':
          return { kind: 'fail', ede: { code: EdeCode.NO_REACHABLE_AUTHORITY, text: `flattening ${w.name.toString()}: ${v.reason}` }, log: v.reason };
        default: {
          const never: never = v;
          return never;
        }
      }
    }
  }

  /**
   * How long a finished answer built from upstream data expiring at `expiresAt` may be reused (here and in the
   * encoded-answer cache): until its TTL, counted in whole seconds left, would drop by one, so every reuse carries the
   * TTL a resolver's cache would show. Answers from served zones only (Infinity) stay until the zones change.
   */
  private reuseUntil(expiresAt: number): number {
    if (expiresAt === Infinity) return Infinity;
    const now = this.now();
    return expiresAt <= now ? 0 : now + ((expiresAt - now - 1) % 1000) + 1;
  }

  private loopStep(message: string): Step {
    return { kind: 'fail', ede: { code: EdeCode.OTHER, text: message }, log: message };
  }

  /** Ask upstream for each missing piece in turn, falling back to stale data on failure. */
  private async chaseAsync(w: Walk, first: Name): Promise<Step> {
    let need = first;
    for (;;) {
      const key = UpstreamCache.key(need, w.qtype);
      const out = await this.fetch(need, w.qtype);
      if (out.kind === 'ok') {
        (w.fetched ??= new Map()).set(key, out.entry);
      } else {
        const old = this.upstreamCache.get(key);
        const now = this.now();
        if (old === undefined || now >= old.staleUntil) {
          // RFC 8914 §4.23/§4.24: nothing to fall back to; tell the client why.
          const code = out.reason === 'network' ? EdeCode.NETWORK_ERROR : EdeCode.NO_REACHABLE_AUTHORITY;
          return { kind: 'fail', ede: { code, text: `flattening ${need.toString()}: ${out.detail}` }, log: undefined };
        }
        old.failedAt = now;
      }
      const step = this.walk(w);
      if (step.kind !== 'need') return step;
      need = step.name;
    }
  }

  /** One upstream question, deduplicated across concurrent queries; a success replaces the cache entry. */
  private fetch(name: Name, qtype: number): Promise<FetchOutcome> {
    const key = UpstreamCache.key(name, qtype);
    const running = this.inflight.get(key);
    if (running) return running;
    this.upstreamQueries++;
    const p = this.upstream(name, qtype)
      .catch((e: unknown): UpstreamReply => ({ kind: 'fail', reason: 'network', detail: (e as Error).message }))
      .then((reply): FetchOutcome => {
        this.inflight.delete(key);
        if (reply.kind === 'fail') {
          this.upstreamErrors++;
          this.opts.logger?.warn({ target: name.toString(), qtype, reason: reply.reason }, `flattening upstream failed: ${reply.detail}`);
          return reply;
        }
        return { kind: 'ok', entry: this.upstreamCache.set(key, interpretReply(reply.message, name, qtype), this.now()) };
      });
    this.inflight.set(key, p);
    return p;
  }

  private refreshInBackground(name: Name, qtype: number, e: CacheEntry): void {
    if (this.inflight.has(UpstreamCache.key(name, qtype))) return;
    e.failedAt = this.now();
    void this.fetch(name, qtype).then((out) => {
      if (out.kind === 'fail') e.failedAt = this.now();
    });
  }

  /** Build the Shaped result and remember it when it may be reused. */
  private finish(res: Resolution & { kind: 'external' }, link: ChainLink, w: Walk, step: Step, byName: FifoMap<string, ShapedEntry>, key: string): Shaped {
    const zone = res.zone;
    const chain = res.chain.slice(0, -1);
    // The flattened CNAME's owner: the QNAME, or the last target of the (non-flattened) chain before it.
    const owner = link.rrset.owner;
    const node = link.wildcard?.source ?? zone.nodes.get(owner.key)!;
    let shaped: Shaped;
    if (w.stale && (step.kind === 'data' || step.kind === 'nodata')) this.staleAnswers++;
    switch (step.kind) {
      case 'data': {
        // RFC 8767 §4: a stale answer is served with TTL 30 (or our own records' TTL when lower).
        const ttl = w.stale ? Math.min(w.zoneTtl, STALE_TTL) : w.ttl;
        const rrset: RRset = {
          owner,
          type: w.qtype,
          class: RRClass.IN,
          ttl,
          rdata: step.rdata,
          meta: step.meta ?? step.rdata.map(() => NO_META),
        };
        const answer: Resolution = link.wildcard
          ? { kind: 'answer', zone, chain, name: owner, node, rrsets: [rrset], wildcard: link.wildcard }
          : { kind: 'answer', zone, chain, name: owner, node, rrsets: [rrset] };
        // RFC 8914 §4.4: Stale Answer.
        shaped = w.stale
          ? { res: answer, ede: { code: EdeCode.STALE_ANSWER, text: 'flattened from expired upstream data (upstream unreachable)' }, cacheUntil: 0, ...upstreamOrigin(res, w) }
          : { res: answer, cacheUntil: this.reuseUntil(w.expiresAt), ...upstreamOrigin(res, w) };
        break;
      }
      case 'nodata': {
        const nodata: Resolution = link.wildcard
          ? { kind: 'nodata', zone, chain, name: owner, node, wildcard: link.wildcard }
          : { kind: 'nodata', zone, chain, name: owner, node };
        shaped = w.stale
          ? { res: nodata, ede: { code: EdeCode.STALE_ANSWER, text: 'flattened from expired upstream data (upstream unreachable)' }, cacheUntil: 0, ...upstreamOrigin(res, w) }
          : { res: nodata, cacheUntil: this.reuseUntil(w.expiresAt), ...upstreamOrigin(res, w) };
        break;
      }
      case 'fail':
        if (step.log !== undefined) this.opts.logger?.warn({ qname: owner.toString(), target: res.name.toString() }, step.log);
        // A loop inside served zones stays a loop until the zones change: remember it (and log it once).
        shaped = { res: undefined, ede: step.ede, cacheUntil: step.log !== undefined && w.expiresAt === Infinity && w.fetched === undefined ? Infinity : 0 };
        break;
      case 'need':
        throw new Error('flattening: unresolved upstream step');
      default: {
        const never: never = step;
        return never;
      }
    }
    if (shaped.cacheUntil > this.now()) {
      if (byName.size >= this.maxEntries) byName.shift();
      byName.set(key, { shaped, generation: w.set.generation, expiresAt: shaped.cacheUntil });
    }
    return shaped;
  }
}
