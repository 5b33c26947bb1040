// RFC 9432 catalog zones, producer side: the zone text that lists member zones, with stable member ids.

import { createHash } from 'node:crypto';
import type { Name } from '../wire/name.js';

export interface CatalogMember {
  readonly name: Name;
  /** RFC 9432 §4.4.2 group property. */
  readonly group?: string | undefined;
}

/**
 * RFC 9432 §4.1: a member's unique id label. Derived from the member's name, so it is the same on every start and
 * on every node producing the same catalog, and changes only if the member is removed and added back as another
 * zone (§5.4 treats a new id as a reset, which a rename is).
 */
export function catalogMemberId(member: Name): string {
  return createHash('sha256').update(member.toString().toLowerCase()).digest('hex').slice(0, 16);
}

/** A TXT character-string (RFC 1035 §5.1 quoting). */
function quoted(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * The catalog zone file: SOA and the required NS (RFC 9432 §4: "invalid."), `version` TXT "2" (§4.2.1), and per
 * member `<id>.zones PTR <member>` (§4.3) with its `group.<id>.zones TXT` (§4.4.2). The serial is 1; the zone's
 * `increment` policy makes the served serial grow whenever the text changes.
 */
export function catalogZoneText(origin: Name, members: readonly CatalogMember[]): string {
  const lines = [
    `; RFC 9432 catalog zone ${origin.toString()}, written by apexdns from its configuration; edits are overwritten`,
    `$ORIGIN ${origin.toString()}`,
    '$TTL 0',
    '@ SOA invalid. invalid. 1 3600 600 2147483646 0',
    '@ NS invalid.',
    'version TXT "2"',
  ];
  const sorted = [...members].sort((a, b) => (a.name.toString() < b.name.toString() ? -1 : 1));
  for (const m of sorted) {
    const id = catalogMemberId(m.name);
    lines.push(`${id}.zones PTR ${m.name.toString()}`);
    if (m.group !== undefined) lines.push(`group.${id}.zones TXT ${quoted(m.group)}`);
  }
  return lines.join('\n') + '\n';
}
