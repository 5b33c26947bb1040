// Pre-signed zones: RFC 4035 §3.1 answer construction from the RRSIG, NSEC and NSEC3 records stored in the zone
// file (no online signing), with sorted NSEC / NSEC3 indexes built once per snapshot for covering lookups.

import { RRType } from '../wire/constants.js';
import type { SectionEntry } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import { NodeFlag, type ZoneNode, type ZoneSnapshot } from '../zone/snapshot.js';
import type { Resolution, WildcardInfo } from '../zone/resolution.js';
import type { Response } from '../wire/response.js';
import { chainLinks, nextCloser, wildcardOf } from './answer-origin.js';
import { nsec3Hash, nsec3LabelToHash } from './nsec3.js';
import { canonicalIndex, chainPosition, type CanonicalIndex } from './nsec-chain.js';

interface Nsec3Params {
  readonly salt: Uint8Array;
  readonly iterations: number;
}

interface Nsec3Entry {
  readonly hash: Buffer;
  readonly node: ZoneNode;
}

interface Index {
  /** Nodes holding an NSEC RRset, in canonical order (RFC 4034 §6.1). */
  readonly nsec: CanonicalIndex;
  readonly nsec3Params: Nsec3Params | undefined;
  /** Nodes holding an NSEC3 RRset, by hash. */
  readonly nsec3: readonly Nsec3Entry[];
}

const indexes = new WeakMap<ZoneSnapshot, Index>();

function indexOf(zone: ZoneSnapshot): Index {
  let ix = indexes.get(zone);
  if (ix !== undefined) return ix;
  const nsec = canonicalIndex(zone, (node) => node.rrsets.has(RRType.NSEC));
  const nsec3: Nsec3Entry[] = [];
  for (const node of zone.nodes.values()) {
    if (node.rrsets.has(RRType.NSEC3) && node.name.labels.length === zone.origin.labels.length + 1) {
      const h = nsec3LabelToHash(node.name.labels[0]!);
      if (h !== undefined) nsec3.push({ hash: Buffer.from(h), node });
    }
  }
  nsec3.sort((a, b) => Buffer.compare(a.hash, b.hash));
  // RFC 5155 §4: the apex NSEC3PARAM gives the parameters used to hash names (flags must be 0 there).
  const param = zone.apex.rrsets.get(RRType.NSEC3PARAM)?.rdata.find((r) => r.length >= 5 && r[0] === 1 && r[1] === 0);
  let nsec3Params: Nsec3Params | undefined;
  if (param !== undefined) nsec3Params = { iterations: (param[2]! << 8) | param[3]!, salt: param.subarray(5, 5 + param[4]!) };
  ix = { nsec, nsec3Params, nsec3 };
  indexes.set(zone, ix);
  return ix;
}

/** The stored RRSIGs at `node` covering `type` (RFC 4035 §3.1.1), as an RRset owned by `owner`. */
function sigsFor(node: ZoneNode | undefined, type: number, owner: Name, ttl: number): SectionEntry | undefined {
  const sigs = node?.rrsets.get(RRType.RRSIG);
  if (sigs === undefined) return undefined;
  const rdata = sigs.rdata.filter((r) => r.length >= 2 && ((r[0]! << 8) | r[1]!) === type);
  return rdata.length === 0 ? undefined : { owner, type: RRType.RRSIG, class: sigs.class, ttl, rdata };
}

/** The NSEC covering `name`: the last NSEC owner before it in canonical order, wrapping to the last (RFC 4034 §4.1.1). */
function coveringNsec(ix: Index, name: Name): ZoneNode | undefined {
  return ix.nsec.nodes[chainPosition(ix.nsec, name).index];
}

/** The NSEC3 matching or covering H(name) (RFC 5155 §7.2.1). */
function nsec3For(ix: Index, name: Name): { readonly node: ZoneNode; readonly match: boolean } | undefined {
  const p = ix.nsec3Params;
  const a = ix.nsec3;
  if (p === undefined || a.length === 0) return undefined;
  const h = nsec3Hash(name, p.salt, p.iterations);
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (Buffer.compare(a[mid]!.hash, h) <= 0) lo = mid + 1;
    else hi = mid;
  }
  const e = lo === 0 ? a[a.length - 1]! : a[lo - 1]!;
  return { node: e.node, match: Buffer.compare(e.hash, h) === 0 };
}

