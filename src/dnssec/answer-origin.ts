// Where the answer records of a resolution came from (chain step, wildcard expansion) and the next closer name:
// the facts both DNSSEC answer builders (online signing and pre-signed zones) need to sign and prove an answer.

import type { SectionEntry } from '../wire/message.js';
import type { Name } from '../wire/name.js';
import type { RRset } from '../zone/model.js';
import type { ChainLink, Resolution, WildcardInfo } from '../zone/resolution.js';

/** RFC 5155 §1.3: the next closer name is the closest encloser plus one label of `name`. */
export function nextCloser(name: Name, ce: Name): Name {
  return name.parent(name.labels.length - ce.labels.length - 1);
}

/** The CNAME/DNAME chain step of each answer RRset of `res`; undefined when the answer followed no chain. */
export function chainLinks(res: Resolution): Map<SectionEntry, ChainLink> | undefined {
  if (res.chain.length === 0) return undefined;
  const links = new Map<SectionEntry, ChainLink>();
  for (const l of res.chain) links.set(l.rrset, l);
  return links;
}

/**
 * The wildcard answer entry `e` was expanded from (RFC 4035 §5.3.4): its chain step's, or for the final answer
 * RRsets the resolution's; undefined when it was not synthesized from a wildcard.
 */
export function wildcardOf(res: Resolution, link: ChainLink | undefined, e: SectionEntry): WildcardInfo | undefined {
  if (link !== undefined) return link.wildcard;
  return res.kind === 'answer' && res.wildcard !== undefined && res.rrsets.includes(e as RRset) ? res.wildcard : undefined;
}
