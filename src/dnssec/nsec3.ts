// NSEC3 building blocks (RFC 5155): owner hashes, base32hex labels, RDATA, and ±1 "white lies" (RFC 7129 App. B).

import { createHash } from 'node:crypto';
import { Name } from '../wire/name.js';
import { typeBitmapToWire } from '../wire/rdata/bitmap.js';
import { base32hexDecode, base32hexEncode } from '../wire/rdata/encoding.js';

/** RFC 5155 §11: hash algorithm 1 = SHA-1; digests are 20 octets. */
export const NSEC3_HASH_SHA1 = 1;
export const NSEC3_HASH_LENGTH = 20;
/** RFC 5155 §3.1.2.1: Opt-Out flag (NSEC3 only; NSEC3PARAM flags must be 0, §4.1.2). */
export const NSEC3_FLAG_OPTOUT = 0x01;

/**
 * Hashed owner name (RFC 5155 §5): IH(salt, x, 0) = H(x | salt), IH(salt, x, k) = H(IH(salt, x, k-1) | salt),
 * result IH(salt, owner, iterations) with x the canonical (lowercase, uncompressed) wire owner name.
 */
export function nsec3Hash(name: Name, salt: Uint8Array, iterations: number): Uint8Array {
  if (!Number.isInteger(iterations) || iterations < 0 || iterations > 0xffff) throw new Error(`bad NSEC3 iterations ${iterations}`);
  let h = createHash('sha1').update(Buffer.from(name.key, 'latin1')).update(salt).digest();
  for (let k = 0; k < iterations; k++) h = createHash('sha1').update(h).update(salt).digest();
  return h;
}

/** The NSEC3 owner label for a hash: unpadded base32hex (RFC 5155 §3.3), lowercase as most servers print it. */
export function nsec3Label(hash: Uint8Array): string {
  return base32hexEncode(hash).toLowerCase();
}

/** NSEC3 owner name `<base32hex(hash)>.<zone>` (RFC 5155 §3). */
export function nsec3Owner(hash: Uint8Array, zone: Name): Name {
  return zone.child(nsec3Label(hash));
}

/** Decode an NSEC3 owner label back to its hash; undefined if it is not valid base32hex of a 20-octet hash. */
export function nsec3LabelToHash(label: string): Uint8Array | undefined {
  const h = base32hexDecode(label);
  return h !== undefined && h.length === NSEC3_HASH_LENGTH ? h : undefined;
}

/** `hash + delta` as a big-endian unsigned number of the same width, wrapping around (delta is ±1). */
function addOne(hash: Uint8Array, delta: 1 | -1): Uint8Array {
  const out = new Uint8Array(hash);
  for (let i = out.length - 1; i >= 0; i--) {
    const v = out[i]! + delta;
    out[i] = v & 0xff;
    if (v >= 0 && v <= 0xff) break; // no carry/borrow out of this octet
  }
  return out;
}

/** H - 1 (mod 2^160): owner of a white-lie NSEC3 that covers H (RFC 7129 Appendix B). */
export function hashMinusOne(hash: Uint8Array): Uint8Array {
  return addOne(hash, -1);
}

/** H + 1 (mod 2^160): next hashed owner of a white-lie NSEC3 that covers H (RFC 7129 Appendix B). */
export function hashPlusOne(hash: Uint8Array): Uint8Array {
  return addOne(hash, 1);
}

export interface Nsec3Fields {
  readonly hashAlg?: number;
  readonly flags?: number;
  readonly iterations?: number;
  readonly salt?: Uint8Array;
  readonly nextHashed: Uint8Array;
  readonly types: readonly number[];
}

function checkSalt(salt: Uint8Array): void {
  if (salt.length > 255) throw new Error('NSEC3 salt longer than 255 octets');
}

/**
 * NSEC3 RDATA (RFC 5155 §3.2): hash algorithm, flags, iterations, salt length, salt, hash length, next hashed
 * owner (raw, not base32), type bitmap. Defaults follow RFC 9276 §3.1: SHA-1, no flags, 0 iterations, empty salt.
 */
export function nsec3Rdata(f: Nsec3Fields): Uint8Array {
  const salt = f.salt ?? new Uint8Array(0);
  checkSalt(salt);
  if (f.nextHashed.length === 0 || f.nextHashed.length > 255) throw new Error('bad NSEC3 next hashed owner length');
  const bitmap = typeBitmapToWire(f.types);
  const iterations = f.iterations ?? 0;
  const out = new Uint8Array(6 + salt.length + f.nextHashed.length + bitmap.length);
  let p = 0;
  out[p++] = f.hashAlg ?? NSEC3_HASH_SHA1;
  out[p++] = f.flags ?? 0;
  out[p++] = (iterations >>> 8) & 0xff;
  out[p++] = iterations & 0xff;
  out[p++] = salt.length;
  out.set(salt, p);
  p += salt.length;
  out[p++] = f.nextHashed.length;
  out.set(f.nextHashed, p);
  p += f.nextHashed.length;
  out.set(bitmap, p);
  return out;
}

/**
 * NSEC3PARAM RDATA (RFC 5155 §4.2): hash algorithm, flags, iterations, salt length, salt. Flags MUST be 0 in zone
 * data (§4.1.2: the Opt-Out bit is reserved here), so the parameter defaults to 0.
 */
export function nsec3paramRdata(f: { readonly hashAlg?: number; readonly flags?: number; readonly iterations?: number; readonly salt?: Uint8Array }): Uint8Array {
  const salt = f.salt ?? new Uint8Array(0);
  checkSalt(salt);
  const iterations = f.iterations ?? 0;
  const out = new Uint8Array(5 + salt.length);
  out[0] = f.hashAlg ?? NSEC3_HASH_SHA1;
  out[1] = f.flags ?? 0;
  out[2] = (iterations >>> 8) & 0xff;
  out[3] = iterations & 0xff;
  out[4] = salt.length;
  out.set(salt, 5);
  return out;
}

/**
 * A white-lie NSEC3 covering hash `h` (RFC 7129 Appendix B): owner label from H-1, next hashed owner H+1, so the
 * record proves only that `h` has no NSEC3 and reveals no other hash of the zone.
 */
export function nsec3Cover(h: Uint8Array, zone: Name): { readonly owner: Name; readonly nextHashed: Uint8Array } {
  return { owner: nsec3Owner(hashMinusOne(h), zone), nextHashed: hashPlusOne(h) };
}
