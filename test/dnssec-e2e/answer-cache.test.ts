// The encoded-answer cache and signatures: signed (DO=1) answers leave the cache within an hour and never outlive
// their RRSIGs (fake clock through the real QueryEngine), unsigned answers stay until the next reload; plus the
// exact lifetimes signedAnswerExpiry computes; NXDOMAIN answers enter the cache only when asked again.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Name } from '../../src/wire/name.js';
import { RRType } from '../../src/wire/constants.js';
import { parseZoneText } from '../../src/zone/parser.js';
import { buildSnapshot } from '../../src/zone/snapshot.js';
import { ZoneSet, ZoneStore } from '../../src/zone/store.js';
import { QueryEngine } from '../../src/query/pipeline.js';
import type { Response } from '../../src/wire/response.js';
import { SignatureCache } from '../../src/dnssec/cache.js';
import { attachSigning, prepareZoneDnssec } from '../../src/dnssec/zone-keys.js';
import { parseRrsig, verifyRRsig } from '../../src/dnssec/rrsig.js';
import { SIGNED_ANSWER_MAX_AGE_MS, signedAnswerExpiry } from '../../src/dnssec/sign-stage.js';
import { buildQuery } from '../helpers/dig.js';
import { parseMessage, type ParsedMessage } from '../helpers/dnsmsg.js';
import { childZoneText } from './setup.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** A fixed start, on a whole hour (signature validity buckets are hours). */
const T0 = Date.UTC(2031, 0, 1, 0, 0, 0);
const CTX = { transport: 'udp', address: '127.0.0.1', port: 5300 } as const;

let dir = '';
let engine: QueryEngine;
let dnskeys: readonly Uint8Array[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'apexdns-answer-cache-'));
  const origin = Name.parse('c.test.');
  const prep = await prepareZoneDnssec(origin, { mode: 'live', state: 'active', denial: 'compact', keys: join(dir, 'keys'), validityDays: undefined }, new SignatureCache({ maxBytes: 1 << 20 }));
  const parsed = parseZoneText(childZoneText('c.test.'), 'z', { origin, zonesDir: dir });
  const built = buildSnapshot(origin, prep!.augment(parsed.records));
  if (!built.snapshot) throw new Error(built.diagnostics.map((d) => d.message).join('\n'));
  attachSigning(built.snapshot, prep!.signing!);
  dnskeys = built.snapshot.apex.rrsets.get(RRType.DNSKEY)!.rdata;
  const store = new ZoneStore();
  store.publish(new ZoneSet(new Map([[origin.key, { snapshot: built.snapshot, expired: false }]]), 1));
  engine = new QueryEngine(store, { udpSize: 1232, identity: {}, answerCacheEntries: 100 });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.useRealTimers();
});

function at(ms: number): void {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(ms);
}

function ask(name: string, type: string, dnssec: boolean): ParsedMessage {
  const out = engine.handle(buildQuery({ name, type, id: 7, edns: { udpSize: 1232, do: dnssec } }), CTX);
  if (!(out instanceof Uint8Array)) throw new Error('expected a synchronous single answer');
  return parseMessage(out);
}

/** [inception, expiration] of the answer's RRSIG (unix seconds). */
function sigTimes(m: ParsedMessage): [number, number] {
  const sig = m.answer.find((r) => r.type === RRType.RRSIG)!;
  const f = parseRrsig(sig.rdata);
  return [f.inception, f.expiration];
}

function counts(): [number, number] {
  return [engine.cacheHits, engine.cacheMisses];
}

