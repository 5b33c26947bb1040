// Response rate limiting (src/query/rrl.ts): the ISC RRL bucket semantics with an explicit clock, prefixes, classes,
// slip, exemption, and one table shared by two limiters (as by two worker processes).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RateLimiter, RrlClass, rrlClassKey, RrlVerdict, RRL_ENTRIES, RRL_ENTRY, type RrlSettings } from '../../src/query/rrl.js';
import { mapSharedInt32, sharedMemoryUnavailable } from '../../src/server/native-shm.js';
import { QueryEngine } from '../../src/query/pipeline.js';
import { Name } from '../../src/wire/name.js';
import { ZoneSet, ZoneStore } from '../../src/zone/store.js';
import { buildQuery } from '../helpers/dig.js';
import { parseMessage } from '../helpers/dnsmsg.js';
import { zoneFromText } from './zone-helper.js';

const v4 = (a: string): Uint8Array => Uint8Array.from(a.split('.').map(Number));
const WWW = rrlClassKey(RrlClass.Answer, 'www.example.', 1);
const T0 = 1_800_000_000;

function limiter(over: Partial<RrlSettings> = {}, table: Int32Array<ArrayBufferLike> = new Int32Array(RRL_ENTRIES * RRL_ENTRY)): RateLimiter {
  return new RateLimiter({ responsesPerSecond: 20, window: 15, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56, exempt: () => false, table, ...over });
}

/** `perSecond` responses per second for `seconds` seconds: how many were sent, slipped, dropped. */
function flood(l: RateLimiter, ip: Uint8Array, key: number, perSecond: number, seconds: number, start = T0): Record<'sent' | 'slipped' | 'dropped', number> {
  const out = { sent: 0, slipped: 0, dropped: 0 };
  for (let s = 0; s < seconds; s++) {
    for (let i = 0; i < perSecond; i++) {
      const v = l.check(ip, key, start + s);
      if (v === RrlVerdict.Send) out.sent++;
      else if (v === RrlVerdict.Slip) out.slipped++;
      else out.dropped++;
    }
  }
  return out;
}

