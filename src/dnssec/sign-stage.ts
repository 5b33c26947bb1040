// Query-time DNSSEC stage: adds RRSIGs and denial-of-existence proofs (compact NSEC, NSEC3 white lies, the zone's
// NSEC chain, or the stored chain of a pre-signed zone) to a response built for a DO=1 query, after resolution and
// answer shaping.

import { Rcode, RRType } from '../wire/constants.js';
import type { SectionEntry } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import { NodeFlag, type ZoneNode, type ZoneSnapshot } from '../zone/snapshot.js';
import { FLATTEN_TYPES, type Resolution } from '../zone/resolution.js';
import { EMPTY, type Response } from '../wire/response.js';
import { chainLinks, nextCloser, wildcardOf } from './answer-origin.js';
import { canonicalRRset, type CanonicalRRset } from './canonical.js';
import { compactNxdomainNsec, nodataNsec, nsecRdata } from './nsec.js';
import { chainNext, chainPosition, nsecChain, type NsecChain } from './nsec-chain.js';
import { FifoMap } from '../util/fifo-map.js';
import { hashPlusOne, nsec3Cover, nsec3Hash, nsec3Owner, nsec3Rdata } from './nsec3.js';
import { presignedResponse } from './presigned.js';
import type { SigningBudget } from './budget.js';
import { NSEC3_ITERATIONS, NSEC3_SALT, signingOf, type LiveSigning } from './zone-keys.js';

export interface SignOptions {
  /** EDNS "Compact Answers OK" (RFC 9824 §5.2) was set in the query. */
  readonly co: boolean;
  /** Unix time, seconds. */
  readonly now: number;
  /**
   * The query type. Denial bitmaps at flattened names depend on it: a NODATA produced by flattening (the target has
   * no data of that type) must leave that type out of the bitmap. Default 0 (a type no flattening answers).
   */
  readonly qtype?: number;
  /**
   * One-off signatures allowed for this answer (UDP only; src/dnssec/budget.ts). When the budget is spent the
   * response comes back `truncated`, with no records: the client retries over TCP, where no budget applies.
   */
  readonly budget?: SigningBudget;
}

/**
 * Add DNSSEC records to `response` (built from `res`) for a DO=1 query (RFC 4035 §3.1). Returns `response` itself
 * when the zone is not signed. For a compact-denial NXDOMAIN sent as NOERROR, `logicalRcode` carries NXDOMAIN.
 */
export function signResponse(res: Resolution, response: Response, opts: SignOptions): Response {
  const s = signingOf(res.zone);
  if (s === undefined) return response;
  if (s.kind === 'presigned') return presignedResponse(res, response);
  return signLive(res, response, s, opts);
}

/**
 * True for a live-signed zone: its RRSIGs are made per answer, so there is no RRSIG RRset to hand out for a query of
 * type RRSIG (Knot's onlinesign and PowerDNS answer REFUSED too). Pre-signed and unsigned zones answer normally.
 */
export function refusesRrsigQuery(zone: ZoneSnapshot): boolean {
  return signingOf(zone)?.kind === 'live';
}

/** Canonical forms of long-lived RRsets (snapshot data), computed once per RRset object. */
const canonCache = new WeakMap<SectionEntry, CanonicalRRset>();
function canon(set: SectionEntry): CanonicalRRset {
  let c = canonCache.get(set);
  if (c === undefined) {
    c = canonicalRRset(set);
    canonCache.set(set, c);
  }
  return c;
}

/** A denial record and its canonical form, precomputed per zone node. */
interface Proof {
  readonly entry: SectionEntry;
  readonly canon: CanonicalRRset;
}
/**
 * Per node, the denial records for each bitmap variant: index 0 for the node's own types, 1..n for a flattened name
 * whose flattening answered NODATA for FLATTEN_LIST[i - 1] (see bitmapTypes).
 */
const compactNodeNsec = new WeakMap<ZoneNode, (Proof | undefined)[]>();
const nsec3NodeMatch = new WeakMap<ZoneNode, (Proof | undefined)[]>();
const FLATTEN_LIST: readonly number[] = [...FLATTEN_TYPES].sort((a, b) => a - b);

