// Response rate limiting in the ISC/Vixie RRL design that Knot, NSD and BIND share: a token bucket per client
// prefix and response class, in a table that all worker processes share (src/server/native/shm.c), so a flood
// spread over the workers is limited as one; limited responses are dropped, every `slip`-th sent truncated.

/** The response classes that have their own buckets (the qname/qtype, zone, or cut they are keyed by). */
export const RrlClass = {
  /** Positive answers, per QNAME and QTYPE. */
  Answer: 1,
  /** NXDOMAIN and NODATA, per zone: random names all land in one bucket. */
  Negative: 2,
  /** Referrals, per delegation point. */
  Referral: 3,
  /** REFUSED, SERVFAIL, FORMERR, NOTIMP...: one bucket per client prefix. */
  Error: 4,
} as const;
export type RrlClass = (typeof RrlClass)[keyof typeof RrlClass];

export interface RrlSettings {
  /** Responses per second per client prefix and response class. */
  readonly responsesPerSecond: number;
  /** Seconds of debt a bucket can run up: a client over the rate is limited until its average over this falls. */
  readonly window: number;
  /** Every `slip`-th limited response goes out truncated (TC=1); 0 = drop all, 1 = truncate all. */
  readonly slip: number;
  readonly ipv4PrefixLength: number;
  readonly ipv6PrefixLength: number;
  /** Clients never limited (the `exempt` CIDRs). */
  readonly exempt: (ip: Uint8Array) => boolean;
  /** The bucket table: 4 int32 per entry (key, balance, second of the last refill, spare), shared by the workers. */
  readonly table: Int32Array;
}

/** What to do with a response. */
export const RrlVerdict = {
  Send: 0,
  Drop: 1,
  /** Send a truncated response instead (RFC 1035 §4.1.1 TC): a real resolver retries over TCP. */
  Slip: 2,
} as const;
export type RrlVerdict = (typeof RrlVerdict)[keyof typeof RrlVerdict];

/** int32 per table entry. */
export const RRL_ENTRY = 4;
/** Key of a slot that one worker is filling (keys are odd, so never a real key). */
const CLAIMING = 2;
/** Probe rounds before giving up on a slot another worker holds (it is never held for more than a few stores). */
const MAX_ATTEMPTS = 10_000;
/** Table entries: 65536 × 16 octets = 1 MiB, enough buckets for a flood from tens of thousands of prefixes. */
export const RRL_ENTRIES = 1 << 16;
/** Slots looked at for a key before the oldest of them is taken over. */
const PROBES = 4;

