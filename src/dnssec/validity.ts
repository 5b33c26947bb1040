// RRSIG validity windows: inception an hour back, expiration ~7 days ahead with per-RRset deterministic jitter.

/**
 * Choice (documented): times are derived from the start of a fixed time bucket (default one hour), not from the
 * exact current second, and the jitter is a hash of the RRset identity (signed owner + type). So every signature
 * made for the same RRset within one bucket carries identical inception/expiration (stable cache entries, no
 * dependence on query timing), while different RRsets spread their expirations over ±jitter so they don't all
 * expire - and get re-signed - at the same moment. Inception is at most `inceptionOffset + bucket` in the past,
 * never later than `now - inceptionOffset` (clock-skew margin, as BIND/Knot do).
 */
export interface ValidityOptions {
  /** Nominal signature lifetime from signing time, seconds. Default 7 days. */
  readonly validity?: number;
  /** How far before "now" the inception lies, seconds. Default 3600. */
  readonly inceptionOffset?: number;
  /** Expiration is spread over ±jitter seconds. Default 12 hours. Must be below validity/2. */
  readonly jitter?: number;
  /** Time bucket, seconds. Default 3600. */
  readonly bucket?: number;
}

export const DEFAULT_VALIDITY = 7 * 86400;
export const DEFAULT_INCEPTION_OFFSET = 3600;
export const DEFAULT_JITTER = 12 * 3600;
export const DEFAULT_BUCKET = 3600;

export interface SignatureTimes {
  /** Unix seconds (RFC 4034 §3.1.5 carries them mod 2^32). */
  readonly inception: number;
  readonly expiration: number;
}

/** 32-bit FNV-1a over a latin1 string plus a 16-bit type. */
function fnv1a(seed: string, type: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    h ^= seed.charCodeAt(i) & 0xff;
    h = Math.imul(h, 0x01000193);
  }
  h ^= type >>> 8;
  h = Math.imul(h, 0x01000193);
  h ^= type & 0xff;
  h = Math.imul(h, 0x01000193);
  return h >>> 0;
}

/**
 * Inception and expiration for signing the RRset identified by `ownerKey` (a lowercase wire key such as
 * `Name.key` or `CanonicalRRset.signedOwnerKey`) and `type`, at unix time `now` (seconds).
 */
export function signatureTimes(now: number, ownerKey: string, type: number, opts?: ValidityOptions): SignatureTimes {
  const validity = opts?.validity ?? DEFAULT_VALIDITY;
  const offset = opts?.inceptionOffset ?? DEFAULT_INCEPTION_OFFSET;
  const jitter = opts?.jitter ?? DEFAULT_JITTER;
  const bucket = opts?.bucket ?? DEFAULT_BUCKET;
  if (!(validity > 0) || !(bucket > 0) || offset < 0 || jitter < 0 || jitter * 2 >= validity) {
    throw new Error('bad signature validity options');
  }
  const start = Math.floor(now / bucket) * bucket;
  const j = jitter === 0 ? 0 : (fnv1a(ownerKey, type) % (2 * jitter + 1)) - jitter;
  return { inception: start - offset, expiration: start + validity + j };
}

/** A precomputed policy: the options checked once, times computed per call. */
export class ValidityPolicy {
  readonly validity: number;
  readonly inceptionOffset: number;
  readonly jitter: number;
  readonly bucket: number;
  constructor(opts?: ValidityOptions) {
    this.validity = opts?.validity ?? DEFAULT_VALIDITY;
    this.inceptionOffset = opts?.inceptionOffset ?? DEFAULT_INCEPTION_OFFSET;
    this.jitter = opts?.jitter ?? DEFAULT_JITTER;
    this.bucket = opts?.bucket ?? DEFAULT_BUCKET;
    signatureTimes(0, '', 0, this); // validate
  }
  times(now: number, ownerKey: string, type: number): SignatureTimes {
    return signatureTimes(now, ownerKey, type, this);
  }
}