function rrsigOf(e: SectionEntry, sig: Uint8Array): SectionEntry {
  // RFC 4034 §3: the RRSIG owner, class and TTL are those of the covered RRset.
  return { owner: e.owner, type: RRType.RRSIG, class: e.class, ttl: e.ttl, rdata: [sig] };
}

function proof(owner: Name, type: number, ttl: number, rdata: Uint8Array): Proof {
  const entry: SectionEntry = { owner, type, class: 1, ttl, rdata: [rdata] };
  return { entry, canon: canonicalRRset(entry) };
}

/** A node whose CNAME is flattened (apex CNAME, cf-flatten-cname, ALIAS/ANAME, flatten-all; marked at load). */
function isFlattenedNode(node: ZoneNode): boolean {
  const cname = node.rrsets.get(RRType.CNAME);
  return cname !== undefined && cname.meta[0]?.flatten === true;
}

/**
 * The bitmap variant of `node` for a NODATA to `qtype`: 0 (the node's types) except at a flattened name whose
 * flattening itself answered NODATA for `qtype` (one of FLATTEN_TYPES).
 */
function variantOf(node: ZoneNode, qtype: number): number {
  if (!FLATTEN_TYPES.has(qtype) || !isFlattenedNode(node)) return 0;
  return FLATTEN_LIST.indexOf(qtype) + 1;
}

/**
 * Types for a denial bitmap of an existing node: at a zone cut only NS and DS are authoritative (RFC 4035 §2.3).
 * At a flattened name the bitmap must describe the answers, not the stored CNAME (seed "CNAME flattening"): the
 * CNAME is never served for other types, and a CNAME bit makes validators reject every NODATA proof there
 * (RFC 4035 §5.4: the NSEC must show neither the QTYPE nor CNAME); A, AAAA and HTTPS are answered by flattening,
 * so they are listed (a resolver's aggressive NSEC use, RFC 8198 §5.2, must not synthesize NODATA for them),
 * except the type whose flattening gave NODATA (`variant`, see variantOf).
 */
function bitmapTypes(node: ZoneNode, variant = 0): readonly number[] {
  if (node.flags & NodeFlag.DELEGATION) return node.types.filter((t) => t === RRType.NS || t === RRType.DS);
  if (!isFlattenedNode(node)) return node.types;
  const denied = variant === 0 ? 0 : FLATTEN_LIST[variant - 1]!;
  const out = node.types.filter((t) => t !== RRType.CNAME);
  for (const t of FLATTEN_LIST) if (t !== denied && !out.includes(t)) out.push(t);
  return out.sort((a, b) => a - b);
}

/** The per-variant proof list of `node` in `cache` (created empty on first use). */
function proofList(cache: WeakMap<ZoneNode, (Proof | undefined)[]>, node: ZoneNode): (Proof | undefined)[] {
  let list = cache.get(node);
  if (list === undefined) cache.set(node, (list = []));
  return list;
}

/** RFC 9824 §3.2: NSEC at an existing name, next = `\000.name`, bitmap = types + RRSIG + NSEC. */
function compactNsecFor(zone: ZoneSnapshot, node: ZoneNode, variant = 0): Proof {
  // RFC 9077 §3: NSEC TTL = min(SOA TTL, SOA MINIMUM), the negative SOA's TTL.
  return (proofList(compactNodeNsec, node)[variant] ??= proof(node.name, RRType.NSEC, zone.negativeSoa.ttl, nodataNsec(node.name, bitmapTypes(node, variant))));
}

function hashOf(name: Name): Uint8Array {
  return nsec3Hash(name, NSEC3_SALT, NSEC3_ITERATIONS);
}

/**
 * The NSEC3 matching an existing node (RFC 5155 §7.2.3): owner H(name), next H(name)+1 (a white lie: reveals no
 * other hash), bitmap = the node's types plus RRSIG when anything there is signed (an ENT has an empty bitmap,
 * an unsigned delegation only NS).
 */
