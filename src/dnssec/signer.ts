// Per-zone signing front end: picks KSK/ZSK by type, computes validity, and goes through the signature cache.

import type { Name } from '../wire/name.js';
import { signatureCacheKey, type SignatureCache } from './cache.js';
import { canonicalRRset, type CanonicalRRset, type RRsetInput } from './canonical.js';
import type { ZoneKey } from './keys.js';
import { signCanonical, signingKeyFor } from './rrsig.js';
import { ValidityPolicy, type ValidityOptions } from './validity.js';

export interface ZoneSignerOptions {
  readonly cache?: SignatureCache;
  readonly validity?: ValidityOptions;
}

/** Signs RRsets of one zone: DNSKEY/CDS/CDNSKEY with the KSK, everything else with the ZSK. */
export class ZoneSigner {
  readonly zone: Name;
  readonly ksk: ZoneKey;
  readonly zsk: ZoneKey;
  private readonly cache: SignatureCache | undefined;
  private readonly policy: ValidityPolicy;
  /**
   * Cache keys of long-lived RRsets (snapshot data, chain NSECs), kept per RRset object: building and hashing the
   * concatenated key string on every answer was a tenth of the signed NXDOMAIN path.
   */
  private readonly cacheKeys = new WeakMap<CanonicalRRset, string>();

  constructor(zone: Name, keys: { readonly ksk: ZoneKey; readonly zsk: ZoneKey }, opts?: ZoneSignerOptions) {
    this.zone = zone;
    this.ksk = keys.ksk;
    this.zsk = keys.zsk;
    this.cache = opts?.cache;
    this.policy = new ValidityPolicy(opts?.validity);
  }

  /**
   * RRSIG RDATA for a prepared RRset at unix time `now` (seconds), from the cache when a fresh one is there.
   * `cache: false` bypasses the cache (e.g. for one-off compact-denial NSECs that would only evict useful entries).
   */
  sign(set: CanonicalRRset, now: number = Math.floor(Date.now() / 1000), cache = true): Uint8Array {
    const key = signingKeyFor(set.type, this.ksk, this.zsk);
    const c = cache ? this.cache : undefined;
    let ck: string | undefined;
    if (c !== undefined) {
      ck = this.cacheKeys.get(set);
      if (ck === undefined) this.cacheKeys.set(set, (ck = signatureCacheKey(set, key.tag, this.zone)));
      const hit = c.get(ck, now);
      if (hit !== undefined) return hit;
    }
    const t = this.policy.times(now, set.signedOwnerKey, set.type);
    const rrsig = signCanonical(set, key, this.zone, t.inception, t.expiration);
    if (c !== undefined && ck !== undefined) c.set(ck, rrsig, t.inception, t.expiration);
    return rrsig;
  }

  /** Convenience: canonicalize and sign (prefer preparing CanonicalRRsets once at load time). */
  signRRset(rrset: RRsetInput, now?: number, labels?: number, cache = true): Uint8Array {
    return this.sign(canonicalRRset(rrset, labels), now, cache);
  }
}
