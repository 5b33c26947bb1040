// Tests for src/query/answer-cache.ts: key hashing (QNAME case folded, QTYPE not), collisions, expiry, bounds, and the
// admission of one-off answers on a repeat.

import { describe, expect, it } from 'vitest';
import { AnswerCache, answerKey, type AnswerKey } from '../../src/query/answer-cache.js';
import { peekPlainQuery } from '../../src/wire/decode.js';
import { encodeQuery } from '../../src/wire/encode.js';
import { Flag } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';

function query(name: string, type: number, opts: { do?: boolean; rd?: boolean; nsid?: boolean } = {}): Uint8Array {
  const buf = encodeQuery({
    id: 1, flags: opts.rd ? Flag.RD : 0, question: { name: Name.parse(name), type, class: 1 },
    ...(opts.do || opts.nsid ? { edns: { udpSize: 1232, do: opts.do === true, options: opts.nsid ? [{ code: 3, data: new Uint8Array(0) }] : [] } } : {}),
  });
  if (!peekPlainQuery(buf)) throw new Error('not a plain query');
  return buf;
}

function key(name: string, type: number, opts: { do?: boolean; rd?: boolean; nsid?: boolean } = {}, maxSize = 1232, transport: 'udp' | 'tcp' = 'udp'): AnswerKey {
  return answerKey(query(name, type, opts), maxSize, transport);
}

/** A stand-in encoded answer to `k`: a header whose first octet is `n`, then the question entry as the key has it. */
function bytes(n: number, k: AnswerKey): Uint8Array {
  const out = new Uint8Array(12 + k.question.length);
  out[0] = n;
  out.set(k.question, 12);
  return out;
}

describe('answerKey', () => {
  it('folds the case of QNAME letters only', () => {
    expect(key('WwW.Example.COM.', 1).hash).toBe(key('www.example.com.', 1).hash);
    // QTYPE 65 (0x0041) and 97 (0x0061): the type octets are not folded.
    expect(key('www.example.com.', 65).hash).not.toBe(key('www.example.com.', 97).hash);
  });

  it('separates DO, RD, NSID, size and transport', () => {
    const base = key('a.example.', 1);
    const others = [key('a.example.', 1, { do: true }), key('a.example.', 1, { rd: true }), key('a.example.', 1, { nsid: true }), key('a.example.', 1, {}, 512), key('a.example.', 1, {}, 1232, 'tcp')];
    expect(new Set(others.map((k) => k.extra)).size).toBe(others.length);
    for (const other of others) {
      expect(other.extra).not.toBe(base.extra);
      expect(other.hash).not.toBe(base.hash);
    }
  });
});

describe('AnswerCache', () => {
  it('hits regardless of QNAME case, misses on a hash collision with another question', () => {
    const c = new AnswerCache(10);
    const k = key('www.example.', 1);
    c.set(k, bytes(1, k), Infinity, undefined);
    expect(c.get(key('WWW.EXAMPLE.', 1), 0)?.bytes[0]).toBe(1);
    const collision: AnswerKey = { ...key('other.example.', 1), hash: k.hash };
    expect(c.get(collision, 0)).toBeUndefined();
    expect(c.get({ ...k, extra: k.extra + 1 }, 0)).toBeUndefined();
    // A colliding key takes the slot over.
    c.set(collision, bytes(2, collision), Infinity, 3);
    expect(c.get(collision, 0)).toMatchObject({ bytes: bytes(2, collision), logical: 3 });
    expect(c.get(k, 0)).toBeUndefined();
    expect(c.size).toBe(1);
  });

  it('drops an expired entry on lookup', () => {
    const c = new AnswerCache(10);
    const k = key('www.example.', 1);
    c.set(k, bytes(1, k), 1000, undefined);
    expect(c.get(k, 999)).toBeDefined();
    expect(c.get(k, 1000)).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('keeps at most maxEntries, dropping the oldest', () => {
    const c = new AnswerCache(3);
    const keys = ['a', 'b', 'c', 'd'].map((n) => key(`${n}.example.`, 1));
    keys.forEach((k, i) => c.set(k, bytes(i, k), Infinity, undefined));
    expect(c.size).toBe(3);
    expect(c.get(keys[0]!, 0)).toBeUndefined();
    expect(keys.slice(1).map((k) => c.get(k, 0)?.bytes[0])).toEqual([1, 2, 3]);
  });

  it('checks the question in the stored answer, not the request buffer it was stored from', () => {
    const c = new AnswerCache(3);
    const buf = query('www.example.', 1);
    const k = answerKey(buf, 1232, 'udp');
    c.set(k, bytes(7, k), Infinity, undefined);
    buf.fill(0);
    expect(c.get(key('www.example.', 1), 0)?.bytes[0]).toBe(7);
    // Same hash and inputs, but the stored answer is for another question: a miss.
    const other = key('www.example.', 1);
    c.set(other, bytes(8, key('xyz.example.', 1)), Infinity, undefined);
    expect(c.get(other, 0)).toBeUndefined();
  });

  it('stores a one-off answer on its second miss only, in a segment half the size of the main one', () => {
    const c = new AnswerCache(8);
    const k = key('nx.example.', 1);
    c.set(k, bytes(1, k), Infinity, undefined, true);
    expect(c.get(k, 0)).toBeUndefined();
    c.set(k, bytes(2, k), Infinity, 3, true);
    expect(c.get(k, 0)).toMatchObject({ bytes: bytes(2, k), logical: 3 });
    // Ten more one-off names, each missed twice: the segment keeps the newest four.
    const more = Array.from({ length: 10 }, (_, i) => key(`nx${i}.example.`, 1));
    for (const m of more) for (let n = 0; n < 2; n++) c.set(m, bytes(n, m), Infinity, undefined, true);
    expect(c.size).toBe(4);
    expect(more.map((m) => c.get(m, 0) !== undefined)).toEqual([...Array(6).fill(false), ...Array(4).fill(true)]);
  });

  it('a flood of names asked once evicts nothing and stores nothing', () => {
    const c = new AnswerCache(100);
    const real = key('www.example.', 1);
    c.set(real, bytes(1, real), Infinity, undefined);
    const again = key('nx.example.', 1);
    c.set(again, bytes(2, again), Infinity, undefined, true);
    c.set(again, bytes(2, again), Infinity, undefined, true);
    for (let i = 0; i < 5000; i++) {
      const k = key(`r${i}.example.`, 1);
      c.set(k, bytes(3, k), Infinity, undefined, true);
    }
    expect(c.size).toBe(2);
    expect(c.get(real, 0)?.bytes[0]).toBe(1);
    expect(c.get(again, 0)?.bytes[0]).toBe(2);
  });

  it('two one-off keys that share a table slot, asked in turn, both get in', () => {
    const c = new AnswerCache(100);
    const a = key('a.example.', 1);
    // The same low bits (the first slot), a different multiplicative hash (the second slot).
    const b: AnswerKey = { ...key('b.example.', 1), hash: a.hash ^ (1 << 29) };
    for (let round = 0; round < 4; round++) {
      c.set(a, bytes(1, a), Infinity, undefined, true);
      c.set(b, bytes(2, b), Infinity, undefined, true);
    }
    expect(c.get(a, 0)?.bytes[0]).toBe(1);
    expect(c.get(b, 0)?.bytes[0]).toBe(2);
  });
});
