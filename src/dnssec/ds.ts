// DS records from DNSKEYs (RFC 4034 §5, RFC 4509, RFC 6605 §2) and the CDS/CDNSKEY "delete" sentinels (RFC 8078 §4).

import { createHash } from 'node:crypto';
import type { Name } from '../wire/name.js';
import { keyTag } from './keys.js';

/** DS digest types: 1 SHA-1 (RFC 4034 §5.1.4), 2 SHA-256 (RFC 4509 §2.1), 4 SHA-384 (RFC 6605 §2). */
export type DigestType = 1 | 2 | 4;

function hashName(t: DigestType): string {
  switch (t) {
    case 1:
      return 'sha1';
    case 2:
      return 'sha256';
    case 4:
      return 'sha384';
  }
}

/** Uncompressed lowercase wire form of a name (RFC 4034 §6.2 canonical form). */
export function canonicalNameWire(name: Name): Buffer {
  return Buffer.from(name.key, 'latin1');
}

/**
 * DS RDATA for the DNSKEY RDATA `dnskeyRdata` owned by `owner` (RFC 4034 §5.1): key tag, algorithm, digest type,
 * digest = H(canonical owner name | DNSKEY RDATA) (RFC 4034 §5.1.4).
 */
export function dsRdata(owner: Name, dnskeyRdata: Uint8Array, digestType: DigestType): Uint8Array {
  if (dnskeyRdata.length < 4) throw new Error('DNSKEY RDATA too short');
  const digest = createHash(hashName(digestType)).update(canonicalNameWire(owner)).update(dnskeyRdata).digest();
  const out = new Uint8Array(4 + digest.length);
  const tag = keyTag(dnskeyRdata);
  out[0] = tag >>> 8;
  out[1] = tag & 0xff;
  out[2] = dnskeyRdata[3]!;
  out[3] = digestType;
  out.set(digest, 4);
  return out;
}

/** Presentation of DS RDATA: `tag alg digestType HEXDIGEST` (uppercase hex, as dnssec-dsfromkey prints). */
export function dsRdataText(rdata: Uint8Array): string {
  const tag = (rdata[0]! << 8) | rdata[1]!;
  return `${tag} ${rdata[2]!} ${rdata[3]!} ${Buffer.from(rdata.subarray(4)).toString('hex').toUpperCase()}`;
}

/**
 * A DS line as `dnssec-dsfromkey` prints it: `owner. [ttl] IN DS tag alg type DIGEST`. With `cds`, a CDS line
 * (RFC 7344 §3.1: same RDATA format).
 */
export function dsText(owner: Name, dnskeyRdata: Uint8Array, digestType: DigestType, opts?: { ttl?: number; cds?: boolean }): string {
  const ttl = opts?.ttl !== undefined ? `${opts.ttl} ` : '';
  return `${owner.toString()} ${ttl}IN ${opts?.cds ? 'CDS' : 'DS'} ${dsRdataText(dsRdata(owner, dnskeyRdata, digestType))}`;
}

// (Typed arrays with elements cannot be frozen: treat these two as read-only.)
/** RFC 8078 §4: CDS `0 0 0 00` asks the parent to remove the DS RRset. */
export const cdsDeleteRdata: Uint8Array = new Uint8Array([0, 0, 0, 0, 0]);
/** RFC 8078 §4: CDNSKEY `0 3 0 AA==` (flags 0, protocol 3, algorithm 0, key 0x00). */
export const cdnskeyDeleteRdata: Uint8Array = new Uint8Array([0, 0, 3, 0, 0]);
