// Canonical RRset form for signing (RFC 4034 §3.1.8.1 and §6): sorted, deduplicated canonical RRs, precomputable.

import { createHash } from 'node:crypto';
import { canonicalRdata } from '../wire/layout.js';
import { keyLabelCount, type Name } from '../wire/name.js';

/** The RRset fields that go into a signature. */
export interface RRsetInput {
  readonly owner: Name;
  readonly type: number;
  readonly class: number;
  readonly ttl: number;
  readonly rdata: readonly Uint8Array[];
}

/**
 * The RR part of an RRset's signing input, built once (e.g. at zone load) and reused for every signature:
 * `body` is `owner | type | class | original TTL | RDLENGTH | RDATA` for each RR in canonical order.
 */
export interface CanonicalRRset {
  readonly type: number;
  readonly class: number;
  /** Original TTL (RFC 4034 §3.1.4). */
  readonly ttl: number;
  /** RRSIG Labels value (RFC 4034 §3.1.3). */
  readonly labels: number;
  /** Lowercase wire owner used in the signing input: the wildcard owner for wildcard expansions (RFC 4035 §5.3.2). */
  readonly signedOwnerKey: string;
  readonly body: Uint8Array;
  /** Compact identity of `body` for cache keys (the bytes themselves when short, else a SHA-256 digest). */
  readonly bodyKey: string;
}

/** RRSIG Labels for an owner (RFC 4034 §3.1.3): labels of the owner, not counting the root or a leading `*`. */
export function rrsigLabels(owner: Name): number {
  const n = owner.labels.length;
  return owner.isWildcard ? n - 1 : n;
}

/**
 * Lowercase wire owner for the signing input (RFC 4034 §3.1.8.1, RFC 4035 §5.3.2): the owner itself when its label
 * count equals `labels`, else `*.` + its rightmost `labels` labels (the wildcard that produced the expansion).
 * Returned as a latin1 key string (one char per octet), like `Name.key`.
 */
export function signedOwnerKey(owner: Name, labels: number): string {
  const key = owner.key;
  const n = keyLabelCount(key);
  if (labels > n) throw new Error(`RRSIG labels ${labels} exceeds owner label count ${n}`);
  if (labels === n) return key;
  let p = 0;
  for (let i = 0; i < n - labels; i++) p += key.charCodeAt(p) + 1;
  return '\x01*' + key.slice(p);
}

/** Compare two byte strings as left-justified unsigned octet sequences (RFC 4034 §6.3). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** RDATA in canonical form (RFC 4034 §6.2), sorted (§6.3) with duplicates removed (RFC 2181 §5). */
export function sortedCanonicalRdata(type: number, rdata: readonly Uint8Array[]): Uint8Array[] {
  const c = rdata.map((r) => canonicalRdata(type, r));
  if (c.length > 1) c.sort(compareBytes);
  const out: Uint8Array[] = [];
  for (const r of c) {
    const last = out[out.length - 1];
    if (last === undefined || compareBytes(last, r) !== 0) out.push(r);
  }
  return out;
}

const SHORT_BODY = 128;

/** Cache identity of a body: the raw bytes for short bodies (no hashing cost), else a SHA-256 digest. */
export function bodyKeyOf(body: Uint8Array): string {
  if (body.length <= SHORT_BODY) return 'r' + Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1');
  return 'h' + createHash('sha256').update(body).digest().toString('latin1');
}

/**
 * Build the canonical RR part of the signing input. `labels` defaults to the owner's own count (RFC 4034 §3.1.3);
 * for a wildcard expansion pass the wildcard's count, and the wildcard owner is used instead (RFC 4035 §5.3.2).
 */
export function canonicalRRset(rrset: RRsetInput, labels?: number): CanonicalRRset {
  const lab = labels ?? rrsigLabels(rrset.owner);
  const ownerKey = signedOwnerKey(rrset.owner, lab);
  const rdata = sortedCanonicalRdata(rrset.type, rrset.rdata);
  const ownerLen = ownerKey.length;
  let total = 0;
  for (const r of rdata) {
    if (r.length > 0xffff) throw new Error('RDATA longer than 65535 octets');
    total += ownerLen + 10 + r.length;
  }
  const body = Buffer.allocUnsafe(total);
  let p = 0;
  for (const r of rdata) {
    p += body.write(ownerKey, p, 'latin1');
    // RFC 4034 §3.1.8.1: type, class, original TTL, RDLENGTH, RDATA.
    p = body.writeUInt16BE(rrset.type, p);
    p = body.writeUInt16BE(rrset.class, p);
    p = body.writeUInt32BE(rrset.ttl >>> 0, p);
    p = body.writeUInt16BE(r.length, p);
    body.set(r, p);
    p += r.length;
  }
  return {
    type: rrset.type,
    class: rrset.class,
    ttl: rrset.ttl >>> 0,
    labels: lab,
    signedOwnerKey: ownerKey,
    body,
    bodyKey: bodyKeyOf(body),
  };
}

/** Full signing input: RRSIG RDATA without the signature, then the canonical RRs (RFC 4034 §3.1.8.1). */
export function signingInput(rrsigPrefix: Uint8Array, set: CanonicalRRset): Uint8Array {
  const out = Buffer.allocUnsafe(rrsigPrefix.length + set.body.length);
  out.set(rrsigPrefix, 0);
  out.set(set.body, rrsigPrefix.length);
  return out;
}
