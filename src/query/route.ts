// Routes a query to the served zone with the longest matching suffix (RFC 1034 §4.3.2 step 2).

import { RRType } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import type { ServedZone, ZoneSet } from '../zone/store.js';

/** The zone to answer from, or undefined for names outside every zone (REFUSED). */
export function route(set: ZoneSet, qname: Name, qtype: number): ServedZone | undefined {
  const zone = set.find(qname.key);
  if (!zone) return undefined;
  // RFC 4035 §3.1.4.1: DS lives on the parent side of a cut; when we serve the parent too, answer from it.
  if (qtype === RRType.DS && zone.snapshot.origin.key === qname.key) return set.findParent(qname.key) ?? zone;
  return zone;
}
