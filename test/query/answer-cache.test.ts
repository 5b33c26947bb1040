// Tests for src/query/answer-cache.ts: key hashing (QNAME case folded, QTYPE not), collisions, expiry, bound.

import { describe, expect, it } from 'vitest';
import { AnswerCache, answerKey, type AnswerKey } from '../../src/query/answer-cache.js';
import { decodeQuery } from '../../src/wire/decode.js';
import type { Query } from '../../src/wire/message.js';
import { encodeQuery } from '../../src/wire/encode.js';
import { Flag } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';

function query(name: string, type: number, opts: { do?: boolean; rd?: boolean } = {}): { q: Query; question: Uint8Array } {
  const buf = encodeQuery({
    id: 1, flags: opts.rd ? Flag.RD : 0, question: { name: Name.parse(name), type, class: 1 },
    ...(opts.do ? { edns: { udpSize: 1232, do: true, options: [] } } : {}),
  });
  const d = decodeQuery(buf);
  if (d.kind !== 'query') throw new Error('not a query');
  return { q: d.query, question: buf.subarray(d.query.questionOffset, d.query.questionOffset + d.query.questionLength) };
}

function key(name: string, type: number, opts: { do?: boolean; rd?: boolean } = {}, maxSize = 1232, transport: 'udp' | 'tcp' = 'udp'): AnswerKey {
  const { q, question } = query(name, type, opts);
  return answerKey(q, question, maxSize, transport);
}

const bytes = (n: number): Uint8Array => new Uint8Array([n]);

describe('answerKey', () => {
  it('folds the case of QNAME letters only', () => {
    expect(key('WwW.Example.COM.', 1).hash).toBe(key('www.example.com.', 1).hash);
    // QTYPE 65 (0x0041) and 97 (0x0061): the type octets are not folded.
    expect(key('www.example.com.', 65).hash).not.toBe(key('www.example.com.', 97).hash);
  });

  it('separates DO, RD, size and transport', () => {
    const base = key('a.example.', 1);
    for (const other of [key('a.example.', 1, { do: true }), key('a.example.', 1, { rd: true }), key('a.example.', 1, {}, 512), key('a.example.', 1, {}, 1232, 'tcp')]) {
      expect(other.extra).not.toBe(base.extra);
      expect(other.hash).not.toBe(base.hash);
    }
  });
});

describe('AnswerCache', () => {
  it('hits regardless of QNAME case, misses on a hash collision with another question', () => {
    const c = new AnswerCache(10);
    const k = key('www.example.', 1);
    c.set(k, bytes(1), Infinity, undefined);
    expect(c.get(key('WWW.EXAMPLE.', 1), 0)?.bytes).toEqual(bytes(1));
    const collision: AnswerKey = { ...key('other.example.', 1), hash: k.hash };
    expect(c.get(collision, 0)).toBeUndefined();
    expect(c.get({ ...k, extra: k.extra + 1 }, 0)).toBeUndefined();
    // A colliding key takes the slot over.
    c.set(collision, bytes(2), Infinity, 3);
    expect(c.get(collision, 0)).toMatchObject({ bytes: bytes(2), logical: 3 });
    expect(c.get(k, 0)).toBeUndefined();
    expect(c.size).toBe(1);
  });

  it('drops an expired entry on lookup', () => {
    const c = new AnswerCache(10);
    const k = key('www.example.', 1);
    c.set(k, bytes(1), 1000, undefined);
    expect(c.get(k, 999)).toBeDefined();
    expect(c.get(k, 1000)).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('keeps at most maxEntries, dropping the oldest', () => {
    const c = new AnswerCache(3);
    const keys = ['a', 'b', 'c', 'd'].map((n) => key(`${n}.example.`, 1));
    keys.forEach((k, i) => c.set(k, bytes(i), Infinity, undefined));
    expect(c.size).toBe(3);
    expect(c.get(keys[0]!, 0)).toBeUndefined();
    expect(keys.slice(1).map((k) => c.get(k, 0)?.bytes[0])).toEqual([1, 2, 3]);
  });

  it('stores its own copy of the question (the request buffer may be reused)', () => {
    const c = new AnswerCache(3);
    const { q, question } = query('www.example.', 1);
    const k = answerKey(q, question, 1232, 'udp');
    c.set(k, bytes(7), Infinity, undefined);
    question.fill(0);
    expect(c.get(key('www.example.', 1), 0)?.bytes).toEqual(bytes(7));
  });
});