function nsec3MatchFor(zone: ZoneSnapshot, origin: Name, node: ZoneNode, variant = 0): Proof {
  const list = proofList(nsec3NodeMatch, node);
  const hit = list[variant];
  if (hit !== undefined) return hit;
  const h = hashOf(node.name);
  const types = bitmapTypes(node, variant);
  const insecureCut = (node.flags & NodeFlag.DELEGATION) !== 0 && !types.includes(RRType.DS);
  const bitmap = types.length > 0 && !insecureCut ? [...types, RRType.RRSIG] : types;
  return (list[variant] = proof(nsec3Owner(h, origin), RRType.NSEC3, zone.negativeSoa.ttl, nsec3Rdata({ nextHashed: hashPlusOne(h), types: bitmap })));
}

/** A white-lie NSEC3 covering H(name) (RFC 7129 Appendix B): owner H-1, next H+1, empty bitmap. */
function nsec3CoverFor(zone: ZoneSnapshot, origin: Name, name: Name): Proof {
  const c = nsec3Cover(hashOf(name), origin);
  return proof(c.owner, RRType.NSEC3, zone.negativeSoa.ttl, nsec3Rdata({ nextHashed: c.nextHashed, types: [] }));
}

/**
 * Per NSEC chain, its NSEC records by `position * CHAIN_VARIANTS + bitmap variant`, made on first use and kept up to
 * CHAIN_PROOFS_MAX (oldest dropped first: a flood that walks a huge zone cannot grow this without bound; a dropped
 * record is remade in about a microsecond and its signature stays in the signature cache).
 */
const chainProofs = new WeakMap<NsecChain, FifoMap<number, Proof>>();
const CHAIN_VARIANTS = FLATTEN_LIST.length + 1;
const CHAIN_PROOFS_MAX = 65_536;

/**
 * The chain NSEC at `index` (RFC 4034 §4.1): next = the following chain name (the apex after the last, §4.1.1),
 * bitmap = the types there plus RRSIG and NSEC (at a cut only NS and DS, RFC 4035 §2.3).
 */
function chainNsecAt(zone: ZoneSnapshot, chain: NsecChain, index: number, variant = 0): Proof {
  let byIndex = chainProofs.get(chain);
  if (byIndex === undefined) chainProofs.set(chain, (byIndex = new FifoMap()));
  const k = index * CHAIN_VARIANTS + variant;
  let p = byIndex.get(k);
  if (p === undefined) {
    const node = chain.nodes[index]!;
    const rdata = nsecRdata(chainNext(chain, index), [...bitmapTypes(node, variant), RRType.RRSIG, RRType.NSEC]);
    p = proof(node.name, RRType.NSEC, zone.negativeSoa.ttl, rdata);
    if (byIndex.size >= CHAIN_PROOFS_MAX) byIndex.shift();
    byIndex.set(k, p);
  }
  return p;
}

const WILDCARD_LABEL = '*';
/** Placeholder for a signature refused by the budget (the answer is then replaced by a truncated one). */
const NO_SIGNATURE = new Uint8Array(0);

/** True when `e` is authoritative data of `zone`: an existing node that is neither a cut nor below one. */
function authoritative(zone: ZoneSnapshot, e: SectionEntry): boolean {
  const node = zone.nodes.get(e.owner.key);
  return node !== undefined && (node.flags & (NodeFlag.DELEGATION | NodeFlag.OCCLUDED)) === 0 && node.rrsets.get(e.type) === e;
}

