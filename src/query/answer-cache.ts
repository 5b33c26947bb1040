// Cache of encoded answers, keyed by a hash of the question bytes plus everything else that shapes the answer.

import { EdnsFlag, EdnsOption, Flag } from '../wire/constants.js';
import type { Query } from '../wire/message.js';
import { FifoMap } from '../util/fifo-map.js';

/** What a cached answer is looked up by: the question entry as received (QNAME case ignored) and the other inputs. */
export interface AnswerKey {
  readonly hash: number;
  /** RD/CD (their header bits), EDNS presence, DO, CO, NSID, TCP (bits 0–15) and the size limit (bits 16+). */
  readonly extra: number;
  /** The question entry (QNAME, QTYPE, QCLASS) as received. */
  readonly question: Uint8Array;
}

/** One encoded answer: valid until `until` (Date.now() ms; Infinity = until the zone set changes). */
export interface CachedAnswer {
  readonly bytes: Uint8Array;
  readonly until: number;
  /** The logical rcode for the query log when it differs from the wire rcode (compact denial). */
  readonly logical: number | undefined;
  /** Lowercased question bytes and `extra` of the key, checked on every hit (the hash alone may collide). */
  readonly question: Uint8Array;
  readonly extra: number;
}

const A = 0x41;
const Z = 0x5a;

/** Octet `i` of a question entry, folded to lower case inside the QNAME (before `nameEnd`; RFC 4343). */
function folded(q: Uint8Array, i: number, nameEnd: number): number {
  const c = q[i]!;
  return i < nameEnd && c >= A && c <= Z ? c | 0x20 : c;
}

/** The key of `q` (whose question entry is `question`) answered within `maxSize` octets over `transport`. */
export function answerKey(q: Query, question: Uint8Array, maxSize: number, transport: 'udp' | 'tcp'): AnswerKey {
  const e = q.edns;
  let bits = q.flags & (Flag.RD | Flag.CD);
  if (e) {
    bits |= 1;
    if (e.flags & EdnsFlag.DO) bits |= 2;
    if (e.flags & EdnsFlag.CO) bits |= 4;
    if (e.options.length > 0) {
      for (const o of e.options) if (o.code === EdnsOption.NSID) bits |= 8;
    }
  }
  if (transport === 'tcp') bits |= 64;
  const extra = bits + maxSize * 0x10000;
  // FNV-1a over the question, ASCII letters of the QNAME folded (RFC 4343: names compare case-insensitively);
  // QTYPE and QCLASS (the last 4 octets) as they are.
  const nameEnd = question.length - 4;
  let h = 0x811c9dc5 ^ extra;
  for (let i = 0; i < question.length; i++) h = Math.imul(h ^ folded(question, i, nameEnd), 0x01000193);
  return { hash: h >>> 0, extra, question };
}

/** True when `stored` (lowercased) is the question `q` up to the case of QNAME letters. */
function sameQuestion(stored: Uint8Array, q: Uint8Array): boolean {
  const n = q.length;
  if (stored.length !== n) return false;
  const nameEnd = n - 4;
  for (let i = 0; i < n; i++) if (stored[i] !== folded(q, i, nameEnd)) return false;
  return true;
}

/** A lowercased copy (Buffer#slice would share the request's memory). */
function lowered(q: Uint8Array): Uint8Array {
  const out = new Uint8Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = folded(q, i, q.length - 4);
  return out;
}

/**
 * Encoded answers, at most `maxEntries`, the oldest dropped first. Keyed by a 32-bit hash (a number key costs V8 a
 * fraction of a string key's lookup on a big Map); each hit is checked against the stored question and inputs.
 */
export class AnswerCache {
  private readonly map = new FifoMap<number, CachedAnswer>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.map.size;
  }

  /** The answer for `key` if one is cached and still valid at `now` (ms); an expired one is dropped. */
  get(key: AnswerKey, now: number): CachedAnswer | undefined {
    const hit = this.map.get(key.hash);
    if (hit === undefined || hit.extra !== key.extra || !sameQuestion(hit.question, key.question)) return undefined;
    if (hit.until !== Infinity && hit.until <= now) {
      this.map.delete(key.hash);
      return undefined;
    }
    return hit;
  }

  set(key: AnswerKey, bytes: Uint8Array, until: number, logical: number | undefined): void {
    // A colliding key simply takes the slot over.
    if (!this.map.has(key.hash) && this.map.size >= this.maxEntries) this.map.shift();
    this.map.set(key.hash, { bytes, until, logical, question: lowered(key.question), extra: key.extra });
  }

  clear(): void {
    this.map.clear();
  }
}
