// Classifies a decoded query by opcode, class and type before any zone is consulted.

import { Opcode, RRClass, RRType } from '../wire/constants.js';
import type { Query } from '../wire/message.js';

export type QueryClass =
  /** Ordinary IN query. */
  | 'normal'
  /** CHAOS-class identity query (version.bind, hostname.bind, id.server). */
  | 'chaos'
  /** Zone transfer request: AXFR (RFC 5936) or IXFR (RFC 1995). */
  | 'axfr'
  | 'ixfr'
  /** RFC 1996 NOTIFY. */
  | 'notify'
  /** RFC 2136 UPDATE and every other opcode: NOTIMP (RFC 1035 §4.1.1). */
  | 'notimp'
  /** Meta types that are not answered from zone data (MAILA/MAILB, OPT, TSIG/TKEY as qtype): NOTIMP/FORMERR. */
  | 'refused';

export function classify(q: Query): QueryClass {
  switch (q.opcode) {
    case Opcode.QUERY:
      break;
    case Opcode.NOTIFY:
      return 'notify';
    default:
      return 'notimp';
  }
  const { type, class: cls } = q.question;
  if (cls === RRClass.CH) return 'chaos';
  if (cls !== RRClass.IN && cls !== RRClass.ANY) return 'refused';
  switch (type) {
    case RRType.AXFR:
      return 'axfr';
    case RRType.IXFR:
      return 'ixfr';
    case RRType.MAILA:
    case RRType.MAILB:
    case RRType.OPT:
    case RRType.TSIG:
    case RRType.TKEY:
      return 'refused';
    default:
      return 'normal';
  }
}