function signLive(res: Resolution, response: Response, s: LiveSigning, opts: SignOptions): Response {
  const zone = res.zone;
  const origin = s.origin;
  const signer = s.signer;
  const now = opts.now;
  const nsec3 = s.denial === 'nsec3';
  const chain = s.denial === 'nsec' ? nsecChain(zone) : undefined;
  const answer: SectionEntry[] = [];
  const authority: SectionEntry[] = [];
  const proofs: SectionEntry[] = [];
  const proofOwners = new Set<string>();

  // One-off signatures (one per query name, kept out of the cache) are what a random-subdomain flood makes; they
  // draw on the signing budget. Over it, the answer is not signed at all but sent truncated (see SignOptions).
  let overBudget = false;
  const signOnce = (set: CanonicalRRset): Uint8Array => {
    if (opts.budget !== undefined && !opts.budget.take()) {
      overBudget = true;
      return NO_SIGNATURE;
    }
    return signer.sign(set, now, false);
  };
  const addProof = (p: Proof, cache: boolean): void => {
    if (proofOwners.has(p.entry.owner.key)) return;
    proofOwners.add(p.entry.owner.key);
    proofs.push(p.entry, rrsigOf(p.entry, cache ? signer.sign(p.canon, now) : signOnce(p.canon)));
  };

  // denial nsec: the chain NSEC covering a nonexistent `name` (RFC 4035 §3.1.3.2), and the one at an existing node,
  // or for an empty non-terminal (no NSEC of its own) the one before it, whose next name lies below it (§3.1.3.1).
  const cover = (c: NsecChain, name: Name): void => addProof(chainNsecAt(zone, c, chainPosition(c, name).index), true);
  const nsecAt = (c: NsecChain, node: ZoneNode, variant = 0): void => {
    const at = chainPosition(c, node.name);
    addProof(chainNsecAt(zone, c, at.index, at.match ? variant : 0), true);
  };

  const links = chainLinks(res);

  for (const e of response.answer) {
    answer.push(e);
    if (!e.owner.isSubdomainOf(origin)) continue;
    const link = links?.get(e);
    // RFC 6672 §5.3.1: a CNAME synthesized from a DNAME is sent unsigned; validators synthesize it themselves.
    if (link?.fromDname) continue;
    const wc = wildcardOf(res, link, e);
    if (wc === undefined) {
      answer.push(rrsigOf(e, signer.sign(canon(e), now)));
      continue;
    }
    const source = wc.source.rrsets.get(e.type);
    if ((nsec3 || chain !== undefined) && source !== undefined) {
      // RFC 4035 §5.3.2: sign with the wildcard's label count (the source RRset's signature, shared by every
      // expansion), and prove that QNAME does not exist: RFC 5155 §7.2.6 (the next closer name), RFC 4035 §3.1.3.3.
      answer.push(rrsigOf(e, signer.sign(canon(source), now)));
      if (chain !== undefined) cover(chain, wc.qname);
      else addProof(nsec3CoverFor(zone, origin, nextCloser(wc.qname, wc.closestEncloser.name)), false);
    } else {
      // Compact denial: sign the expansion as if the name existed (labels = QNAME's count, as Knot's onlinesign
      // and Cloudflare do), so no proof is needed; it is valid RFC 4034 data at QNAME. A one-off signature (one per
      // expanded name, which a flood makes unique): kept out of the cache like the NXDOMAIN NSECs.
      answer.push(rrsigOf(e, signOnce(canonicalRRset(e))));
    }
  }

  for (const e of response.authority) {
    authority.push(e);
    // RFC 4035 §2.2: the NS RRset at a delegation point (and glue) is not signed by the parent.
    if (res.kind === 'referral' && e === res.ns) continue;
    if (!e.owner.isSubdomainOf(origin)) continue;
    authority.push(rrsigOf(e, signer.sign(canon(e), now)));
  }

  // RFC 4035 §3.1.1: a signed RRset placed in the additional section gets its RRSIGs there too; if they do not fit,
  // the encoder drops them without TC (additional data is optional, RFC 2181 §9), in referrals too (an NS name's
  // address in the zone's own data is signed). Referral glue, and any address at or below a zone cut, is not
  // authoritative and has no signatures (RFC 4035 §2.2).
  let additional = response.additional;
  if (additional.length > 0) {
    const out: SectionEntry[] = [];
    for (const e of additional) {
      out.push(e);
      if (authoritative(zone, e)) out.push(rrsigOf(e, signer.sign(canon(e), now)));
    }
    additional = out;
  }

  let rcode = response.rcode;
  let logicalRcode: number | undefined;
  switch (res.kind) {
    case 'nodata': {
      const wc = res.wildcard;
      const variant = variantOf(res.node, opts.qtype ?? 0);
      if (chain !== undefined) {
        if (wc === undefined) nsecAt(chain, res.node, variant);
        else {
          // RFC 4035 §3.1.3.4: QNAME does not exist, and the wildcard has no data of the type.
          cover(chain, res.name);
          nsecAt(chain, wc.source, variant);
        }
      } else if (!nsec3) {
        if (wc === undefined) addProof(compactNsecFor(zone, res.node, variant), true);
        // RFC 9824 §3.3: wildcard NODATA: an NSEC at QNAME with the wildcard's types (one-off, not cached).
        else addProof(proof(res.name, RRType.NSEC, zone.negativeSoa.ttl, nodataNsec(res.name, bitmapTypes(res.node, variant))), false);
      } else if (wc === undefined) {
        // RFC 5155 §7.2.3 / §7.2.4: the NSEC3 matching QNAME, without the QTYPE (or DS) bit.
        addProof(nsec3MatchFor(zone, origin, res.node, variant), true);
      } else {
        // RFC 5155 §7.2.5: closest encloser proof plus the NSEC3 matching the wildcard.
        addProof(nsec3MatchFor(zone, origin, wc.closestEncloser), true);
        addProof(nsec3CoverFor(zone, origin, nextCloser(wc.qname, wc.closestEncloser.name)), false);
        addProof(nsec3MatchFor(zone, origin, wc.source, variant), true);
      }
      break;
    }
    case 'nxdomain': {
      if (chain !== undefined) {
        // RFC 4035 §3.1.3.2: QNAME does not exist, and neither does the wildcard at the closest encloser.
        cover(chain, res.name);
        cover(chain, res.closestEncloser.name.child(WILDCARD_LABEL));
      } else if (!nsec3) {
        // RFC 9824 §3.1: one NSEC at QNAME, next `\000.QNAME`, bitmap {RRSIG, NSEC, NXNAME}; not cached (one-off).
        addProof(proof(res.name, RRType.NSEC, zone.negativeSoa.ttl, compactNxdomainNsec(res.name)), false);
        // RFC 9824 §3.5: RCODE NOERROR unless the query set the Compact Answers OK flag.
        if (response.rcode === Rcode.NXDOMAIN) {
          logicalRcode = Rcode.NXDOMAIN;
          if (!opts.co) rcode = Rcode.NOERROR;
        }
      } else {
        // RFC 5155 §7.2.2: closest encloser match, next closer cover, wildcard (*.CE) cover.
        const ce = res.closestEncloser;
        addProof(nsec3MatchFor(zone, origin, ce), true);
        addProof(nsec3CoverFor(zone, origin, nextCloser(res.name, ce.name)), false);
        addProof(nsec3CoverFor(zone, origin, ce.name.child(WILDCARD_LABEL)), true);
      }
      break;
    }
    case 'referral':
      // RFC 4035 §3.1.4: a signed parent sends the child's DS RRset with its RRSIG (the parent is authoritative for
      // DS, §2.4); at a cut without DS, it proves its absence (NS bit set, no DS, no SOA; RFC 5155 §7.2.7).
      if (res.ds !== undefined) proofs.push(res.ds, rrsigOf(res.ds, signer.sign(canon(res.ds), now)));
      else {
        if (chain !== undefined) nsecAt(chain, res.cut);
        else addProof(nsec3 ? nsec3MatchFor(zone, origin, res.cut) : compactNsecFor(zone, res.cut), true);
      }
      break;
    case 'answer':
    case 'external':
    case 'loop':
    case 'yxdomain':
      break;
    default: {
      const never: never = res;
      return never;
    }
  }
  // RFC 1035 §4.1.1 TC: over the signing budget the UDP answer says "retry over TCP" instead (RFC 7766 §5).
  if (overBudget) return { ...response, answer: EMPTY, authority: EMPTY, additional: EMPTY, truncated: true };
  // A query for type NSEC at a name that has one (compact: every name, even a nonexistent one, as Knot's onlinesign
  // answers; nsec: names on the chain) gets that NSEC as its answer, as from a zone signed ahead of time: a NODATA
  // whose NSEC lists NSEC would fail validation (RFC 4035 §5.4: the bitmap must not hold the QTYPE). At a CNAME
  // owner the NSEC is that name's own (RFC 4035 §2.5: NSEC and RRSIG live beside a CNAME), not the target's.
  if (opts.qtype === RRType.NSEC && !nsec3) {
    const own = ownNsec(res, proofs, chain, signer, now);
    if (own !== undefined) {
      const nsecAnswer: Response = { ...response, rcode: Rcode.NOERROR, answer: own, authority: [], additional };
      return logicalRcode === undefined ? nsecAnswer : { ...nsecAnswer, logicalRcode };
    }
  }
  for (const p of proofs) authority.push(p);
  const out: Response = { ...response, rcode, answer, authority, additional };
  return logicalRcode === undefined ? out : { ...out, logicalRcode };
}