describe('response rate limiting', () => {
  it('5000 queries/s for one name for 3 s: at most rate × (3 + 1) answers, about half of the rest truncated (slip 2)', () => {
    const l = limiter();
    const r = flood(l, v4('192.0.2.1'), WWW, 5000, 3);
    expect(r.sent).toBeGreaterThanOrEqual(20);
    expect(r.sent).toBeLessThanOrEqual(20 * 4);
    expect(r.sent + r.slipped + r.dropped).toBe(15000);
    expect(Math.abs(r.slipped - r.dropped)).toBeLessThanOrEqual(1);
  });

  it('a second source at a low rate is unaffected, and so is another name or class from the flooding source', () => {
    const l = limiter();
    flood(l, v4('192.0.2.1'), WWW, 5000, 1);
    expect(flood(l, v4('198.51.100.7'), WWW, 5, 3, T0).sent).toBe(15);
    expect(flood(l, v4('192.0.2.1'), rrlClassKey(RrlClass.Answer, 'mail.example.', 1), 10, 1, T0).sent).toBe(10);
    expect(flood(l, v4('192.0.2.1'), rrlClassKey(RrlClass.Answer, 'www.example.', 28), 10, 1, T0).sent).toBe(10);
  });

  it('NXDOMAIN/NODATA share one bucket per zone, referrals one per delegation; the prefix is /24 (IPv4) and /56 (IPv6)', () => {
    const l = limiter();
    const zone = rrlClassKey(RrlClass.Negative, 'example.', 0);
    // Random names: the same bucket, so 21 of them from one /24 exceed a rate of 20.
    expect(flood(l, v4('192.0.2.1'), zone, 20, 1).sent).toBe(20);
    expect(l.check(v4('192.0.2.200'), zone, T0)).not.toBe(RrlVerdict.Send);
    expect(l.check(v4('192.0.3.1'), zone, T0)).toBe(RrlVerdict.Send);
    const a = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0x01, ...new Array<number>(8).fill(0)]);
    const sameSlash56 = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0xff, ...new Array<number>(8).fill(9)]);
    const other = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, 0, 0, 1, 0, ...new Array<number>(8).fill(0)]);
    expect(flood(l, a, zone, 20, 1).sent).toBe(20);
    expect(l.check(sameSlash56, zone, T0)).not.toBe(RrlVerdict.Send);
    expect(l.check(other, zone, T0)).toBe(RrlVerdict.Send);
    expect(rrlClassKey(RrlClass.Referral, 'sub.example.', 0)).not.toBe(rrlClassKey(RrlClass.Referral, 'other.example.', 0));
  });

  it('a flooder is served again once its average over the window falls below the rate', () => {
    const l = limiter({ window: 5 });
    flood(l, v4('192.0.2.1'), WWW, 5000, 2);
    // Debt is capped at window × rate = 100; it takes 5 s of silence (+1 s of credit) to answer again.
    expect(l.check(v4('192.0.2.1'), WWW, T0 + 3)).not.toBe(RrlVerdict.Send);
    expect(l.check(v4('192.0.2.1'), WWW, T0 + 8)).toBe(RrlVerdict.Send);
  });

  it('slip 0 drops every limited response, slip 1 truncates every one; exempt clients are never limited', () => {
    expect(flood(limiter({ slip: 0 }), v4('192.0.2.1'), WWW, 100, 1).slipped).toBe(0);
    expect(flood(limiter({ slip: 1 }), v4('192.0.2.1'), WWW, 100, 1)).toEqual({ sent: 20, slipped: 80, dropped: 0 });
    expect(flood(limiter({ exempt: (ip) => ip[0] === 192 }), v4('192.0.2.1'), WWW, 1000, 1).sent).toBe(1000);
  });

  it.skipIf(sharedMemoryUnavailable() !== '')('two limiters on one shared table limit a flood spread over them as one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'apexdns-rrl-'));
    try {
      const path = join(dir, 'table');
      const a = limiter({}, mapSharedInt32(path, RRL_ENTRIES * RRL_ENTRY)!);
      const b = limiter({}, mapSharedInt32(path, RRL_ENTRIES * RRL_ENTRY)!);
      let sent = 0;
      for (let s = 0; s < 3; s++) for (let i = 0; i < 2000; i++) if ((i % 2 === 0 ? a : b).check(v4('192.0.2.1'), WWW, T0 + s) === RrlVerdict.Send) sent++;
      expect(sent).toBeGreaterThanOrEqual(20);
      expect(sent).toBeLessThanOrEqual(20 * 4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rate limiting in the query pipeline', () => {
  const origin = Name.parse('example.');
  const store = new ZoneStore();
  store.publish(new ZoneSet(new Map([[origin.key, { snapshot: zoneFromText('example.', '@ 300 SOA ns h 1 2 3 4 5\n@ 300 NS ns\nns 300 A 192.0.2.1\n'), expired: false }]]), 1));
  const secret = new Uint8Array(16).fill(3);
  const engine = (): QueryEngine => new QueryEngine(store, { udpSize: 1232, identity: {}, answerCacheEntries: 100, cookies: { secrets: [secret], require: false }, rrl: limiter({ responsesPerSecond: 3, slip: 2 }) });
  const udp = { transport: 'udp', address: '192.0.2.9', port: 1 } as const;

  it('answers the rate, then drops and slips (TC=1, question echoed, OPT kept), from the cache too; TCP never', () => {
    const e = engine();
    const q = buildQuery({ name: 'ns.example', type: 'A', id: 4, edns: { udpSize: 1232, do: true } });
    const got = Array.from({ length: 9 }, () => e.handle(q, udp));
    expect(got.slice(0, 3).every((r) => r instanceof Uint8Array && parseMessage(r).answer.length === 1)).toBe(true);
    const limited = got.slice(3);
    expect(limited.filter((r) => r === null).length).toBe(3);
    const slipped = limited.filter((r): r is Uint8Array => r instanceof Uint8Array).map((r) => parseMessage(r));
    expect(slipped.length).toBe(3);
    for (const m of slipped) {
      expect(m.flags & 0x0200).toBe(0x0200);
      expect(m.id).toBe(4);
      expect(m.question.map((x) => x.name)).toEqual(['ns.example.']);
      expect([m.answer.length, m.authority.length]).toEqual([0, 0]);
      expect(m.opt?.flags).toBe(0x8000);
    }
    const tcp = e.handle(q, { ...udp, transport: 'tcp' });
    expect(parseMessage(tcp as Uint8Array).answer.length).toBe(1);
  });

  it('a valid server cookie exempts the client', () => {
    const e = engine();
    const first = parseMessage(e.handle(buildQuery({ name: 'ns.example', type: 'A', id: 5, edns: { udpSize: 1232, do: false, options: [{ code: 10, data: new Uint8Array(8).fill(1) }] } }), udp) as Uint8Array);
    const cookie = first.opt!.options.find((o) => o.code === 10)!.data;
    for (let i = 0; i < 20; i++) {
      const r = e.handle(buildQuery({ name: 'ns.example', type: 'A', id: 6, edns: { udpSize: 1232, do: false, options: [{ code: 10, data: cookie }] } }), udp);
      expect(r instanceof Uint8Array && parseMessage(r).answer.length).toBe(1);
    }
  });

  it('a slipped FORMERR without a question is still a well-formed message (QDCOUNT 0; found by npm run fuzz)', () => {
    const e = engine();
    // A header whose question is cut off: FORMERR with no question to echo.
    const bad = Uint8Array.from([0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 0x77]);
    const out = Array.from({ length: 8 }, () => e.handle(bad, udp)).filter((r): r is Uint8Array => r instanceof Uint8Array);
    for (const r of out) expect(() => parseMessage(r)).not.toThrow();
    expect(out.some((r) => (r[2]! & 0x02) !== 0)).toBe(true);
  });
});
