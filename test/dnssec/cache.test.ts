// Tests for src/dnssec/cache.ts, validity.ts and signer.ts: CLOCK eviction within the byte budget, refresh threshold, validity windows.

import { describe, expect, it } from 'vitest';
import { SignatureCache, signatureCacheKey } from '../../src/dnssec/cache.js';
import { canonicalRRset } from '../../src/dnssec/canonical.js';
import { generateKey } from '../../src/dnssec/keys.js';
import { parseRrsig, verifyRRsig } from '../../src/dnssec/rrsig.js';
import { ZoneSigner } from '../../src/dnssec/signer.js';
import { ValidityPolicy, signatureTimes } from '../../src/dnssec/validity.js';
import { RRType } from '../../src/wire/constants.js';
import { Name } from '../../src/wire/name.js';
import { hex } from './vectors.js';

const DAY = 86400;

describe('SignatureCache', () => {
  const sig = (n: number): Uint8Array => new Uint8Array(100).fill(n);

  it('hits, misses and hitRate', () => {
    const c = new SignatureCache({ maxBytes: 1 << 20 });
    expect(c.get('k', 1000)).toBeUndefined();
    c.set('k', sig(1), 0, 8 * DAY);
    expect(c.get('k', 1000)).toEqual(sig(1));
    expect(c.get('k', 2000)).toEqual(sig(1));
    expect([c.hits, c.misses]).toEqual([2, 1]);
    expect(c.hitRate()).toBeCloseTo(2 / 3, 10);
    expect(c.bytes).toBe(1 + 100 + 160);
  });

  it('an entry with less than 25% of its validity left is a miss and is dropped', () => {
    const c = new SignatureCache({ maxBytes: 1 << 20 });
    c.set('k', sig(1), 0, 8 * DAY); // refresh from day 6
    expect(c.get('k', 6 * DAY - 1)).toBeDefined();
    expect(c.get('k', 6 * DAY)).toBeUndefined();
    expect(c.size).toBe(0);
    expect(c.bytes).toBe(0);
  });

  it('minRemaining raises the refresh point', () => {
    const c = new SignatureCache({ maxBytes: 1 << 20, minRemaining: 3 * DAY });
    c.set('k', sig(1), 0, 8 * DAY);
    expect(c.get('k', 5 * DAY - 1)).toBeDefined();
    expect(c.get('k', 5 * DAY)).toBeUndefined();
  });

  it('evicts least recently used entries to stay within the byte budget', () => {
    const c = new SignatureCache({ maxBytes: 3 * 261 });
    c.set('a', sig(1), 0, 8 * DAY);
    c.set('b', sig(2), 0, 8 * DAY);
    c.set('c', sig(3), 0, 8 * DAY);
    expect(c.get('a', 10)).toBeDefined(); // a is now most recent; b is the LRU
    c.set('d', sig(4), 0, 8 * DAY);
    expect(c.evictions).toBe(1);
    expect(c.get('b', 10)).toBeUndefined();
    expect(c.get('a', 10)).toBeDefined();
    expect(c.get('c', 10)).toBeDefined();
    expect(c.get('d', 10)).toBeDefined();
    expect(c.bytes).toBe(3 * 261);
    expect(c.stats()).toMatchObject({ entries: 3, evictions: 1, bytes: 783 });
  });

  it('CLOCK: referenced entries get a second round; with all referenced, the oldest goes after one sweep', () => {
    const c = new SignatureCache({ maxBytes: 3 * 261 });
    for (const k of ['a', 'b', 'c']) c.set(k, sig(1), 0, 8 * DAY);
    for (const k of ['a', 'b', 'c']) expect(c.get(k, 10)).toBeDefined();
    c.set('d', sig(4), 0, 8 * DAY); // a, b, c all referenced: their bits are cleared, then a (the oldest) goes
    expect(c.evictions).toBe(1);
    expect(c.get('a', 10)).toBeUndefined();
    c.set('e', sig(5), 0, 8 * DAY); // b and c were passed once already and not hit since: b goes
    expect(c.get('b', 10)).toBeUndefined();
    expect([c.get('c', 10), c.get('d', 10), c.get('e', 10)].every((x) => x !== undefined)).toBe(true);
    expect(c.bytes).toBe(3 * 261);
  });

  it('replacing a key keeps the byte count exact', () => {
    const c = new SignatureCache({ maxBytes: 10_000 });
    c.set('k', sig(1), 0, 8 * DAY);
    c.set('k', new Uint8Array(50), 0, 8 * DAY);
    expect(c.bytes).toBe(1 + 50 + 160);
    expect(c.size).toBe(1);
  });

  it('cache keys separate type, TTL, rdata, key tag and signer, and share wildcard expansions', () => {
    const z = Name.parse('example.');
    const mk = (owner: string, ttl: number, rd: string, labels?: number) =>
      canonicalRRset({ owner: Name.parse(owner), type: RRType.A, class: 1, ttl, rdata: [hex(rd)] }, labels);
    const base = signatureCacheKey(mk('a.example.', 60, 'c0000201'), 1, z);
    expect(signatureCacheKey(mk('A.Example.', 60, 'c0000201'), 1, z)).toBe(base);
    expect(signatureCacheKey(mk('a.example.', 61, 'c0000201'), 1, z)).not.toBe(base);
    expect(signatureCacheKey(mk('a.example.', 60, 'c0000202'), 1, z)).not.toBe(base);
    expect(signatureCacheKey(mk('a.example.', 60, 'c0000201'), 2, z)).not.toBe(base);
    expect(signatureCacheKey(mk('a.example.', 60, 'c0000201'), 1, Name.parse('other.'))).not.toBe(base);
    expect(signatureCacheKey(mk('x.example.', 60, 'c0000201', 1), 1, z)).toBe(signatureCacheKey(mk('y.example.', 60, 'c0000201', 1), 1, z));
  });
});

