// Turns a Resolution into response sections: the chain and answer, the negative SOA or the referral NS, and the
// additional-section data (RFC 1034 §4.3.2, RFC 2308 §3, RFC 2181 §9 for glue).

import { Rcode } from '../wire/constants.js';
import type { SectionEntry } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import type { Resolution } from '../zone/resolution.js';
import { EMPTY, type Response } from '../wire/response.js';

export function buildResponse(res: Resolution): Response {
  const chain: SectionEntry[] = res.chain.map((l) => l.rrset);
  switch (res.kind) {
    case 'answer': {
      const answer = chain.length === 0 ? res.rrsets : [...chain, ...res.rrsets];
      return { rcode: Rcode.NOERROR, aa: true, answer, authority: EMPTY, additional: additionalFor(res, answer) };
    }
    case 'nodata':
      // RFC 2308 §2.2: NOERROR, no answer for the type, SOA in authority (TTL already min(TTL, MINIMUM)).
      return { rcode: Rcode.NOERROR, aa: true, answer: chain, authority: [res.zone.negativeSoa], additional: EMPTY };
    case 'nxdomain':
      // RFC 2308 §2.1; RFC 6604 §2: the RCODE describes the last name in a CNAME chain.
      return { rcode: Rcode.NXDOMAIN, aa: true, answer: chain, authority: [res.zone.negativeSoa], additional: EMPTY };
    case 'referral': {
      // RFC 1034 §4.3.2 step 3b: NS of the cut in authority, AA clear (unless a chain made the first part
      // authoritative), addresses of the name servers in additional (glue, RFC 9471). The child's DS (or the proof
      // that it has none) is DNSSEC data: the signing stage adds it for DO=1 queries to a signed zone only
      // (RFC 4035 §3.1.4), never here.
      const glue = referralGlue(res.cut.name, res.cut.additional.get(res.ns.type) ?? EMPTY);
      const out = { rcode: Rcode.NOERROR, aa: chain.length > 0, answer: chain, authority: [res.ns], additional: glue.sets };
      return glue.inDomain > 0 ? { ...out, requiredAdditional: glue.inDomain } : out;
    }
    case 'external':
      // RFC 1034 §4.3.2 step 3a: the chain leaves the zone; the resolver continues from the last target.
      return { rcode: Rcode.NOERROR, aa: true, answer: chain, authority: EMPTY, additional: EMPTY };
    case 'loop':
      // A CNAME loop inside the zone, or a chain longer than limits.max-cname-chain: answer the chain collected so far
      // (up to the repeat), as Knot and BIND do; resolvers detect it.
      return { rcode: Rcode.NOERROR, aa: true, answer: chain, authority: EMPTY, additional: EMPTY };
    case 'yxdomain':
      // RFC 6672 §2.2: the DNAME substitution would exceed 255 octets.
      return { rcode: Rcode.YXDOMAIN, aa: true, answer: chain, authority: EMPTY, additional: EMPTY };
    default: {
      const never: never = res;
      return never;
    }
  }
}

interface ReferralGlue {
  readonly sets: readonly SectionEntry[];
  /** How many leading `sets` are in-domain glue. */
  readonly inDomain: number;
}
const glueOrder = new WeakMap<readonly SectionEntry[], ReferralGlue>();

/**
 * The addresses of a cut's name servers with the in-domain glue (at or below the cut) first: RFC 9471 §3 makes it
 * mandatory (TC when it does not fit); sibling glue and other addresses stay optional. Computed once per cut.
 */
function referralGlue(cut: Name, sets: readonly SectionEntry[]): ReferralGlue {
  let g = glueOrder.get(sets);
  if (g === undefined) {
    const inside = sets.filter((e) => e.owner.isSubdomainOf(cut));
    g = { sets: inside.length === 0 || inside.length === sets.length ? sets : [...inside, ...sets.filter((e) => !inside.includes(e))], inDomain: inside.length };
    glueOrder.set(sets, g);
  }
  return g;
}

/** RFC 1034 §4.3.2 step 6: addresses of NS/MX/SRV/SVCB/HTTPS targets, minus RRsets already in the answer. */
function additionalFor(res: Resolution & { kind: 'answer' }, answer: readonly SectionEntry[]): readonly SectionEntry[] {
  let out: SectionEntry[] | undefined;
  for (const set of res.rrsets) {
    const extra = res.node.additional.get(set.type);
    if (!extra) continue;
    for (const e of extra) {
      if (answer.includes(e) || out?.includes(e)) continue;
      (out ??= []).push(e);
    }
  }
  return out ?? EMPTY;
}
