// RFC 1982 serial number arithmetic (SERIAL_BITS = 32) and the SOA serial bump policies used on zone changes.

const MOD = 0x1_0000_0000; // 2^32
const HALF = 0x8000_0000; // 2^31

/**
 * Compare two serials in RFC 1982 §3.2 order: -1 when a < b, 1 when a > b, 0 when equal, undefined when the
 * comparison is undefined (exactly 2^31 apart).
 */
export function serialCompare(a: number, b: number): -1 | 0 | 1 | undefined {
  const x = a >>> 0;
  const y = b >>> 0;
  if (x === y) return 0;
  const d = (y - x + MOD) % MOD; // distance from a forward to b
  // RFC 1982 §3.2: s1 < s2 iff (i1 < i2 and i2 - i1 < 2^31) or (i1 > i2 and i1 - i2 > 2^31).
  if (d < HALF) return -1;
  if (d > HALF) return 1;
  return undefined;
}

/** RFC 1982 §3.2: a > b (false when undefined). */
export function serialGt(a: number, b: number): boolean {
  return serialCompare(a, b) === 1;
}

/** RFC 1982 §3.2: a < b (false when undefined). */
export function serialLt(a: number, b: number): boolean {
  return serialCompare(a, b) === -1;
}

/** RFC 1982 §3.1: s + n mod 2^32, with 0 <= n <= 2^31 - 1. Throws RangeError for other n. */
export function serialAdd(s: number, n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > HALF - 1) throw new RangeError(`serial addend ${n} outside 0..2^31-1`);
  return ((s >>> 0) + n) % MOD;
}

export type SerialPolicy = 'keep' | 'increment' | 'unixtime' | 'dateserial';

/**
 * The serial a changed zone gets. `keep`: unchanged; `increment`: old + 1; `unixtime`: the current Unix time, or
 * old + 1 when that is not greater in serial space; `dateserial`: YYYYMMDDnn (UTC, nn = 00), or old + 1 when
 * that is not greater. All results are greater than `old` in RFC 1982 order except for `keep`.
 */
export function nextSerial(old: number, policy: SerialPolicy, now: Date): number {
  const o = old >>> 0;
  switch (policy) {
    case 'keep':
      return o;
    case 'increment':
      return serialAdd(o, 1);
    case 'unixtime': {
      const t = Math.floor(now.getTime() / 1000) % MOD;
      return serialGt(t, o) ? t : serialAdd(o, 1);
    }
    case 'dateserial': {
      const d = (now.getUTCFullYear() * 10000 + (now.getUTCMonth() + 1) * 100 + now.getUTCDate()) * 100;
      const c = d % MOD;
      return serialGt(c, o) ? c : serialAdd(o, 1);
    }
    default: {
      const never: never = policy;
      throw new Error(`unknown serial policy ${String(never)}`);
    }
  }
}