describe('signed answers in the encoded-answer cache', () => {
  it('are reused for under an hour, re-made after it, and re-signed once the signature cache refreshes them', () => {
    const [h0, m0] = counts();
    at(T0);
    const first = ask('www.c.test.', 'A', true);
    const [inc0, exp0] = sigTimes(first);
    expect(inc0).toBe(T0 / 1000 - 3600);
    expect(counts()).toEqual([h0, m0 + 1]);

    at(T0 + 59 * 60_000);
    expect(sigTimes(ask('www.c.test.', 'A', true))).toEqual([inc0, exp0]);
    expect(counts()).toEqual([h0 + 1, m0 + 1]);

    // Past the one-hour cap: a cache miss (the signature itself still comes from the signature cache).
    at(T0 + HOUR + 1000);
    expect(sigTimes(ask('www.c.test.', 'A', true))).toEqual([inc0, exp0]);
    expect(counts()).toEqual([h0 + 1, m0 + 2]);

    // Six days on, the signature cache has re-made the RRSIG (refresh after 75% of validity, at most 5.6 days with
    // the ±12 h jitter): the answer carries the new one, not the bytes cached earlier.
    at(T0 + 6 * DAY);
    const later = ask('www.c.test.', 'A', true);
    const [inc1, exp1] = sigTimes(later);
    expect(inc1).toBe((T0 + 6 * DAY) / 1000 - 3600);
    expect(exp1).toBeGreaterThan(exp0);
    expect(counts()).toEqual([h0 + 1, m0 + 3]);

    // Past the first signature's expiration the served RRSIG is valid now, and verifies.
    const now = T0 + 8 * DAY;
    at(now);
    const last = ask('www.c.test.', 'A', true);
    const sig = last.answer.find((r) => r.type === RRType.RRSIG)!;
    const a = last.answer.find((r) => r.type === RRType.A)!;
    const rrset = { owner: Name.parse('www.c.test.'), type: RRType.A, class: 1, ttl: a.ttl, rdata: [a.rdata] };
    expect(dnskeys.some((k) => verifyRRsig(rrset, sig.rdata, k, { now: now / 1000 }))).toBe(true);
    expect(dnskeys.some((k) => verifyRRsig(rrset, first.answer.find((r) => r.type === RRType.RRSIG)!.rdata, k, { now: now / 1000 }))).toBe(false);
  });

  it('NODATA answers (compact NSEC + SOA signatures) follow the same cap', () => {
    at(T0);
    ask('www.c.test.', 'TXT', true);
    const [h, m] = counts();
    at(T0 + 30 * 60_000);
    ask('www.c.test.', 'TXT', true);
    expect(counts()).toEqual([h + 1, m]);
    at(T0 + HOUR);
    ask('www.c.test.', 'TXT', true);
    expect(counts()).toEqual([h + 1, m + 1]);
  });

  it('NXDOMAIN answers are cached from their second miss on; a flood of unique names stays out of the cache', () => {
    at(T0);
    ask('www.c.test.', 'A', false);
    const [h, m] = counts();
    for (const dnssec of [true, false]) {
      ask('nope.c.test.', 'A', dnssec);
      // The second miss is stored; the third ask gets those very bytes (its fresh compact-denial RRSIG included).
      const stored = ask('nope.c.test.', 'A', dnssec);
      const again = ask('nope.c.test.', 'A', dnssec);
      expect(again.authority.map((r) => r.rdataKey)).toEqual(stored.authority.map((r) => r.rdataKey));
      expect(again.authority.length).toBe(dnssec ? 4 : 1);
    }
    expect(counts()).toEqual([h + 2, m + 4]);
    // Six hundred names asked once each (the engine caches 100 answers and 50 repeats): none is stored, and
    // neither the real name nor the repeated NXDOMAIN is pushed out.
    for (let i = 0; i < 600; i++) ask(`r${i}.c.test.`, 'A', true);
    expect(counts()).toEqual([h + 2, m + 604]);
    ask('www.c.test.', 'A', false);
    ask('nope.c.test.', 'A', true);
    ask('nope.c.test.', 'A', false);
    expect(counts()).toEqual([h + 5, m + 604]);
  });

  it('unsigned (DO=0) answers stay cached until the zone set changes', () => {
    at(T0);
    ask('www.c.test.', 'AAAA', false);
    const [h, m] = counts();
    at(T0 + 30 * DAY);
    const again = ask('www.c.test.', 'AAAA', false);
    expect(again.answer.map((r) => r.type)).toEqual([]);
    expect(counts()).toEqual([h + 1, m]);
  });
});

describe('signedAnswerExpiry', () => {
  const owner = Name.parse('c.test.');
  const rrsigWith = (expiration: number): Uint8Array => {
    const rd = new Uint8Array(18 + owner.wireLength + 64);
    new DataView(rd.buffer).setUint32(8, expiration >>> 0);
    return rd;
  };
  const response = (expirations: readonly number[]): Response => ({
    rcode: 0,
    aa: true,
    answer: [{ owner, type: RRType.A, class: 1, ttl: 300, rdata: [new Uint8Array([192, 0, 2, 1])] }],
    authority: expirations.map((e) => ({ owner, type: RRType.RRSIG, class: 1, ttl: 300, rdata: [rrsigWith(e)] })),
    additional: [],
  });
  const now = T0;
  const nowSec = T0 / 1000;

  it('Infinity without RRSIGs; otherwise one hour, or an hour before the earliest expiration', () => {
    expect(signedAnswerExpiry(response([]), now)).toBe(Infinity);
    expect(SIGNED_ANSWER_MAX_AGE_MS).toBe(HOUR);
    expect(signedAnswerExpiry(response([nowSec + 7 * 86400]), now)).toBe(now + HOUR);
    expect(signedAnswerExpiry(response([nowSec + 7 * 86400, nowSec + 5400]), now)).toBe(now + 1800_000);
    // Expiring within the hour (pre-signed data near its end): not cacheable.
    expect(signedAnswerExpiry(response([nowSec + 1800]), now)).toBe(now - 1800_000);
    expect(signedAnswerExpiry(response([nowSec - 10]), now)).toBe(now - 3610_000);
  });

  it('reads RRSIG times as 32-bit serial numbers (RFC 4034 §3.1.5)', () => {
    const late = (2 ** 32 - 1000) * 1000;
    // 6000 s after `late`, wrapped past 2^32.
    expect(signedAnswerExpiry(response([5000]), late)).toBe((2 ** 32 - 1000 + 2400) * 1000);
  });
});
