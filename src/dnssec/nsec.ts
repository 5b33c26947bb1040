// NSEC building blocks for online signing: compact denial (RFC 9824) and the name successor (RFC 4471 §3.1.2).

import { RRType } from '../wire/constants.js';
import { Name } from '../wire/name.js';
import { typeBitmapToWire } from '../wire/rdata/bitmap.js';

/** RFC 1035 §2.3.4: at most 255 octets in wire form; RFC 1035 §2.3.4: labels of at most 63 octets. */
const MAX_NAME = 255;
const MAX_LABEL = 63;

/**
 * The immediate canonical-order successor of `name` (RFC 4471 §3.1.2, absolute method), lowercased.
 * Normally `\000.name` (RFC 9824 §3.1: "adding a leading label with a single null octet"). RFC 9824 does not
 * cover names too long for that extra label; there RFC 4471 §3.1.2 applies: append a zero octet to the
 * leftmost label if it fits, else increment the label's last octet (dropping trailing 0xff octets, and moving
 * to the parent when the label runs out). Octets 0x41..0x5a are skipped since canonical order folds them to
 * lowercase (RFC 4471 §4.2 / RFC 4034 §6.1). Returns the root when no greater name exists (all 0xff).
 */
export function nsecSuccessor(name: Name): Name {
  const n = name.toLowerCase();
  if (n.wireLength + 2 <= MAX_NAME) return n.child('\0');
  const labels = [...n.labels];
  let room = MAX_NAME - n.wireLength; // octets the name may still grow by
  while (labels.length > 0) {
    const l = labels[0]!;
    if (l.length < Math.min(MAX_LABEL, l.length + room)) {
      labels[0] = l + '\0';
      return new Name(labels);
    }
    let s = l;
    while (s.length > 0 && s.charCodeAt(s.length - 1) === 0xff) s = s.slice(0, -1);
    if (s.length > 0) {
      let c = s.charCodeAt(s.length - 1) + 1;
      if (c >= 0x41 && c <= 0x5a) c = 0x5b; // 'A'..'Z' sort as 'a'..'z': the next distinct octet is '['
      labels[0] = s.slice(0, -1) + String.fromCharCode(c);
      return new Name(labels);
    }
    // Every label under the parent sorts before this one: continue with the parent's successor outside its subtree.
    labels.shift();
    room += l.length + 1;
  }
  return Name.root;
}

/** NSEC RDATA (RFC 4034 §4.1): next domain name (uncompressed, §4.1.1) + type bitmap (§4.1.2). */
export function nsecRdata(next: Name, types: readonly number[]): Uint8Array {
  const bitmap = typeBitmapToWire(types);
  const out = new Uint8Array(next.wireLength + bitmap.length);
  out.set(next.toWire(), 0);
  out.set(bitmap, next.wireLength);
  return out;
}

const NXNAME_TYPES: readonly number[] = Object.freeze([RRType.RRSIG, RRType.NSEC, RRType.NXNAME]);
/** NXNAME bitmap for RFC 9824 §3.1, encoded once. */
const NXNAME_BITMAP = typeBitmapToWire(NXNAME_TYPES);

/**
 * NSEC RDATA for a compact-denial answer to a nonexistent `qname` (RFC 9824 §3.1): owner = qname, next = its
 * immediate successor (`\000.qname`), bitmap exactly {RRSIG, NSEC, NXNAME}. The next name is lowercase, so the
 * RDATA (and its signature) does not depend on the query's letter case.
 */
export function compactNxdomainNsec(qname: Name): Uint8Array {
  const next = nsecSuccessor(qname);
  const out = new Uint8Array(next.wireLength + NXNAME_BITMAP.length);
  out.set(next.toWire(), 0);
  out.set(NXNAME_BITMAP, next.wireLength);
  return out;
}

/**
 * NSEC RDATA for a NODATA answer at an existing name (RFC 9824 §3.2, and §3.3 for wildcard NODATA with the
 * wildcard's types): next = successor of qname, bitmap = the types present plus RRSIG and NSEC. For an empty
 * non-terminal pass no types (bitmap {RRSIG, NSEC}).
 */
export function nodataNsec(qname: Name, typesAtName: readonly number[]): Uint8Array {
  return nsecRdata(nsecSuccessor(qname), [...typesAtName, RRType.RRSIG, RRType.NSEC]);
}
