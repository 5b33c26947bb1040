// Response rate limiting (src/query/rrl.ts): the ISC RRL bucket semantics with an explicit clock, prefixes, classes,
// slip, exemption, and one table shared by two limiters (as by two worker processes).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RateLimiter, RrlClass, rrlClassKey, RrlVerdict, RRL_ENTRIES, RRL_ENTRY, type RrlSettings } from '../../src/query/rrl.js';
import { mapSharedInt32, sharedMemoryUnavailable } from '../../src/server/native-shm.js';

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
