// RRSIG creation with ECDSA P-256/SHA-256 via node:crypto (RFC 4034 §3, RFC 6605), plus a verifier for tests.

import { createPublicKey, sign, verify, type KeyObject, type SignKeyObjectInput } from 'node:crypto';
import { RRType } from '../wire/constants.js';
import { Name } from '../wire/name.js';
import { canonicalRRset, signingInput, type CanonicalRRset, type RRsetInput } from './canonical.js';
import { ALG_ECDSAP256SHA256, keyTag, type ZoneKey } from './keys.js';

/** RFC 6605 §4: an ECDSA P-256 signature is r || s, 64 octets. */
export const P256_SIGNATURE_LENGTH = 64;

/** Per-key signing options, built once per KeyObject (no per-signature allocation of the options object). */
const signOpts = new WeakMap<KeyObject, SignKeyObjectInput>();
function signKey(k: KeyObject): SignKeyObjectInput {
  let o = signOpts.get(k);
  if (o === undefined) {
    // RFC 6605 §4: fixed-width r || s (IEEE P1363), not DER.
    o = { key: k, dsaEncoding: 'ieee-p1363' };
    signOpts.set(k, o);
  }
  return o;
}

/** Lowercase signer name wire forms, cached per Name object (zone apexes are long-lived). */
const signerWire = new WeakMap<Name, Buffer>();
function signerBytes(signer: Name): Buffer {
  let b = signerWire.get(signer);
  if (b === undefined) {
    b = Buffer.from(signer.key, 'latin1');
    signerWire.set(signer, b);
  }
  return b;
}

/**
 * RRSIG RDATA up to (not including) the signature (RFC 4034 §3.1): type covered, algorithm, labels, original TTL,
 * expiration, inception (32-bit serial times, §3.1.5), key tag, signer's name (uncompressed, canonical §3.1.7).
 */
export function rrsigPrefix(
  typeCovered: number, algorithm: number, labels: number, originalTtl: number,
  expiration: number, inception: number, tag: number, signer: Name,
): Buffer {
  const sw = signerBytes(signer);
  const out = Buffer.allocUnsafe(18 + sw.length);
  out.writeUInt16BE(typeCovered, 0);
  out[2] = algorithm;
  out[3] = labels;
  out.writeUInt32BE(originalTtl >>> 0, 4);
  out.writeUInt32BE(expiration >>> 0, 8);
  out.writeUInt32BE(inception >>> 0, 12);
  out.writeUInt16BE(tag, 16);
  sw.copy(out, 18);
  return out;
}

/** Sign a prepared canonical RRset (the hot path). Returns the complete RRSIG RDATA. */
/** Signatures this process has made (metrics). */
export const signingStats = { made: 0 };

export function signCanonical(set: CanonicalRRset, key: ZoneKey, signer: Name, inception: number, expiration: number): Uint8Array {
  signingStats.made++;
  const sw = signerBytes(signer);
  const plen = 18 + sw.length;
  // One buffer holds prefix + body for signing; the RRSIG RDATA reuses the prefix bytes.
  const input = Buffer.allocUnsafe(plen + set.body.length);
  input.writeUInt16BE(set.type, 0);
  input[2] = key.algorithm;
  input[3] = set.labels;
  input.writeUInt32BE(set.ttl, 4);
  input.writeUInt32BE(expiration >>> 0, 8);
  input.writeUInt32BE(inception >>> 0, 12);
  input.writeUInt16BE(key.tag, 16);
  sw.copy(input, 18);
  input.set(set.body, plen);
  const sig = sign('sha256', input, signKey(key.privateKey));
  const out = new Uint8Array(plen + sig.length);
  out.set(input.subarray(0, plen), 0);
  out.set(sig, plen);
  return out;
}

/**
 * Sign an RRset with `key` (RFC 4034 §3.1.8.1). `opts.labels` is the RRSIG Labels value: by default the owner's
 * label count without a leading `*` (§3.1.3); for a wildcard expansion pass the wildcard's count.
 */
