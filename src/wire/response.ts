// The response model the stages build before encoding: rcode, AA, and three sections of RRsets.

import type { SectionEntry } from './message.js';

export interface Ede {
  readonly code: number;
  readonly text: string;
}

export interface Response {
  readonly rcode: number;
  /** RFC 1035 §4.1.1 AA: set for answers from authoritative data, clear on referrals. */
  readonly aa: boolean;
  readonly answer: readonly SectionEntry[];
  readonly authority: readonly SectionEntry[];
  readonly additional: readonly SectionEntry[];
  /**
   * How many leading `additional` RRsets must fit or the response is truncated (RFC 9471 §3: in-domain referral
   * glue); absent = none. Stages that rewrite `additional` keep these entries first.
   */
  readonly requiredAdditional?: number;
  /** RFC 8914 Extended DNS Error to attach to the OPT (only sent when the query had EDNS). */
  readonly ede?: Ede;
  /**
   * The rcode the answer means when it differs from the one sent (RFC 9824 compact denial sends NXDOMAIN as
   * NOERROR); logs and metrics use it.
   */
  readonly logicalRcode?: number;
  /**
   * RFC 1035 §4.1.1 TC: send an empty truncated answer so that the client retries over TCP (set by the DNSSEC stage
   * when the UDP signing budget is spent).
   */
  readonly truncated?: true;
}

export const EMPTY: readonly SectionEntry[] = Object.freeze([]);

/** A response with no records. */
export function bare(rcode: number, aa = false, ede?: Ede): Response {
  return ede ? { rcode, aa, answer: EMPTY, authority: EMPTY, additional: EMPTY, ede } : { rcode, aa, answer: EMPTY, authority: EMPTY, additional: EMPTY };
}