/** Build the DNSSEC-enriched response of a pre-signed zone for a DO=1 query. */
export function presignedResponse(res: Resolution, response: Response): Response {
  const zone = res.zone;
  const ix = indexOf(zone);
  const answer: SectionEntry[] = [];
  const authority: SectionEntry[] = [];
  const proofs: SectionEntry[] = [];
  const seen = new Set<string>();
  const useNsec3 = ix.nsec.nodes.length === 0 && ix.nsec3.length > 0;

  const addStored = (node: ZoneNode | undefined, type: number): void => {
    if (node === undefined || seen.has(node.name.key + type)) return;
    const set = node.rrsets.get(type);
    if (set === undefined) return;
    seen.add(node.name.key + type);
    proofs.push(set);
    const sig = sigsFor(node, type, set.owner, set.ttl);
    if (sig) proofs.push(sig);
  };
  const nsecCover = (name: Name): void => addStored(coveringNsec(ix, name), RRType.NSEC);
  // An empty non-terminal has no NSEC of its own: the NSEC before it (whose next name lies below it) proves it
  // holds no data (RFC 4035 §3.1.3.1, RFC 4592 §4.9 / RFC 5155 §7.2.3 for the NSEC3 case).
  const nsecAt = (node: ZoneNode): void => (node.rrsets.has(RRType.NSEC) ? addStored(node, RRType.NSEC) : nsecCover(node.name));
  const nsec3Of = (name: Name): void => addStored(nsec3For(ix, name)?.node, RRType.NSEC3);
  /** RFC 5155 §7.2.1 closest encloser proof. */
  const ceProof = (name: Name, ce: Name): void => {
    nsec3Of(ce);
    nsec3Of(nextCloser(name, ce));
  };
  /**
   * The NSEC3 matching `name`; without one (an insecure delegation or its DS under Opt-Out), the closest provable
   * encloser proof, RFC 5155 §7.2.4 (DS NODATA) and §7.2.7 (referral): "If there is no NSEC3 RR that matches QNAME,
   * the server MUST return a closest provable encloser proof for QNAME. The NSEC3 RR that covers the 'next closer'
   * name MUST have the Opt-Out bit set". The closest provable encloser is the nearest ancestor with a matching NSEC3.
   */
  const nsec3MatchOrProof = (name: Name): void => {
    const own = nsec3For(ix, name);
    if (own === undefined || own.match || name.labels.length <= zone.origin.labels.length) {
      addStored(own?.node, RRType.NSEC3);
      return;
    }
    let ce = name.parent();
    while (ce.labels.length > zone.origin.labels.length && nsec3For(ix, ce)?.match !== true) ce = ce.parent();
    ceProof(name, ce);
  };
  const wildcardProof = (wc: WildcardInfo): void => {
    // RFC 4035 §3.1.3.3 / RFC 5155 §7.2.6: prove that QNAME itself does not exist.
    if (useNsec3) nsec3Of(nextCloser(wc.qname, wc.closestEncloser.name));
    else nsecCover(wc.qname);
  };

  const links = chainLinks(res);
  for (const e of response.answer) {
    answer.push(e);
    const link = links?.get(e);
    if (link?.fromDname) continue; // RFC 6672 §5.3.1: the synthesized CNAME is unsigned
    const wc = wildcardOf(res, link, e);
    const node = wc !== undefined ? wc.source : zone.nodes.get(e.owner.key);
    const sig = sigsFor(node, e.type, e.owner, e.ttl);
    if (sig) answer.push(sig);
    if (wc !== undefined) wildcardProof(wc);
  }
  for (const e of response.authority) {
    authority.push(e);
    if (res.kind === 'referral' && e === res.ns) continue; // RFC 4035 §2.2: NS at a cut is unsigned
    const sig = sigsFor(zone.nodes.get(e.owner.key), e.type, e.owner, e.ttl);
    if (sig) authority.push(sig);
  }
  switch (res.kind) {
    case 'nodata':
      if (res.wildcard === undefined) {
        // RFC 4035 §3.1.3.1 / RFC 5155 §7.2.3 (§7.2.4 for DS at an Opt-Out delegation).
        if (useNsec3) nsec3MatchOrProof(res.node.name);
        else nsecAt(res.node);
      } else if (useNsec3) {
        // RFC 5155 §7.2.5.
        ceProof(res.name, res.wildcard.closestEncloser.name);
        nsec3Of(res.wildcard.source.name);
      } else {
        // RFC 4035 §3.1.3.4: NSEC covering QNAME plus the wildcard's NSEC.
        nsecCover(res.name);
        nsecAt(res.wildcard.source);
      }
      break;
    case 'nxdomain':
      if (useNsec3) {
        // RFC 5155 §7.2.2.
        ceProof(res.name, res.closestEncloser.name);
        nsec3Of(res.closestEncloser.name.child('*'));
      } else {
        // RFC 4035 §3.1.3.2: NSEC covering QNAME and NSEC covering the wildcard at the closest encloser.
        nsecCover(res.name);
        nsecCover(res.closestEncloser.name.child('*'));
      }
      break;
    case 'referral':
      // RFC 4035 §3.1.4: the child's DS RRset with its stored RRSIG, or the proof that there is none.
      if (res.ds !== undefined) addStored(res.cut, RRType.DS);
      else {
        // RFC 4035 §3.1.4.1 / RFC 5155 §7.2.7.
        if (useNsec3) nsec3MatchOrProof(res.cut.name);
        else nsecAt(res.cut);
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
  for (const p of proofs) authority.push(p);
  // RFC 4035 §3.1.1: signed RRsets in the additional section bring their RRSIGs (the encoder drops them without TC
  // when they do not fit, RFC 2181 §9), in referrals too (an NS name's address in the parent's own data is signed);
  // referral glue and data at or below a cut are unsigned (RFC 4035 §2.2).
  let additional = response.additional;
  if (additional.length > 0) {
    const out: SectionEntry[] = [];
    for (const e of additional) {
      out.push(e);
      const node = zone.nodes.get(e.owner.key);
      const sig = node === undefined || node.flags & (NodeFlag.DELEGATION | NodeFlag.OCCLUDED) ? undefined : sigsFor(node, e.type, e.owner, e.ttl);
      if (sig) out.push(sig);
    }
    additional = out;
  }
  return { ...response, answer, authority, additional };
}
