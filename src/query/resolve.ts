// Resolution over one zone snapshot: exact match, CNAME/DNAME chains, referrals, RFC 4592 wildcards and
// negative results (RFC 1034 §4.3.2 steps 3a-3c, RFC 6672, RFC 2308). Pure: no I/O, no logging.

import { Name, NameError, parentKey } from '../wire/name.js';
import { RRType } from '../wire/constants.js';
import { rdataTargetName } from '../wire/rdata/index.js';
import type { RRset } from '../zone/model.js';
import { NodeFlag, type ZoneNode, type ZoneSnapshot } from '../zone/snapshot.js';
import { signingOf } from '../dnssec/zone-keys.js';
import { FLATTEN_TYPES, type ChainLink, type Resolution, type WildcardInfo } from '../zone/resolution.js';

/** Default bound on CNAME/DNAME redirections followed for one query (config `limits.max-cname-chain`). */
export const MAX_CHAIN = 12;

/** Key prefix of a `*` label in wire-key form: length 1, then `*`. */
const WILDCARD_PREFIX = '\x01*';

/** Types that never count as "the" RRset for ANY (RFC 8482 §4.1 lets us pick one RRset). */
const ANY_SKIP: ReadonlySet<number> = new Set([RRType.RRSIG, RRType.NSEC, RRType.NSEC3]);



export interface ResolveOptions {
  /**
   * CNAMEs for which this returns true are flattened: for FLATTEN_TYPES they end resolution as an `external`
   * result whose last chain link has `flatten` set; for other types the CNAME is ignored.
   */
  readonly isFlattened?: (cname: RRset) => boolean;
  /**
   * At most this many CNAME/DNAME redirections are followed (default MAX_CHAIN). A chain that goes on is answered,
   * like a loop, with the links collected so far: RFC 1034 §3.6.2 says chains should be short and leaves the bound
   * to the server.
   */
  readonly maxChain?: number;
}

/**
 * Resolve `qname`/`qtype` inside `zone`. The caller has already routed the query to the zone (qname is at or
 * below the origin).
 */