/**
 * The NSEC (and its RRSIG) owned by the query name, for a query of type NSEC (see signLive): from the proofs when
 * the query followed no CNAME, else the CNAME owner's own NSEC; undefined when the name has none (an ENT in nsec
 * mode, a name reached through a DNAME or a wildcard CNAME), which leaves the ordinary answer.
 */
function ownNsec(res: Resolution, proofs: readonly SectionEntry[], chain: NsecChain | undefined, signer: LiveSigning['signer'], now: number): SectionEntry[] | undefined {
  const first = res.chain[0];
  if (first === undefined) {
    if (res.kind !== 'nodata' && res.kind !== 'nxdomain') return undefined;
    const i = proofs.findIndex((p) => p.type === RRType.NSEC && p.owner.key === res.name.key);
    return i < 0 ? undefined : [proofs[i]!, proofs[i + 1]!];
  }
  if (first.fromDname === true || first.wildcard !== undefined) return undefined;
  const node = res.zone.nodes.get(first.rrset.owner.key);
  if (node === undefined) return undefined;
  const p = chain !== undefined ? chainNsecAt(res.zone, chain, chainPosition(chain, node.name).index) : compactNsecFor(res.zone, node);
  return [p.entry, rrsigOf(p.entry, signer.sign(p.canon, now))];
}

