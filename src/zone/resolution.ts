// The outcome vocabulary of resolution: negative answers are results, not exceptions.

import { RRType } from '../wire/constants.js';
import type { Name } from '../wire/name.js';
import type { RRset } from './model.js';
import type { ZoneNode, ZoneSnapshot } from './snapshot.js';

/** Query types a flattened CNAME answers with its target's data (seed "CNAME flattening"); others ignore it. */
export const FLATTEN_TYPES: ReadonlySet<number> = new Set([RRType.A, RRType.AAAA, RRType.HTTPS]);

/** How a wildcard produced an answer (RFC 4592 §3.3.1): signing needs the source and the closest encloser. */
export interface WildcardInfo {
  /** The `*.<closest encloser>` node that was the source of synthesis. */
  readonly source: ZoneNode;
  readonly closestEncloser: ZoneNode;
  /** The name the wildcard was expanded for. */
  readonly qname: Name;
}

/** One step of a CNAME/DNAME chain as it appears in the answer section. */
export interface ChainLink {
  readonly rrset: RRset;
  /** Set when this CNAME was synthesized from a wildcard. */
  readonly wildcard?: WildcardInfo;
  /** Set for a CNAME synthesized from a DNAME (RFC 6672 §3.1: unsigned, TTL of the DNAME). */
  readonly fromDname?: true;
  /** Set on a link whose owner is a CNAME that is flattened rather than followed (answer shaping). */
  readonly flatten?: true;
}

interface Base {
  readonly zone: ZoneSnapshot;
  /** CNAME/DNAME links followed before reaching the final name (answer section, in order). */
  readonly chain: readonly ChainLink[];
  /** The name the final result is about (the QNAME, or the last chain target). */
  readonly name: Name;
}

export type Resolution =
  /** Data found. `rrsets` has one element except for qtype ANY (RFC 8482: still one RRset) . */
  | (Base & { readonly kind: 'answer'; readonly node: ZoneNode; readonly rrsets: readonly RRset[]; readonly wildcard?: WildcardInfo })
  /** The name exists (or a wildcard matched) but not the type (RFC 2308 §2.2). ENTs land here. */
  | (Base & { readonly kind: 'nodata'; readonly node: ZoneNode; readonly wildcard?: WildcardInfo })
  /** The name does not exist (RFC 2308 §2.1). */
  | (Base & { readonly kind: 'nxdomain'; readonly closestEncloser: ZoneNode })
  /** The name is at or below a zone cut (RFC 1034 §4.3.2 step 3b). */
  | (Base & { readonly kind: 'referral'; readonly cut: ZoneNode; readonly ns: RRset; readonly ds?: RRset })
  /** A CNAME chain left the zone: answer with the chain only (RFC 1034 §4.3.2 step 3a). */
  | (Base & { readonly kind: 'external' })
  /** A CNAME loop or an over-long chain. */
  | (Base & { readonly kind: 'loop' })
  /** A DNAME substitution longer than 255 octets (RFC 6672 §2.2). */
  | (Base & { readonly kind: 'yxdomain' });

export type ResolutionKind = Resolution['kind'];