export function signRRset(
  rrset: RRsetInput, key: ZoneKey, signer: Name, inception: number, expiration: number,
  opts?: { readonly labels?: number },
): Uint8Array {
  return signCanonical(canonicalRRset(rrset, opts?.labels), key, signer, inception, expiration);
}

/**
 * Which key signs an RRset of `type`: the KSK for DNSKEY, CDS and CDNSKEY (RFC 7344 §4.1 for CDS/CDNSKEY; the
 * usual split-key policy of RFC 6781 §3.1), the ZSK for everything else.
 */
export function signingKeyFor(type: number, ksk: ZoneKey, zsk: ZoneKey): ZoneKey {
  return type === RRType.DNSKEY || type === RRType.CDS || type === RRType.CDNSKEY ? ksk : zsk;
}

/** Decoded RRSIG RDATA (RFC 4034 §3.1). */
export interface RrsigFields {
  readonly typeCovered: number;
  readonly algorithm: number;
  readonly labels: number;
  readonly originalTtl: number;
  readonly expiration: number;
  readonly inception: number;
  readonly keyTag: number;
  readonly signer: Name;
  readonly signature: Uint8Array;
  /** Length of everything before the signature. */
  readonly prefixLength: number;
}

export function parseRrsig(rdata: Uint8Array): RrsigFields {
  if (rdata.length < 19) throw new Error('RRSIG RDATA too short');
  const b = Buffer.from(rdata.buffer, rdata.byteOffset, rdata.byteLength);
  const signer = Name.fromWire(rdata, 18);
  const prefixLength = 18 + signer.wireLength;
  return {
    typeCovered: b.readUInt16BE(0),
    algorithm: b[2]!,
    labels: b[3]!,
    originalTtl: b.readUInt32BE(4),
    expiration: b.readUInt32BE(8),
    inception: b.readUInt32BE(12),
    keyTag: b.readUInt16BE(16),
    signer,
    signature: rdata.subarray(prefixLength),
    prefixLength,
  };
}

function b64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** RFC 1982 serial-number comparison of 32-bit times (RFC 4034 §3.1.5): a <= b. */
function serialLe(a: number, b: number): boolean {
  return a === b || ((b - a) >>> 0) < 0x80000000;
}

/**
 * Verify an RRSIG over an RRset with a DNSKEY (algorithm 13 only). For tests and self-checks; not used per query.
 * The owner name of `rrset` is the name the RRset was received under; the RRSIG's Labels field decides the
 * wildcard handling (RFC 4035 §5.3.2). With `opts.now` (unix seconds) the validity period is checked too.
 */
export function verifyRRsig(
  rrset: RRsetInput, rrsigRdata: Uint8Array, dnskeyRdata: Uint8Array, opts?: { readonly now?: number },
): boolean {
  const f = parseRrsig(rrsigRdata);
  if (f.typeCovered !== rrset.type || f.algorithm !== ALG_ECDSAP256SHA256 || dnskeyRdata[3] !== ALG_ECDSAP256SHA256) return false;
  if (f.keyTag !== keyTag(dnskeyRdata)) return false;
  if (f.signature.length !== P256_SIGNATURE_LENGTH || dnskeyRdata.length !== 4 + 64) return false;
  // RFC 4035 §5.3.1: the owner must be at or below the signer.
  if (!rrset.owner.isSubdomainOf(f.signer)) return false;
  if (opts?.now !== undefined && !(serialLe(f.inception, opts.now) && serialLe(opts.now, f.expiration))) return false;
  const pub = dnskeyRdata.subarray(4);
  const publicKey = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64url(pub.subarray(0, 32)), y: b64url(pub.subarray(32)) },
    format: 'jwk',
  });
  const set = canonicalRRset({ ...rrset, ttl: f.originalTtl }, f.labels);
  // RFC 4034 §3.1.8.1: the signer's name goes into the signing input in canonical (lowercase) form.
  const prefix = Buffer.concat([rrsigRdata.subarray(0, 18), Buffer.from(f.signer.key, 'latin1')]);
  const data = signingInput(prefix, set);
  return verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, f.signature);
}
