// Test oracle for canonical DNS name order (RFC 4034 §6.1), written plainly and apart from src/dnssec/nsec-chain.ts's
// sort keys, which are checked against it.

import { asciiLower, type Name } from '../../src/wire/name.js';

/** Compare label by label from the right, each label as lowercase octets, a missing label sorting first. */
export function compareCanonical(a: Name, b: Name): number {
  const al = a.labels;
  const bl = b.labels;
  let i = al.length - 1;
  let j = bl.length - 1;
  while (i >= 0 && j >= 0) {
    const x = asciiLower(al[i]!);
    const y = asciiLower(bl[j]!);
    if (x !== y) return x < y ? -1 : 1;
    i--;
    j--;
  }
  return al.length - bl.length;
}
