// Cache of encoded answers, keyed by a hash of the question bytes plus everything else that shapes the answer.

import { EdnsFlag, Flag } from '../wire/constants.js';
import { plainQuery } from '../wire/decode.js';
import { foldOctet } from '../wire/name.js';
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
  /** `extra` of the key; it and the question entry in `bytes` are checked on every hit (the hash may collide). */
  readonly extra: number;
}

/** Octet `i` of a question entry, folded to lower case inside the QNAME (before `nameEnd`; RFC 4343). */
function folded(q: Uint8Array, i: number, nameEnd: number): number {
  return i < nameEnd ? foldOctet(q[i]!) : q[i]!;
}

/**
 * The key of the plain query in `buf` that peekPlainQuery just accepted (its findings are in `plainQuery`),
 * answered within `maxSize` octets over `transport`. The question entry is a view of `buf`.
 */
export function answerKey(buf: Uint8Array, maxSize: number, transport: 'udp' | 'tcp'): AnswerKey {
  let bits = ((buf[2]! << 8) | buf[3]!) & (Flag.RD | Flag.CD);
  if (plainQuery.edns) {
    bits |= 1;
    if (plainQuery.ednsFlags & EdnsFlag.DO) bits |= 2;
    if (plainQuery.ednsFlags & EdnsFlag.CO) bits |= 4;
    if (plainQuery.nsid) bits |= 8;
  }
  if (transport === 'tcp') bits |= 64;
  const extra = bits + maxSize * 0x10000;
  const question = buf.subarray(12, plainQuery.questionEnd);
  // FNV-1a over the question, ASCII letters of the QNAME folded (RFC 4343: names compare case-insensitively);
  // QTYPE and QCLASS (the last 4 octets) as they are. Kept to 30 bits: a small integer is V8's cheapest Map key.
  const nameEnd = question.length - 4;
  let h = 0x811c9dc5 ^ extra;
  for (let i = 0; i < question.length; i++) h = Math.imul(h ^ folded(question, i, nameEnd), 0x01000193);
  return { hash: h & 0x3fffffff, extra, question };
}

/** True when the question entry of the encoded answer `bytes` is `q` up to the case of QNAME letters. */
function sameQuestion(bytes: Uint8Array, q: Uint8Array): boolean {
  const n = q.length;
  if (bytes.length < 12 + n) return false;
  const nameEnd = n - 4;
  for (let i = 0; i < n; i++) if (folded(bytes, 12 + i, 12 + nameEnd) !== folded(q, i, nameEnd)) return false;
  return true;
}

/**
 * Encoded answers, at most `maxEntries`, the oldest dropped first. Keyed by a 32-bit hash (a number key costs V8 a
 * fraction of a string key's lookup on a big Map); each hit is checked against the question in the stored answer.
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
    if (hit === undefined || hit.extra !== key.extra || !sameQuestion(hit.bytes, key.question)) return undefined;
    if (hit.until !== Infinity && hit.until <= now) {
      this.map.delete(key.hash);
      return undefined;
    }
    return hit;
  }

  set(key: AnswerKey, bytes: Uint8Array, until: number, logical: number | undefined): void {
    // A colliding key simply takes the slot over.
    if (!this.map.has(key.hash) && this.map.size >= this.maxEntries) this.map.shift();
    // An own copy: encoded messages are views into a shared slab (src/wire/encode.ts carve), and a cached answer
    // lives long.
    this.map.set(key.hash, { bytes: bytes.slice(), until, logical, extra: key.extra });
  }

  clear(): void {
    this.map.clear();
  }
}