/** Longest time a signed answer may be served from the encoded-answer cache, ms. */
export const SIGNED_ANSWER_MAX_AGE_MS = 3_600_000;
/** Encoded bytes are dropped at least this long before the earliest RRSIG in them expires, seconds. */
const EXPIRY_MARGIN = 3600;

/**
 * Until when (Date.now() ms) the encoded bytes of `res` may be reused by an answer cache. Infinity when the response
 * holds no RRSIG. Otherwise at most SIGNED_ANSWER_MAX_AGE_MS: the signature cache re-makes signatures after 75% of
 * their validity and cached bytes must pick the new ones up soon after; and never later than an hour before the
 * earliest RRSIG expiration (pre-signed data). A result <= nowMs means "do not cache".
 */
export function signedAnswerExpiry(res: Response, nowMs: number): number {
  const nowSec = Math.floor(nowMs / 1000);
  let earliest = Infinity;
  for (const section of [res.answer, res.authority, res.additional]) {
    for (const e of section) {
      if (e.type !== RRType.RRSIG) continue;
      for (const rd of e.rdata) {
        if (rd.length < 12) continue;
        // RFC 4034 §3.1.5: 32-bit serial-number time (RFC 1982); resolve it to the instant closest to now.
        const exp = ((rd[8]! << 24) | (rd[9]! << 16) | (rd[10]! << 8) | rd[11]!) >>> 0;
        const abs = nowSec + ((exp - nowSec) | 0);
        if (abs < earliest) earliest = abs;
      }
    }
  }
  if (earliest === Infinity) return Infinity;
  return Math.min(nowMs + SIGNED_ANSWER_MAX_AGE_MS, (earliest - EXPIRY_MARGIN) * 1000);
}