/** FNV-1a of a string's char codes, continuing from `h`. */
function fnv(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** The bucket key part of a response: its class and what the class is keyed by (a name key, plus QTYPE for answers). */
export function rrlClassKey(cls: RrlClass, name: string, qtype: number): number {
  return fnv(Math.imul(0x811c9dc5 ^ cls, 0x01000193) ^ (cls === RrlClass.Answer ? qtype : 0), cls === RrlClass.Error ? '' : name) | 0;
}

export class RateLimiter {
  private readonly mask: number;
  private slipCount = 0;
  /** Responses limited since start: dropped, and sent truncated. */
  dropped = 0;
  slipped = 0;

  constructor(private readonly s: RrlSettings) {
    const entries = s.table.length / RRL_ENTRY;
    if (!Number.isInteger(entries) || entries <= 0 || (entries & (entries - 1)) !== 0) throw new RangeError('RRL table must hold a power of two entries');
    this.mask = entries - 1;
  }

  /** The client prefix's part of the key: the first ipv4/ipv6-prefix-length bits of the address. */
  private prefixKey(ip: Uint8Array): number {
    const bits = ip.length === 4 ? this.s.ipv4PrefixLength : this.s.ipv6PrefixLength;
    let h = Math.imul(0x811c9dc5 ^ ip.length, 0x01000193);
    for (let i = 0; i * 8 < bits; i++) {
      const keep = bits - i * 8 >= 8 ? 0xff : (0xff << (8 - (bits - i * 8))) & 0xff;
      h = Math.imul(h ^ (ip[i]! & keep), 0x01000193);
    }
    return h;
  }

  /**
   * The table index of the bucket for `key`, claiming the least recently refilled probe slot for a new one. A slot is
   * claimed by a compare-exchange of its key to CLAIMING, filled, and only then given its key, so two workers seeing
   * the same new client at once make one bucket (the loser waits for the winner's) instead of each starting a full one.
   */
  private bucket(t: Int32Array, key: number, rate: number, now: number): number {
    for (let attempt = 0; ; attempt++) {
      let oldest = -1;
      let oldestStamp = 0;
      let free = -1;
      let busy = false;
      for (let p = 0; p < PROBES; p++) {
        const i = ((key + p * 0x61c88647) & this.mask) * RRL_ENTRY;
        // The stamp is read before the key: a claimer changes the key first, so a key still seen free comes with the
        // stamp it had when free, and two workers probing for one client choose the same slot to claim.
        const stamp = Atomics.load(t, i + 2);
        const k = Atomics.load(t, i);
        if (k === key) {
          // One process refills per second (the one whose compare-exchange wins): `rate` per elapsed second, up to `rate`.
          if (stamp !== now && Atomics.compareExchange(t, i + 2, stamp, now) === stamp) {
            const balance = Atomics.load(t, i + 1);
            const credit = Math.min(rate - balance, Math.max(0, now - stamp) * rate);
            if (credit > 0) Atomics.add(t, i + 1, credit);
          }
          return i;
        }
        if (k === CLAIMING) busy = true;
        else if (k === 0) {
          if (free < 0) free = i;
        } else if (oldest < 0 || stamp < oldestStamp) {
          oldest = i;
          oldestStamp = stamp;
        }
      }
      // Another worker is filling a slot on this probe path (a few instructions): look again, a bounded number of times.
      if (busy && attempt < MAX_ATTEMPTS) continue;
      // The first free slot on the path, else the oldest: the first free one does not depend on the stamps, which
      // another worker may refresh between two probes, so two workers seeing one new client pick the same slot.
      if (free >= 0) oldest = free;
      else if (oldest < 0) oldest = (key & this.mask) * RRL_ENTRY;
      const previous = Atomics.load(t, oldest);
      // The slot chosen may have been claimed for this very client after the probe passed it: look again.
      if (previous === key && attempt < MAX_ATTEMPTS) continue;
      if (previous === CLAIMING || Atomics.compareExchange(t, oldest, previous, CLAIMING) !== previous) {
        if (attempt < MAX_ATTEMPTS) continue;
        return oldest;
      }
      // A new bucket starts with one second's worth of responses.
      Atomics.store(t, oldest + 2, now);
      Atomics.store(t, oldest + 1, rate);
      Atomics.store(t, oldest, key);
      return oldest;
    }
  }

  /** Account one response of class key `classKey` to the client at `ip` at second `now`; what to do with it. */
  check(ip: Uint8Array, classKey: number, now: number): RrlVerdict {
    if (this.s.exempt(ip)) return RrlVerdict.Send;
    const t = this.s.table;
    const rate = this.s.responsesPerSecond;
    // 0 marks a free slot.
    const key = Math.imul(this.prefixKey(ip) ^ classKey, 0x9e3779b1) | 1;
    const at = this.bucket(t, key, rate, now);
    const left = Atomics.sub(t, at + 1, 1) - 1;
    if (left >= 0) return RrlVerdict.Send;
    // The debt stops at `window` seconds' worth: after the flood ends the client is served again within `window`.
    if (left < -this.s.window * rate) Atomics.add(t, at + 1, 1);
    const slip = this.s.slip;
    if (slip > 0 && ++this.slipCount >= slip) {
      this.slipCount = 0;
      this.slipped++;
      return RrlVerdict.Slip;
    }
    this.dropped++;
    return RrlVerdict.Drop;
  }
}
