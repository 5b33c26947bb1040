// Cache of encoded answers, keyed by a hash of the question bytes plus everything else that shapes the answer.

import { EdnsFlag, Flag } from '../wire/constants.js';
import { plainQuery } from '../wire/decode.js';
import { foldOctet } from '../wire/name.js';
import { FifoMap } from '../util/fifo-map.js';

/** What a cached answer is looked up by: the question entry as received (QNAME case ignored) and the other inputs. */
export interface AnswerKey {
  readonly hash: number;
  /** RD/CD (their header bits), EDNS presence, DO, CO, NSID, COOKIE, TCP (bits 0–15) and the size limit (bits 16+). */
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
  /** The response-rate-limit bucket key of the answer's class (src/query/rrl.ts rrlClassKey). */
  readonly rrl: number;
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
    // Answers to a COOKIE request end with our COOKIE option, patched per request (src/query/pipeline.ts).
    if (plainQuery.cookieAt >= 0) bits |= 32;
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
 * Encoded answers in two FIFO segments, keyed by a 32-bit hash (a number key costs V8 a fraction of a string key's
 * lookup on a big Map); each hit is checked against the question in the stored answer.
 *
 * - `main`, at most `maxEntries`: answers about names that exist in the zone data.
 * - `repeats`, at most half as many: one-off answers (NXDOMAIN, wildcard expansions), admitted only when the same key
 *   missed before while its mark was still in `seen`, a table of recent one-off keys where each key may sit in one
 *   of two slots (the slot written alternates, so two keys sharing a slot cannot keep pushing each other out). A
 *   random-subdomain flood never asks a name twice, so it costs one table write per query and evicts nothing, while
 *   resolvers re-asking the same nonexistent names are answered from the cache.
 */
export class AnswerCache {
  private readonly main = new FifoMap<number, CachedAnswer>();
  private readonly repeats = new FifoMap<number, CachedAnswer>();
  private readonly repeatEntries: number;
  /** `hash + 1` of recent one-off misses (0: empty slot). */
  private readonly seen: Int32Array;
  private flip = 0;

  constructor(private readonly maxEntries: number) {
    this.repeatEntries = maxEntries > 0 ? Math.max(1, maxEntries >>> 1) : 0;
    // Four slots per entry of the segment, rounded up to a power of two, at most 4 Mi slots (16 MiB).
    let slots = 2;
    while (slots < 4 * this.repeatEntries && slots < 1 << 22) slots *= 2;
    this.seen = new Int32Array(slots);
  }

  get size(): number {
    return this.main.size + this.repeats.size;
  }

  /** The answer for `key` if one is cached and still valid at `now` (ms); an expired one is dropped. */
  get(key: AnswerKey, now: number): CachedAnswer | undefined {
    return lookup(this.main, key, now) ?? (this.repeats.size > 0 ? lookup(this.repeats, key, now) : undefined);
  }

  /** Store an answer; a `oneOff` answer is stored only on its key's second miss (see the class comment). */
  set(key: AnswerKey, bytes: Uint8Array, until: number, logical: number | undefined, oneOff = false, rrl = 0): void {
    let segment = this.main;
    let limit = this.maxEntries;
    if (oneOff) {
      const mark = key.hash + 1;
      const mask = this.seen.length - 1;
      const a = key.hash & mask;
      const b = (Math.imul(key.hash, 0x9e3779b1) >>> 7) & mask;
      if (this.seen[a] === mark) this.seen[a] = 0;
      else if (this.seen[b] === mark) this.seen[b] = 0;
      else {
        this.seen[(this.flip ^= 1) === 0 ? a : b] = mark;
        return;
      }
      segment = this.repeats;
      limit = this.repeatEntries;
    }
    // A colliding key simply takes the slot over.
    if (!segment.has(key.hash) && segment.size >= limit) segment.shift();
    // An own copy: encoded messages are views into a shared slab (src/wire/encode.ts carve), and a cached answer
    // lives long.
    segment.set(key.hash, { bytes: bytes.slice(), until, logical, extra: key.extra, rrl });
  }

  clear(): void {
    this.main.clear();
    this.repeats.clear();
    this.seen.fill(0);
  }
}

/** The valid entry for `key` in `segment` at `now`, dropping it when expired. */
function lookup(segment: FifoMap<number, CachedAnswer>, key: AnswerKey, now: number): CachedAnswer | undefined {
  const hit = segment.get(key.hash);
  if (hit === undefined || hit.extra !== key.extra || !sameQuestion(hit.bytes, key.question)) return undefined;
  if (hit.until !== Infinity && hit.until <= now) {
    segment.delete(key.hash);
    return undefined;
  }
  return hit;
}