export function resolve(zone: ZoneSnapshot, qname: Name, qtype: number, opts: ResolveOptions = {}): Resolution {
  const chain: ChainLink[] = [];
  const seen = new Set<string>();
  const maxChain = opts.maxChain ?? MAX_CHAIN;
  /** Redirections followed so far (a DNAME and the CNAME synthesized from it count once). */
  let hops = 0;
  let name = qname;
  for (;;) {
    if (seen.has(name.key)) return { kind: 'loop', zone, chain, name };
    seen.add(name.key);

    // RFC 1034 §4.3.2 step 3b / RFC 6672 §3.2: look for a zone cut or DNAME on the way down from the apex.
    if (zone.hasDelegations || zone.hasDnames) {
      const stop = findCutOrDname(zone, name.key, qtype);
      if (stop) {
        if (stop.flags & NodeFlag.DELEGATION) {
          const ns = stop.rrsets.get(RRType.NS)!;
          const ds = stop.rrsets.get(RRType.DS);
          return ds ? { kind: 'referral', zone, chain, name, cut: stop, ns, ds } : { kind: 'referral', zone, chain, name, cut: stop, ns };
        }
        const dname = stop.rrsets.get(RRType.DNAME)!;
        if (hops++ >= maxChain) return { kind: 'loop', zone, chain, name };
        const target = targetOf(RRType.DNAME, dname.rdata[0]!);
        let synthesized: Name;
        try {
          synthesized = name.replaceSuffix(stop.name, target);
        } catch (e) {
          if (!(e instanceof NameError)) throw e;
          // RFC 6672 §2.2: a substitution longer than 255 octets is YXDOMAIN.
          return { kind: 'yxdomain', zone, chain: [...chain, { rrset: dname }], name };
        }
        chain.push({ rrset: dname });
        // RFC 6672 §3.1: the synthesized CNAME has the DNAME's TTL.
        chain.push({ rrset: synthCname(name, dname, synthesized), fromDname: true });
        // RFC 6672 §3.2: a CNAME query is answered by the synthesized CNAME itself; other types follow it.
        if (qtype === RRType.CNAME || !synthesized.isSubdomainOf(zone.origin)) return { kind: 'external', zone, chain, name: synthesized };
        name = synthesized;
        continue;
      }
    }

    const node = zone.nodes.get(name.key);
    let found: ZoneNode;
    let wildcard: WildcardInfo | undefined;
    if (node) {
      found = node;
    } else {
      const encloser = closestEncloser(zone, name.key);
      // RFC 4592 §3.3.1: only the closest encloser's `*` child is a source of synthesis.
      const source = encloser.flags & NodeFlag.WILDCARD_CHILD ? zone.nodes.get(WILDCARD_PREFIX + encloser.name.key) : undefined;
      if (!source) return { kind: 'nxdomain', zone, chain, name, closestEncloser: encloser };
      found = source;
      wildcard = { source, closestEncloser: encloser, qname: name };
    }

    // RFC 4035 §2.5: "If a CNAME RR is present at a name in a signed zone, appropriate RRSIG and NSEC RRs are
    // REQUIRED at that name." Those RRsets are the name's own data: a query for them is answered there, not
    // at the CNAME target (Knot, BIND and NSD all do). Without them (unsigned or live-signed data) the CNAME rules.
    const cname = qtype === RRType.CNAME || (BESIDE_CNAME.has(qtype) && found.rrsets.has(qtype)) ? undefined : found.rrsets.get(RRType.CNAME);
    // A flattened CNAME answers A/AAAA/HTTPS with the target's data (answer shaping follows the `flatten` link);
    // every other type is answered from the data at the name itself (seed "CNAME flattening").
    const flattened = cname !== undefined && opts.isFlattened !== undefined && opts.isFlattened(cname);
    if (cname && (!flattened || FLATTEN_TYPES.has(qtype))) {
      const owned = wildcard ? { ...cname, owner: name } : cname;
      const target = targetOf(RRType.CNAME, cname.rdata[0]!);
      if (flattened) {
        chain.push(wildcard ? { rrset: owned, wildcard, flatten: true } : { rrset: owned, flatten: true });
        return { kind: 'external', zone, chain, name: target };
      }
      // RFC 1034 §3.6.2 / RFC 8482: ANY at a CNAME owner answers the CNAME without following it.
      if (qtype === RRType.ANY) return answer(zone, chain, name, found, [owned], wildcard);
      if (hops++ >= maxChain) return { kind: 'loop', zone, chain, name };
      chain.push(wildcard ? { rrset: owned, wildcard } : { rrset: owned });
      if (!target.isSubdomainOf(zone.origin)) return { kind: 'external', zone, chain, name: target };
      name = target;
      continue;
    }

    if (qtype === RRType.ANY) {
      // RFC 8482 §4.1: answer ANY with one RRset of the node rather than the whole node.
      for (const t of found.types) {
        if (ANY_SKIP.has(t)) continue;
        const set = found.rrsets.get(t)!;
        return answer(zone, chain, name, found, [wildcard ? { ...set, owner: name } : set], wildcard);
      }
      return wildcard ? { kind: 'nodata', zone, chain, name, node: found, wildcard } : { kind: 'nodata', zone, chain, name, node: found };
    }

    const stored = found.rrsets.get(qtype);
    const set = stored !== undefined && qtype === RRType.RRSIG ? rrsigTtls(found, stored) : stored;
    // A flattened CNAME is never shown (seed "CNAME flattening"): a CNAME query there gets NODATA, which is also
    // what the signer's type bitmap for the name says.
    if (Array.isArray(set)) return answer(zone, chain, name, found, wildcard ? set.map((x) => ({ ...x, owner: name })) : set, wildcard);
    if (set && !(qtype === RRType.CNAME && opts.isFlattened !== undefined && opts.isFlattened(set))) {
      return answer(zone, chain, name, found, [wildcard ? { ...set, owner: name } : set], wildcard);
    }
    return wildcard ? { kind: 'nodata', zone, chain, name, node: found, wildcard } : { kind: 'nodata', zone, chain, name, node: found };
  }
}

/** Types a signed zone holds beside a CNAME at the same name (RFC 4035 §2.5). */
const BESIDE_CNAME: ReadonlySet<number> = new Set([RRType.RRSIG, RRType.NSEC]);

/**
 * The stored RRSIGs of a node for a query of type RRSIG, one RRset per covered type, each with the TTL of the RRset
 * it covers. RFC 4034 §3: "The TTL value of an RRSIG RR MUST match the TTL value of the RRset it covers. This is an
 * exception to the [RFC2181] rules for TTL values of individual RRs within a RRset: individual RRSIG RRs with the
 * same owner name will have different TTL values if the RRsets they cover have different TTL values." (The zone
 * keeps one TTL per RRset, so the RRSIG RRset alone would give every signature the lowest.) A signature whose
 * covered RRset is not at the node keeps the stored TTL. Returns the stored RRset when all TTLs agree.
 */
