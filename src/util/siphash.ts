// SipHash-2-4 (Aumasson and Bernstein, 2012) with a 128-bit key and a 64-bit result, in 32-bit halves (no BigInt on
// the hot path): the MAC of DNS server cookies (RFC 9018 §4.4).

/** The four 64-bit state words as (high, low) pairs of uint32, reused between calls. */
const v = new Uint32Array(8);

/** v[a] += v[b] as 64-bit words (indexes of the high halves). */
function add(a: number, b: number): void {
  const lo = v[a + 1]! + v[b + 1]!;
  v[a] = v[a]! + v[b]! + (lo > 0xffffffff ? 1 : 0);
  v[a + 1] = lo;
}

/** v[a] = rotl(v[a], n) for 0 < n < 32. */
function rotl(a: number, n: number): void {
  const hi = v[a]!;
  const lo = v[a + 1]!;
  v[a] = (hi << n) | (lo >>> (32 - n));
  v[a + 1] = (lo << n) | (hi >>> (32 - n));
}

/** v[a] = rotl(v[a], 32): swap the halves. */
function swap(a: number): void {
  const hi = v[a]!;
  v[a] = v[a + 1]!;
  v[a + 1] = hi;
}

function xor(a: number, b: number): void {
  v[a] = v[a]! ^ v[b]!;
  v[a + 1] = v[a + 1]! ^ v[b + 1]!;
}

const V0 = 0;
const V1 = 2;
const V2 = 4;
const V3 = 6;

function sipRound(): void {
  add(V0, V1);
  rotl(V1, 13);
  xor(V1, V0);
  swap(V0);
  add(V2, V3);
  rotl(V3, 16);
  xor(V3, V2);
  add(V0, V3);
  rotl(V3, 21);
  xor(V3, V0);
  add(V2, V1);
  rotl(V1, 17);
  xor(V1, V2);
  swap(V2);
}

/** Little-endian uint32 at `i` of `b`, zero past `end`. */
function le32(b: Uint8Array, i: number, end: number): number {
  let x = 0;
  for (let k = 3; k >= 0; k--) x = (x << 8) | (i + k < end ? b[i + k]! : 0);
  return x >>> 0;
}

/** Mix one message word (hi, lo) in: v3 ^= m; two rounds; v0 ^= m. */
function compress(hi: number, lo: number, rounds: number): void {
  v[V3] = v[V3]! ^ hi;
  v[V3 + 1] = v[V3 + 1]! ^ lo;
  for (let r = 0; r < rounds; r++) sipRound();
  v[V0] = v[V0]! ^ hi;
  v[V0 + 1] = v[V0 + 1]! ^ lo;
}

/**
 * SipHash-2-4 of `msg` under the 16-octet `key`; the 64-bit result as 8 octets, least significant first (the byte
 * order of the reference implementation and of RFC 9018's test vectors).
 */
export function sipHash24(key: Uint8Array, msg: Uint8Array): Uint8Array {
  if (key.length !== 16) throw new RangeError('SipHash key must be 16 octets');
  const k0lo = le32(key, 0, 16);
  const k0hi = le32(key, 4, 16);
  const k1lo = le32(key, 8, 16);
  const k1hi = le32(key, 12, 16);
  // "somepseudorandomlygeneratedbytes"
  v[V0] = k0hi ^ 0x736f6d65;
  v[V0 + 1] = k0lo ^ 0x70736575;
  v[V1] = k1hi ^ 0x646f7261;
  v[V1 + 1] = k1lo ^ 0x6e646f6d;
  v[V2] = k0hi ^ 0x6c796765;
  v[V2 + 1] = k0lo ^ 0x6e657261;
  v[V3] = k1hi ^ 0x74656462;
  v[V3 + 1] = k1lo ^ 0x79746573;
  const n = msg.length;
  const full = n - (n % 8);
  for (let i = 0; i < full; i += 8) compress(le32(msg, i + 4, n), le32(msg, i, n), 2);
  // The last word: the remaining octets, and the length mod 256 in the top octet.
  compress((le32(msg, full + 4, n) & 0x00ffffff) | ((n & 0xff) << 24), le32(msg, full, n), 2);
  v[V2 + 1] = v[V2 + 1]! ^ 0xff;
  for (let r = 0; r < 4; r++) sipRound();
  const hi = (v[V0]! ^ v[V1]! ^ v[V2]! ^ v[V3]!) >>> 0;
  const lo = (v[V0 + 1]! ^ v[V1 + 1]! ^ v[V2 + 1]! ^ v[V3 + 1]!) >>> 0;
  const out = new Uint8Array(8);
  for (let k = 0; k < 4; k++) {
    out[k] = (lo >>> (8 * k)) & 0xff;
    out[4 + k] = (hi >>> (8 * k)) & 0xff;
  }
  return out;
}
