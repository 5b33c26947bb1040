// Bounded cache of RRSIG RDATA (CLOCK, an LRU approximation) with a byte budget; entries close to expiry count as
// misses so they get re-made.

import { FifoMap } from '../util/fifo-map.js';
import type { Name } from '../wire/name.js';
import type { CanonicalRRset } from './canonical.js';

export interface SignatureCacheOptions {
  /** Memory cap in bytes (estimated: key + RDATA + fixed per-entry overhead). */
  readonly maxBytes: number;
  /** An entry is stale once less than this fraction of its validity period remains. Default 0.25. */
  readonly refreshFraction?: number;
  /** An entry is also stale once fewer than this many seconds remain. Default 0 (off). */
  readonly minRemaining?: number;
}

interface Entry {
  readonly rrsig: Uint8Array;
  readonly inception: number;
  readonly expiration: number;
  /** Unix time from which the entry no longer counts as a hit. */
  readonly refreshAt: number;
  readonly size: number;
  /** Hit since the eviction cursor last passed it (CLOCK's reference bit). */
  used: boolean;
}

/** Rough per-entry cost of the Map slot, the entry object and the Uint8Array wrapper. */
const ENTRY_OVERHEAD = 160;

/**
 * Cache key for a signature: signer wire key (self-delimiting, ends in \0) + key tag + the RRset body identity.
 * The body already holds the signed owner (the wildcard owner for expansions, so every expansion of one wildcard
 * shares one signature), type, class, original TTL and canonical RDATA (RFC 4034 §3.1.8.1).
 */
export function signatureCacheKey(set: CanonicalRRset, tag: number, signer: Name): string {
  return signer.key + String.fromCharCode(tag >>> 8, tag & 0xff) + set.bodyKey;
}

/**
 * Signature cache with CLOCK eviction: a hit only sets the entry's reference bit (moving the key to the newest end on
 * every hit is what an exact LRU would do, and that costs V8 tens of µs per hit on a big Map, see FifoMap); eviction
 * gives referenced entries a second round at the newest end and drops the first unreferenced one.
 */
export class SignatureCache {
  private readonly map = new FifoMap<string, Entry>();
  readonly maxBytes: number;
  private readonly refreshFraction: number;
  private readonly minRemaining: number;
  hits = 0;
  misses = 0;
  evictions = 0;
  bytes = 0;

  constructor(opts: SignatureCacheOptions) {
    if (!(opts.maxBytes >= 0)) throw new Error('signature cache maxBytes must be >= 0');
    const f = opts.refreshFraction ?? 0.25;
    if (!(f >= 0 && f < 1)) throw new Error('refreshFraction must be in [0, 1)');
    this.maxBytes = opts.maxBytes;
    this.refreshFraction = f;
    this.minRemaining = opts.minRemaining ?? 0;
  }

  get size(): number {
    return this.map.size;
  }

  /** The cached RRSIG RDATA for `key` if it is still comfortably valid at `now` (unix seconds); counts hit/miss. */
  get(key: string, now: number): Uint8Array | undefined {
    const e = this.map.get(key);
    if (e === undefined) {
      this.misses++;
      return undefined;
    }
    if (now >= e.refreshAt || now < e.inception) {
      this.map.delete(key);
      this.bytes -= e.size;
      this.misses++;
      return undefined;
    }
    e.used = true;
    this.hits++;
    return e.rrsig;
  }

  /** Store a signature made with validity [inception, expiration] (unix seconds). */
  set(key: string, rrsig: Uint8Array, inception: number, expiration: number): void {
    const size = key.length + rrsig.byteLength + ENTRY_OVERHEAD;
    if (size > this.maxBytes) return;
    const old = this.map.get(key);
    if (old !== undefined) {
      this.map.delete(key);
      this.bytes -= old.size;
    }
    // Make room first, so the new entry is never the one evicted.
    while (this.bytes + size > this.maxBytes) {
      const oldest = this.map.shift();
      if (oldest === undefined) break;
      const [k, e] = oldest;
      if (e.used) {
        // Second chance: referenced since the cursor last passed, so it goes round again.
        e.used = false;
        this.map.set(k, e);
        continue;
      }
      this.bytes -= e.size;
      this.evictions++;
    }
    const left = Math.max(this.refreshFraction * (expiration - inception), this.minRemaining);
    this.map.set(key, { rrsig, inception, expiration, refreshAt: expiration - left, size, used: false });
    this.bytes += size;
  }

  /** Fraction of lookups that were hits (0 when there were none). */
  hitRate(): number {
    const total = this.hits + this.misses;
    return total === 0 ? 0 : this.hits / total;
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }

  stats(): { readonly hits: number; readonly misses: number; readonly evictions: number; readonly bytes: number; readonly entries: number; readonly hitRate: number } {
    return { hits: this.hits, misses: this.misses, evictions: this.evictions, bytes: this.bytes, entries: this.map.size, hitRate: this.hitRate() };
  }
}