function rrsigTtls(node: ZoneNode, sigs: RRset): RRset | RRset[] {
  const groups = new Map<number, { ttl: number; rdata: Uint8Array[]; meta: RRset['meta'][number][] }>();
  for (let i = 0; i < sigs.rdata.length; i++) {
    const r = sigs.rdata[i]!;
    const covered = r.length >= 2 ? (r[0]! << 8) | r[1]! : -1;
    let g = groups.get(covered);
    if (g === undefined) {
      g = { ttl: node.rrsets.get(covered)?.ttl ?? sigs.ttl, rdata: [], meta: [] };
      groups.set(covered, g);
    }
    g.rdata.push(r);
    const m = sigs.meta[i];
    if (m !== undefined) g.meta.push(m);
  }
  if ([...groups.values()].every((g) => g.ttl === sigs.ttl)) return sigs;
  return [...groups.values()].map((g) => ({ owner: sigs.owner, type: sigs.type, class: sigs.class, ttl: g.ttl, rdata: g.rdata, meta: g.meta }));
}

/**
 * The target name of a CNAME or DNAME record, parsed once per record and kept as long as the zone data lives
 * (chains and flattened names are followed on every query).
 */
const targets = new WeakMap<Uint8Array, Name>();
function targetOf(type: number, rdata: Uint8Array): Name {
  let t = targets.get(rdata);
  if (t === undefined) {
    t = rdataTargetName(type, rdata)!;
    targets.set(rdata, t);
  }
  return t;
}

function answer(zone: ZoneSnapshot, chain: ChainLink[], name: Name, node: ZoneNode, rrsets: readonly RRset[], wildcard: WildcardInfo | undefined): Resolution {
  return wildcard ? { kind: 'answer', zone, chain, name, node, rrsets, wildcard } : { kind: 'answer', zone, chain, name, node, rrsets };
}

function synthCname(owner: Name, dname: RRset, target: Name): RRset {
  return { owner, type: RRType.CNAME, class: dname.class, ttl: dname.ttl, rdata: [target.toWire()], meta: [] };
}

/**
 * Types the parent answers at its own zone cut `node`: DS always (RFC 4035 §2.4), and NSEC when the parent holds an
 * NSEC there (§2.3): stored in a zone signed ahead of time, or made for a live NSEC denial (nsec, compact). An
 * unsigned parent, or one denying with NSEC3 (RFC 5155: no NSEC records at all), has none: Knot, BIND and NSD all
 * send the referral then.
 */
function parentSide(zone: ZoneSnapshot, node: ZoneNode, qtype: number): boolean {
  if (qtype === RRType.DS) return true;
  if (qtype !== RRType.NSEC) return false;
  const s = signingOf(zone);
  if (s === undefined) return false;
  return s.kind === 'live' ? s.denial !== 'nsec3' : node.rrsets.has(RRType.NSEC);
}

/**
 * The delegation or DNAME node closest to the apex on the path from the apex to `key`, if any. A delegation at
 * `key` itself does not count for DS and NSEC: the parent is authoritative for both at the cut (RFC 4035 §2.4,
 * §3.1.4.1; RFC 3658 §2.2.1.1); a DNAME only redirects names strictly below its owner (RFC 6672 §2.3).
 */
function findCutOrDname(zone: ZoneSnapshot, key: string, qtype: number): ZoneNode | undefined {
  let hit: ZoneNode | undefined;
  const originKey = zone.origin.key;
  let k: string | undefined = key;
  while (k !== undefined && k !== originKey) {
    const n = zone.nodes.get(k);
    if (n) {
      const self = k === key;
      if (n.flags & NodeFlag.DELEGATION && !(self && parentSide(zone, n, qtype))) hit = n;
      else if (n.flags & NodeFlag.DNAME && !self) hit = n;
    }
    k = parentKey(k);
  }
  return hit;
}

/** RFC 4592 §3.3.1: the longest existing ancestor of a name that does not exist. */
function closestEncloser(zone: ZoneSnapshot, key: string): ZoneNode {
  let k = parentKey(key);
  while (k !== undefined) {
    const n = zone.nodes.get(k);
    if (n) return n;
    k = parentKey(k);
  }
  return zone.apex;
}