describe('signatureTimes', () => {
  const now = 1_800_000_123;
  it('inception an hour before the bucket start, expiration 7 days ± 12 h after it', () => {
    const t = signatureTimes(now, Name.parse('www.example.').key, RRType.A);
    const start = 1_800_000_000;
    expect(t.inception).toBe(start - 3600);
    expect(t.expiration).toBeGreaterThanOrEqual(start + 7 * DAY - 12 * 3600);
    expect(t.expiration).toBeLessThanOrEqual(start + 7 * DAY + 12 * 3600);
  });
  it('is stable within a bucket and differs between RRsets', () => {
    const k = Name.parse('www.example.').key;
    expect(signatureTimes(now, k, RRType.A)).toEqual(signatureTimes(now + 1000, k, RRType.A));
    const exps = new Set<number>();
    for (let i = 0; i < 50; i++) exps.add(signatureTimes(now, Name.parse(`h${i}.example.`).key, RRType.A).expiration);
    expect(exps.size).toBeGreaterThan(45);
  });
  it('no jitter: exactly bucket start + validity', () => {
    expect(signatureTimes(now, 'x', 1, { jitter: 0, validity: 1000, bucket: 100, inceptionOffset: 10 })).toEqual({ inception: now - 23 - 10, expiration: now - 23 + 1000 });
  });
  it('rejects jitter >= validity/2', () => {
    expect(() => new ValidityPolicy({ validity: 100, jitter: 50 })).toThrow(/validity options/);
  });
});

describe('ZoneSigner', () => {
  const zone = Name.parse('example.');
  const ksk = generateKey(zone, 'ksk');
  const zsk = generateKey(zone, 'zsk');
  const now = 1_800_000_000;

  it('uses the cache, the right key, and signatures that verify at now', () => {
    const cache = new SignatureCache({ maxBytes: 1 << 20 });
    const s = new ZoneSigner(zone, { ksk, zsk }, { cache });
    const rrset = { owner: Name.parse('www.example.'), type: RRType.A, class: 1, ttl: 300, rdata: [hex('c0000201')] };
    const set = canonicalRRset(rrset);
    const r1 = s.sign(set, now);
    const r2 = s.sign(set, now + 60);
    expect(r2).toBe(r1);
    expect([cache.hits, cache.misses]).toEqual([1, 1]);
    expect(parseRrsig(r1).keyTag).toBe(zsk.tag);
    expect(verifyRRsig(rrset, r1, zsk.dnskeyRdata, { now })).toBe(true);
    const dk = { owner: zone, type: RRType.DNSKEY, class: 1, ttl: 3600, rdata: [ksk.dnskeyRdata, zsk.dnskeyRdata] };
    const r3 = s.signRRset(dk, now);
    expect(parseRrsig(r3).keyTag).toBe(ksk.tag);
    expect(verifyRRsig(dk, r3, ksk.dnskeyRdata, { now })).toBe(true);
    s.signRRset(rrset, now, undefined, false);
    expect(cache.size).toBe(2);
  });
});
