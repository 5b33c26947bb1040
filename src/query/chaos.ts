// CHAOS-class TXT identity answers: version.bind, hostname.bind, id.server (RFC 4892 §2).

import { Name } from '../wire/name.js';
import { RRClass, RRType, Rcode } from '../wire/constants.js';
import { EMPTY, bare, type Response } from '../wire/response.js';

export interface Identity {
  /** Text for version.bind / version.server; undefined = refuse. */
  readonly version?: string;
  /** Text for hostname.bind; undefined = refuse. */
  readonly hostname?: string;
  /** Text for id.server; undefined = refuse. */
  readonly idServer?: string;
  /** EDNS NSID payload (RFC 5001); undefined = not sent. */
  readonly nsid?: Uint8Array;
}

const VERSION_BIND = Name.parse('version.bind.').key;
const VERSION_SERVER = Name.parse('version.server.').key;
const HOSTNAME_BIND = Name.parse('hostname.bind.').key;
const ID_SERVER = Name.parse('id.server.').key;

export function chaosAnswer(identity: Identity, qname: Name, qtype: number): Response {
  let text: string | undefined;
  let known = true;
  switch (qname.key) {
    case VERSION_BIND:
    case VERSION_SERVER:
      text = identity.version;
      break;
    case HOSTNAME_BIND:
      text = identity.hostname;
      break;
    case ID_SERVER:
      text = identity.idServer;
      break;
    default:
      known = false;
  }
  if (!known || text === undefined) return bare(Rcode.REFUSED);
  if (qtype !== RRType.TXT && qtype !== RRType.ANY) return { rcode: Rcode.NOERROR, aa: true, answer: EMPTY, authority: EMPTY, additional: EMPTY };
  return {
    rcode: Rcode.NOERROR,
    aa: true,
    answer: [{ owner: qname, type: RRType.TXT, class: RRClass.CH, ttl: 0, rdata: [txtRdata(text)] }],
    authority: EMPTY,
    additional: EMPTY,
  };
}

/** TXT RDATA: character-strings of at most 255 octets (RFC 1035 §3.3.14). */
function txtRdata(text: string): Uint8Array {
  const bytes = Buffer.from(text, 'utf8');
  const parts: number[] = [];
  for (let i = 0; i < bytes.length || i === 0; i += 255) {
    const chunk = bytes.subarray(i, i + 255);
    parts.push(chunk.length, ...chunk);
    if (bytes.length === 0) break;
  }
  return Uint8Array.from(parts);
}
